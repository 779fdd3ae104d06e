#!/usr/bin/env python3
"""Benchmark: record and verify a 5-step in-toto pipeline over a large workspace (default 1 GiB).

Usage: ``.venv/bin/python bench/attest_pipeline.py [--size-mib 1024] [--files 64] [--dir DIR]`` from the
repository root. Creates the workspace (random-ish data, written once), then times each ``run_step`` (materials
and products = the whole workspace, so every step hashes it twice) and ``verify_pipeline`` (which runs one
inspection that hashes the workspace twice more). Hashing dominates: MB/s is reported per step, and peak
RSS shows memory stays constant (streaming 1 MiB chunks, one thread per core).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from lockgate.attest.intoto.keys import IntotoKey  # noqa: E402
from lockgate.attest.intoto.layout import sign_layout  # noqa: E402
from lockgate.attest.intoto.link import run_step  # noqa: E402
from lockgate.attest.intoto.verify import verify_pipeline  # noqa: E402
from lockgate.trust.keys.files import FileSigner  # noqa: E402

STEPS = ["fetch", "build", "test", "package", "scan"]


def make_workspace(d: Path, size_mib: int, files: int) -> None:
    per = size_mib * 1024 * 1024 // files
    block = hashlib.sha512(b"lockgate").digest() * (1024 * 1024 // 64)
    for i in range(files):
        p = d / f"part{i // 16}" / f"blob{i:04d}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        with open(p, "wb") as f:
            left = per
            header = f"file {i}\n".encode()
            f.write(header)
            left -= len(header)
            while left > 0:
                n = min(left, len(block))
                f.write(block[:n])
                left -= n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--files", type=int, default=64)
    ap.add_argument("--dir", type=Path, default=None, help="Workspace parent (default: a temp dir).")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="lockgate-bench-", dir=args.dir))
    ws, links = base / "ws", base / "links"
    ws.mkdir()
    try:
        t = time.perf_counter()
        make_workspace(ws, args.size_mib, args.files)
        print(f"workspace: {args.size_mib} MiB in {args.files} files, written in {time.perf_counter() - t:.1f} s")
        files = sorted(str(p) for p in ws.rglob("*.bin"))
        t = time.perf_counter()
        subprocess.run(["openssl", "dgst", "-sha256", *files], check=True, capture_output=True)
        ds = time.perf_counter() - t
        ref_mbs = args.size_mib * 1.048576 / ds
        print(f"reference: openssl dgst -sha256 (one core) over the workspace {ds:.2f} s  {ref_mbs:.1f} MB/s")
        signer = FileSigner(ec.generate_private_key(ec.SECP256R1()), "bench")
        ik = IntotoKey.from_public_key(signer.public_key)
        rows = []
        for i, name in enumerate(STEPS):
            t = time.perf_counter()
            run_step(name, ["true"], signer, materials=["."], products=["."], out_dir=links, base_path=ws)
            dt = time.perf_counter() - t
            mb = 2 * args.size_mib * 1.048576
            rows.append({"step": name, "seconds": round(dt, 2), "MB/s": round(mb / dt, 1)})
            print(f"step {i + 1} {name:<8} {dt:6.2f} s  {mb / dt:8.1f} MB/s (materials + products)")
        steps = [
            {
                "_type": "step", "name": n, "pubkeys": [ik.keyid], "threshold": 1, "expected_command": [],
                "expected_materials": [["MATCH", "*", "WITH", "PRODUCTS", "FROM", STEPS[j - 1]], ["DISALLOW", "*"]]
                if j else [["ALLOW", "*"]],
                "expected_products": [["MATCH", "*", "WITH", "MATERIALS", "FROM", n], ["DISALLOW", "*"]],
            }
            for j, n in enumerate(STEPS)
        ]  # fmt: skip
        layout = {
            "_type": "layout", "keys": {ik.keyid: ik.to_dict()}, "steps": steps,
            "inspect": [{"_type": "inspection", "name": "check", "run": ["true"],
                         "expected_materials": [["MATCH", "*", "WITH", "PRODUCTS", "FROM", "scan"], ["DISALLOW", "*"]],
                         "expected_products": [["ALLOW", "*"]]}],
            "expires": (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }  # fmt: skip
        data = sign_layout(layout, [signer])
        t = time.perf_counter()
        verify_pipeline(data, [signer.public_key], links, workdir=ws)
        dv = time.perf_counter() - t
        mb = 2 * args.size_mib * 1.048576
        print(f"verify-pipeline (5 links + 1 inspection) {dv:6.2f} s  {mb / dv:8.1f} MB/s (inspection hashing)")
        t = time.perf_counter()
        verify_pipeline(data, [signer.public_key], links, workdir=ws, run_inspections=False)
        dn = time.perf_counter() - t
        print(f"verify-pipeline without inspections    {dn * 1000:6.1f} ms (links, signatures, rules)")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS {rss:.0f} MiB; cores {os.cpu_count()}")
        print(json.dumps({"steps": rows, "verify_s": round(dv, 2), "verify_no_inspection_ms": round(dn * 1000, 1),
                          "peak_rss_mib": round(rss)}))  # fmt: skip
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
