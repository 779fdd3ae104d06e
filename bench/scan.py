#!/usr/bin/env python3
"""Benchmark: full vulnerability scan (inventory + match), lockgate vs Trivy, same images, same advisories.

Usage: ``.venv/bin/python bench/scan.py [--runs 5] [--out bench/results/scan.md]`` from the repository root.

Images (gzip OCI layouts, built once and cached by ``tests/accuracy/_images.py`` and
``tests/fixtures/bullseye.py``): the debootstrapped Debian bullseye minbase image, and a
Python+Node image (a real virtualenv with old PyPI releases + an ``npm install``-ed app).
Advisories: the corpus's Debian DSA/DLA lists, PyPI and Go OSV records; lockgate imports them
with ``lockgate db import``, Trivy gets a DB written by ``mktrivydb`` from the same records
(``tests/accuracy/_trivydb.py``) and runs with ``--skip-db-update --offline-scan``.

Both tools run as separate processes (start-up included), ``--scanners vuln``, JSON output,
timed by hyperfine (``--runs N`` per tool, in rounds of 3 alternating which tool goes first, median of all runs):

- cold: empty layer caches before every run (lockgate: a wiped ``LOCKGATE_CACHE_DIR``;
  Trivy: its ``fanal`` cache removed from ``--cache-dir``, the DB kept);
- warm: caches filled by one warm-up run, then N runs.

Peak RSS is measured once per tool and image with GNU ``time -f %M`` (warm cache).
lockgate runs with a bytecode cache (as a pip-installed package has); the session environment
here sets ``PYTHONDONTWRITEBYTECODE=1``, which would add ~0.6 s of compiling to every run.
Advisory import time / DB size and "match 10,000 packages" are reported by ``bench/vulndb.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _lockgate import lockgate_argv  # noqa: E402
from _timing import interleaved  # noqa: E402
from tests.accuracy._images import ensure_python_node_image  # noqa: E402
from tests.accuracy._oracle import debian_lines, iter_osv  # noqa: E402
from tests.accuracy._trivydb import debian_buckets, fixture, write_trivy_cache  # noqa: E402
from tests.conftest import CORPUS  # noqa: E402
from tests.fixtures.bullseye import ensure_bullseye_image  # noqa: E402


def _hyperfine(commands: dict[str, str], runs: int, prepare: dict[str, str] | None, out: Path) -> dict[str, float]:
    """Medians over ``runs`` runs per command, interleaved in short rounds (see ``bench/_timing.py``)."""
    return interleaved(commands, runs, prepare, out, shell=True)


def _peak_rss_mb(cmd: str) -> float:
    r = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "sh", "-c", cmd + " >/dev/null"], capture_output=True, text=True, check=True
    )
    return int(r.stderr.strip().splitlines()[-1]) / 1024


def _phases(cmd: str) -> dict[str, float]:
    """lockgate's own per-phase timings (``timings`` of its JSON report) for one warm run."""
    out = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, check=True).stdout
    return {str(k): float(v) for k, v in json.loads(out)["timings"].items()}


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=REPO / "bench/results/scan.md")
    args = ap.parse_args()
    for tool in ("hyperfine", "trivy", "mktrivydb"):
        if not shutil.which(tool):
            print(f"{tool} not found", file=sys.stderr)
            return 2
    images = {"debian-bullseye": ensure_bullseye_image(), "python+node": ensure_python_node_image()}
    work = Path(tempfile.mkdtemp(prefix="lockgate-bench-scan."))
    try:
        db = work / "lockgate.db"
        feeds = [CORPUS / "debian-dsa", CORPUS / "osv/pypi", CORPUS / "osv/go"]
        lockgate_bin = lockgate_argv(work)  # with a bytecode cache, as an installed package runs
        subprocess.run([*lockgate_bin, "db", "import", "--db", str(db), *map(str, feeds)], check=True,
                       capture_output=True)  # fmt: skip
        doc = fixture(debian_buckets(debian_lines(CORPUS, "bullseye")), iter_osv(feeds[1]), iter_osv(feeds[2]))
        tcache = write_trivy_cache(work / "trivy", doc)
        lg_cache = work / "lg-cache"
        rows = []
        for label, image in images.items():
            lg = (
                f"env LOCKGATE_CACHE_DIR={lg_cache} {shlex.join(lockgate_bin)} scan image {image.oci_ref} "
                f"--db {db} --db-max-age 36500d --scanners vuln -f json"
            )
            tv = (
                f"trivy image --cache-dir {tcache} --skip-db-update --offline-scan --skip-version-check "
                f"--scanners vuln -q -f json --input {image.oci_dir}"
            )
            cmds = {"lockgate": lg, "trivy": tv}
            subprocess.run(["sh", "-c", lg], check=True, capture_output=True)  # fills the bytecode cache
            prep = {"lockgate": f"rm -rf {lg_cache}", "trivy": f"rm -rf {tcache / 'fanal'}"}
            cold = _hyperfine(cmds, args.runs, prep, work / "cold.json")
            warm = _hyperfine(cmds, args.runs, None, work / "warm.json")
            rss = {k: _peak_rss_mb(c) for k, c in cmds.items()}
            phases = _phases(lg)
            rows.append((label, cold, warm, rss, phases))
            print(
                f"{label}: cold lockgate {cold['lockgate']:.2f} s / trivy {cold['trivy']:.2f} s "
                f"(ratio {cold['lockgate'] / cold['trivy']:.2f}); warm lockgate {warm['lockgate']:.2f} s / "
                f"trivy {warm['trivy']:.2f} s (ratio {warm['lockgate'] / warm['trivy']:.2f}); "
                f"peak RSS lockgate {rss['lockgate']:.0f} MB / trivy {rss['trivy']:.0f} MB; "
                f"lockgate phases (warm) {_fmt_phases(phases)}"
            )
        startup = _hyperfine({"lockgate --version": f"{shlex.join(lockgate_bin)} --version"}, args.runs, None,
                             work / "startup.json")["lockgate --version"]  # fmt: skip
        print(f"lockgate start-up (--version): {startup:.2f} s")
        _write(args.out, rows, args.runs, startup)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _fmt_phases(phases: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f} s" for k, v in phases.items())


Row = tuple[str, dict[str, float], dict[str, float], dict[str, float], dict[str, float]]


def _write(out: Path, rows: list[Row], runs: int, startup: float) -> None:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Full vulnerability scan: lockgate vs Trivy",
        "",
        f"Written by `bench/scan.py` on {when}; {os.cpu_count()} cores, load average {_load()} at the end.",
        f"Median of {runs} hyperfine runs per cell (interleaved: rounds of 3, alternating which tool goes first),",
        "each tool as its own process (start-up included),",
        "`--scanners vuln`, JSON output, gzip OCI layouts, the same corpus advisories for both tools",
        "(Trivy: a `mktrivydb` DB with `--skip-db-update --offline-scan`). Ratio = lockgate / Trivy",
        "(below 1.0: lockgate faster). Cold = empty layer caches before every run; warm = caches filled.",
        "lockgate runs with its bytecode (.pyc) cache, as a pip-installed package does.",
        "",
        "| image | cold lockgate | cold Trivy | cold ratio | warm lockgate | warm Trivy | warm ratio "
        "| peak RSS lockgate | peak RSS Trivy |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, cold, warm, rss, _ in rows:
        lines.append(
            f"| {label} | {cold['lockgate']:.2f} s | {cold['trivy']:.2f} s | {cold['lockgate'] / cold['trivy']:.2f} "
            f"| {warm['lockgate']:.2f} s | {warm['trivy']:.2f} s | {warm['lockgate'] / warm['trivy']:.2f} "
            f"| {rss['lockgate']:.0f} MB | {rss['trivy']:.0f} MB |"
        )
    lines += ["", f"Where lockgate's warm time goes: interpreter start-up and imports (`lockgate --version`: "
              f"{startup:.2f} s median), then the phases it reports in its JSON `timings`:", ""]  # fmt: skip
    lines += [f"- {label}: {_fmt_phases(phases)}" for label, _, _, _, phases in rows]
    lines += [
        "",
        "Import of the whole offline corpus (seconds, DB size) and matching 10,000 packages: `bench/vulndb.py`.",
        "",
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print(f"wrote {out}")


if __name__ == "__main__":
    sys.exit(main())
