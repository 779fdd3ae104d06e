"""Copy benchmark: debootstrapped Debian image from a local registry to an OCI layout, lockgate vs skopeo.

Starts Debian's ``docker-registry`` on 127.0.0.1 (plain HTTP), pushes the cached Debian bookworm image
(``tests/fixtures/images.py``) with skopeo, then times ``lockgate image copy REG_REF oci:DIR:t`` against
``skopeo copy --src-tls-verify=false docker://REG_REF oci:DIR:t`` with hyperfine (median of N, the
destination removed before each run) and prints the ratio (lockgate / skopeo; below 1: lockgate faster).
It also checks that both wrote the same manifest digest. Writes bench/results/copy.md.

    .venv/bin/python bench/image_copy.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.images import ensure_debian_image  # noqa: E402
from tests.fixtures.registry import start_registry, stop_process  # noqa: E402

LOCKGATE = str(ROOT / ".venv/bin/lockgate")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lockgate-bench-copy."))
    proc, reg = start_registry(work / "registry", "plain")
    try:
        image = ensure_debian_image()
        ref = f"{reg.host}/bench/debian:bookworm"
        subprocess.run(
            ["skopeo", "copy", "--dest-tls-verify=false", f"oci:{image.oci_dir}:{image.tag}", f"docker://{ref}"],
            check=True,
            capture_output=True,
        )
        lg_out, sk_out = work / "lg", work / "sk"
        cmds = {
            "lockgate": f"{LOCKGATE} -q image copy {ref} oci:{lg_out}:t --insecure",
            "skopeo": f"skopeo copy -q --src-tls-verify=false docker://{ref} oci:{sk_out}:t",
        }
        export = work / "hf.json"
        argv = ["hyperfine", "--runs", str(args.runs), "--export-json", str(export), "--shell=bash"]
        argv += ["--prepare", f"rm -rf {lg_out} {sk_out}"]
        for name, cmd in cmds.items():
            argv += ["-n", name, cmd]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        med = {r["command"]: r["median"] for r in json.loads(export.read_text())["results"]}
        digests = {}
        for name, out in (("lockgate", lg_out), ("skopeo", sk_out)):
            subprocess.run(cmds[name], shell=True, check=True, capture_output=True)
            idx = json.loads((out / "index.json").read_text())
            digests[name] = idx["manifests"][0]["digest"]
        same = digests["lockgate"] == digests["skopeo"]
        ratio = med["lockgate"] / med["skopeo"]
        print(
            f"copy registry -> oci: lockgate {med['lockgate']:.2f}s skopeo {med['skopeo']:.2f}s ratio {ratio:.2f}"
            f" (same manifest digest: {same})"
        )
        results = ROOT / "bench/results"
        results.mkdir(parents=True, exist_ok=True)
        (results / "copy.md").write_text(
            "# Image copy: local registry -> OCI layout (bench/image_copy.py)\n\n"
            f"Debian bookworm minbase (one gzip layer), median of {args.runs} hyperfine runs, "
            "destination removed before each run.\n\n"
            "| lockgate | skopeo | ratio (lockgate / skopeo) | same manifest digest |\n|---|---|---|---|\n"
            f"| {med['lockgate']:.2f} s | {med['skopeo']:.2f} s | {ratio:.2f} | {same} |\n"
        )
    finally:
        stop_process(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
