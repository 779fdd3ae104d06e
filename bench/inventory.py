"""Inventory benchmark: ``lockgate sbom`` vs ``trivy image --format cyclonedx`` on the same gzip OCI layouts.

Images: the debootstrapped Debian bookworm minbase image and a Python+Node image (a real pip-built
virtualenv and npm-built node_modules tree on top of Debian), both built by the test fixtures
(cached under ~/.cache/lockgate-tests). Cold = empty caches for both tools before every run
(lockgate: fresh --cache-dir; Trivy: fresh --cache-dir); warm = caches filled by a first run.
Median of N runs per tool with hyperfine, interleaved (rounds of 3, alternating which tool goes
first: ``bench/_timing.py``); also peak RSS (GNU time) for one cold lockgate run.
Writes bench/results/inventory.md and prints the ratios (lockgate / Trivy; < 1 means lockgate is faster).

    .venv/bin/python bench/inventory.py [--runs 5]
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

from _lockgate import lockgate_argv, lockgate_cmd, prime  # noqa: E402
from _timing import interleaved  # noqa: E402
from tests.fixtures.images import build_image, ensure_debian_image, ensure_debian_rootfs  # noqa: E402
from tests.inventory.test_lang_oracles import NPM_DEPS, NPM_DEV_DEPS, PY_PACKAGES, _build_node, _build_venv, _cached  # noqa: E402


def python_node_image(work: Path) -> Path:
    """Debian rootfs layer + a layer with the cached venv and node app; returns the OCI dir."""
    venv = _cached("lang-pyvenv", " ".join(PY_PACKAGES) + sys.version, _build_venv) / "venv"
    app = _cached("lang-node", json.dumps([NPM_DEPS, NPM_DEV_DEPS]), _build_node) / "app"
    layer = work / "apps"
    shutil.copytree(venv, layer / "opt/venv", symlinks=True)
    shutil.copytree(app, layer / "srv/app", symlinks=True)
    built = build_image(work / "pynode", ensure_debian_rootfs(), layer, tag="pynode", slim=True)
    return built.oci_dir


def hyperfine(commands: dict[str, str], prepare: str | None, runs: int, out: Path) -> dict[str, float]:
    """Medians over ``runs`` runs per command, interleaved in short rounds (see ``bench/_timing.py``)."""
    return interleaved(commands, runs, None if prepare is None else dict.fromkeys(commands, prepare), out)


def peak_rss_mb(cmd: list[str]) -> float:
    r = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, check=True)
    return int(r.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lockgate-bench-inv."))
    prime(work)
    lockgate = lockgate_cmd(work)
    rows = []
    try:
        images = {"debian": ensure_debian_image().oci_dir, "python+node": python_node_image(work)}
        for name, oci in images.items():
            lc, tc = work / "lc", work / "tc"
            ref = f"oci:{oci}"
            lg = f"{lockgate} --cache-dir {lc} sbom {ref} -f cyclonedx -o {work}/lg.json"
            tv = (
                f"trivy image --cache-dir {tc} --skip-version-check --quiet --input {oci} "
                f"--format cyclonedx -o {work}/tv.json"
            )
            cold = hyperfine({"lockgate": lg, "trivy": tv}, f"rm -rf {lc} {tc}", args.runs, work / "cold.json")
            subprocess.run(lg, shell=True, check=True)
            subprocess.run(tv, shell=True, check=True)
            warm = hyperfine({"lockgate": lg, "trivy": tv}, None, args.runs, work / "warm.json")
            shutil.rmtree(lc, ignore_errors=True)
            rss = peak_rss_mb(
                [*lockgate_argv(work), "--cache-dir", str(lc), "sbom", ref, "-f", "cyclonedx", "-o", f"{work}/x.json"]
            )
            n_lg = sum(1 for c in json.loads((work / "lg.json").read_text())["components"] if c["type"] == "library")
            n_tv = sum(1 for c in json.loads((work / "tv.json").read_text())["components"] if c["type"] == "library")
            rows.append((name, cold, warm, rss, n_lg, n_tv))
            print(
                f"{name}: cold lockgate {cold['lockgate']:.2f}s trivy {cold['trivy']:.2f}s "
                f"ratio {cold['lockgate'] / cold['trivy']:.2f} | warm lockgate {warm['lockgate']:.2f}s "
                f"trivy {warm['trivy']:.2f}s ratio {warm['lockgate'] / warm['trivy']:.2f} | "
                f"lockgate peak RSS {rss:.0f} MB | packages lockgate {n_lg} trivy {n_tv}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results = ROOT / "bench/results"
    results.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Inventory benchmark (bench/inventory.py)",
        "",
        f"Median of {args.runs} runs (hyperfine, interleaved in rounds of 3).",
        "Ratio = lockgate / Trivy (below 1: lockgate faster).",
        "",
        "| image | cold lockgate | cold Trivy | cold ratio | warm lockgate | warm Trivy | warm ratio "
        "| lockgate peak RSS | packages (lockgate / Trivy) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, cold, warm, rss, n_lg, n_tv in rows:
        lines.append(
            f"| {name} | {cold['lockgate']:.2f} s | {cold['trivy']:.2f} s | {cold['lockgate'] / cold['trivy']:.2f} | "
            f"{warm['lockgate']:.2f} s | {warm['trivy']:.2f} s | {warm['lockgate'] / warm['trivy']:.2f} | "
            f"{rss:.0f} MB | {n_lg} / {n_tv} |"
        )
    (results / "inventory.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
