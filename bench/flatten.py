#!/usr/bin/env python3
"""Benchmark: flatten the debootstrapped Debian bookworm image to a directory, lockgate vs ``umoci unpack``.

Usage: ``.venv/bin/python bench/flatten.py [--runs 5]`` from the repository root.
Builds (or reuses) the cached test image from ``tests/fixtures/images.py``, then times both
tools as separate processes, median of N runs (hyperfine when installed, else a stopwatch
loop), and prints the medians and the ratio lockgate/umoci (below 1.0 = lockgate faster).
Note: ``umoci unpack`` also writes an mtree manifest and a runtime config.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fixtures.images import ensure_debian_image  # noqa: E402

LOCKGATE_FLATTEN = """
import sys
from pathlib import Path
from lockgate.config import Settings
from lockgate.fs.flatten import flatten
from lockgate.oci.image import load_image
from lockgate.oci.targets import open_source
src = open_source(sys.argv[1])
r = flatten(load_image(src), Path(sys.argv[2]), settings=Settings(), keep_special_bits=True)
assert not r.gaps, r.gaps
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    image = ensure_debian_image()
    work = Path(tempfile.mkdtemp(prefix="lockgate-bench-flatten."))
    script = work / "flatten_once.py"
    script.write_text(LOCKGATE_FLATTEN)
    out = work / "out"
    python = sys.executable
    commands = {
        "lockgate": f"{python} {script} {image.oci_ref} {out}",
        "umoci": f"umoci unpack --image {image.oci_dir}:{image.tag} {out}",
    }
    medians: dict[str, float] = {}
    try:
        if shutil.which("hyperfine"):
            report = work / "hyperfine.json"
            subprocess.run(
                [
                    "hyperfine",
                    "--runs",
                    str(args.runs),
                    "--warmup",
                    "1",
                    "--prepare",
                    f"rm -rf {out}",
                    "--export-json",
                    str(report),
                    "--command-name",
                    "lockgate",
                    commands["lockgate"],
                    "--command-name",
                    "umoci",
                    commands["umoci"],
                ],
                check=True,
            )
            for r in json.loads(report.read_text())["results"]:
                medians[r["command"]] = float(r["median"])
        else:
            for name, cmd in commands.items():
                times = []
                for _ in range(args.runs):
                    shutil.rmtree(out, ignore_errors=True)
                    t0 = time.perf_counter()
                    subprocess.run(cmd, shell=True, check=True, capture_output=True)
                    times.append(time.perf_counter() - t0)
                medians[name] = statistics.median(times)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"flatten Debian bookworm minbase (slim), median of {args.runs}:")
    print(f"  lockgate flatten : {medians['lockgate']:.2f} s")
    print(f"  umoci unpack     : {medians['umoci']:.2f} s")
    print(f"  ratio lockgate/umoci: {medians['lockgate'] / medians['umoci']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
