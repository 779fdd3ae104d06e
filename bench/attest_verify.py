#!/usr/bin/env python3
"""Benchmark: ``verify-attestation`` latency over 1,000 attestations (median and p99).

Usage: ``.venv/bin/python bench/attest_verify.py [--count 1000] [--registry]`` from the repository root.

1. In-process, OCI layout: 1,000 images' worth of attestations is modelled as 1,000 verifications of one
   image whose ``.att`` tag holds one DSSE envelope (warm page cache): each call resolves the image, reads the
   ``.att`` manifest and envelope, verifies the ECDSA signature, parses the statement, validates the SLSA v1
   predicate and checks the subject.
2. Envelope only: 1,000 distinct envelopes (distinct subjects) through ``check_envelope``: the crypto and
   parsing cost without storage.
3. ``--registry``: the same as (1) against a local ``docker-registry`` started here, with a warm client
   (one HTTP connection reused) and, for 50 calls, a new client per call (TLS context and scheme probe
   each time, as one CLI invocation pays); plus one manifest GET round-trip for comparison.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))

from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from lockgate.attest.create import attest_image  # noqa: E402
from lockgate.attest.dsse import IN_TOTO_PAYLOAD_TYPE, sign_envelope  # noqa: E402
from lockgate.attest.statement import make_statement  # noqa: E402
from lockgate.attest.verify import check_envelope, verify_attestations  # noqa: E402
from lockgate.trust.keys.files import FileSigner  # noqa: E402

SLSA = REPO.parent / "shared/corpus/intoto/slsa-predicates/slsa_predicate_v1_0.json"


def stats(name: str, samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    p99 = s[min(len(s) - 1, int(len(s) * 0.99))]
    med = statistics.median(s)
    print(f"{name:<44} n={len(s):5d}  median {med * 1000:7.2f} ms  p99 {p99 * 1000:7.2f} ms")
    return {"median_ms": round(med * 1000, 3), "p99_ms": round(p99 * 1000, 3), "n": len(s)}


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--registry", action="store_true", help="Also measure against a local docker-registry.")
    args = ap.parse_args()
    from tests.fixtures.registry import build_oci_image

    signer = FileSigner(ec.generate_private_key(ec.SECP256R1()), "bench")
    pub = signer.public_key
    predicate = SLSA.read_bytes()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="lockgate-bench-") as tmp:
        layout = build_oci_image(Path(tmp) / "img", [{"etc/app.conf": b"x=1\n"}], "v1")
        ref = f"oci:{layout.path}:v1"
        attest_image(ref, predicate, "slsaprovenance1", [signer])

        def one() -> None:
            r = verify_attestations(ref, [pub], predicate_type="https://slsa.dev/provenance/v1")
            assert r.passed, r.failure_reason()

        timed(one, 20)  # warm-up
        results["layout"] = stats("verify_attestations (OCI layout, in-process)", timed(one, args.count))

        envs = []
        for i in range(args.count):
            digest = f"{i:064x}"
            st = make_statement([(f"img{i}", {"sha256": digest})], "https://slsa.dev/provenance/v1",
                                json.loads(predicate))  # fmt: skip
            envs.append((f"sha256:{digest}", sign_envelope(IN_TOTO_PAYLOAD_TYPE, st, [signer]).to_json()))
        samples = []
        for digest, data in envs:
            t = time.perf_counter()
            c = check_envelope(data, digest, [pub], predicate_type="https://slsa.dev/provenance/v1")
            samples.append(time.perf_counter() - t)
            assert c.ok, c.reason
        results["envelope"] = stats("check_envelope (1,000 distinct envelopes)", samples)

        if args.registry:
            from tests.fixtures.registry import start_registry, stop_process

            proc, reg = start_registry(Path(tmp) / "reg", "plain")
            try:
                repo = "bench/attest"
                subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", f"oci:{layout.path}:v1",
                                f"docker://{reg.ref(repo, 'v1')}"], check=True)  # fmt: skip
                rref = reg.ref(repo, "v1")
                attest_image(rref, predicate, "slsaprovenance1", [signer], options=reg.options())

                from lockgate.oci.registry.client import RegistryClient

                def remote() -> None:
                    r = verify_attestations(rref, [pub], predicate_type="https://slsa.dev/provenance/v1",
                                            options=reg.options())  # fmt: skip
                    assert r.passed, r.failure_reason()

                results["registry_cold"] = stats("verify_attestations (registry, new client)", timed(remote, 50))
                with RegistryClient(reg.host, reg.options()) as client:

                    def warm() -> None:
                        r = verify_attestations(rref, [pub], predicate_type="https://slsa.dev/provenance/v1",
                                                client=client)  # fmt: skip
                        assert r.passed, r.failure_reason()

                    timed(warm, 20)
                    results["registry"] = stats("verify_attestations (registry, warm client)", timed(warm, args.count))
                    rt = timed(lambda: client.get_manifest(repo, "v1"), 200)
                results["registry_roundtrip"] = stats("one manifest GET round-trip", rt)
            finally:
                stop_process(proc)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
