"""Secret and malware scan benchmark, side by side with Trivy and ClamAV on the same inputs.

Secrets: ``lockgate scan image --scanners secret`` (fresh cache dir every run) vs
``trivy image --scanners secret --cache-backend memory`` on the same gzip OCI layouts: the
debootstrapped Debian bookworm image and the Python+Node image (Debian + a pip-built venv and
an npm-built node_modules tree), built by the test fixtures. Median wall time of N hyperfine
runs, throughput in MB/s of compressed layer data, ratio lockgate / Trivy (< 1: lockgate faster).

Malware: ``lockgate scan fs --scanners malware`` vs ``clamscan -r`` on the same extracted
files, with an equivalent ClamAV database (lockgate's bundled YARA rules, which ClamAV loads
as a signature database), raised ClamAV size limits so no file is silently skipped.

Writes bench/results/secrets.md.

    .venv/bin/python bench/secrets_bench.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _lockgate import lockgate_cmd, prime  # noqa: E402
from tests.fixtures.images import ensure_debian_image, ensure_debian_rootfs  # noqa: E402
from tests.inventory.test_lang_oracles import PY_PACKAGES, _build_venv, _cached  # noqa: E402

from inventory import python_node_image  # noqa: E402

RULES = ROOT / "src/lockgate/detect/malware/rules"


def layer_mb(oci: Path) -> float:
    index = json.loads((oci / "index.json").read_text())
    digest = index["manifests"][0]["digest"].split(":", 1)[1]
    manifest = json.loads((oci / "blobs/sha256" / digest).read_text())
    return sum(layer["size"] for layer in manifest["layers"]) / 1e6


def tree_mb(root: Path) -> float:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            if os.path.isfile(p) and not os.path.islink(p):
                total += os.path.getsize(p)
    return total / 1e6


def hyperfine(commands: dict[str, str], runs: int, out: Path) -> dict[str, tuple[float, float]]:
    """name -> (median wall seconds, mean user+system CPU seconds)."""
    argv = ["hyperfine", "--shell=bash", "--warmup", "1", "--runs", str(runs), "--export-json", str(out)]
    for name, cmd in commands.items():
        argv += ["-n", name, cmd]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    data = json.loads(out.read_text())
    return {r["command"]: (r["median"], r["user"] + r["system"]) for r in data["results"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--part", choices=("all", "secrets", "malware"), default="all", help="re-measure one section only")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lockgate-bench-secrets-"))
    prime(work)
    lockgate = lockgate_cmd(work)
    env_note = f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start"
    lines = [
        "# Secret and malware scan benchmark",
        "",
        f"`bench/secrets_bench.py --runs {args.runs}`; {env_note}. Median wall time (hyperfine), CPU = mean user+sys.",
        "",
        "## Secrets: lockgate vs `trivy image --scanners secret`",
        "",
        "| Image | layer MB | lockgate s | lockgate MB/s | lockgate CPU s | trivy s | trivy MB/s | trivy CPU s"
        " | ratio (wall) | ratio (CPU) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    images = {"debian-bookworm-minbase": ensure_debian_image().oci_dir, "python+node": python_node_image(work)}
    if args.part == "malware":
        images = {}
    tag = {"debian-bookworm-minbase": "bookworm", "python+node": "pynode"}
    for name, oci in images.items():
        mb = layer_mb(oci)
        cmds = {
            "lockgate": f'{lockgate} --cache-dir "$(mktemp -d)" scan image --scanners secret --allow-incomplete '
            f"oci:{oci}:{tag[name]} -f json -o /dev/null",
            "trivy": f"trivy image --quiet --cache-backend memory --skip-version-check --scanners secret "
            f"--input {oci} -f json -o /dev/null",
        }
        res = hyperfine(cmds, args.runs, work / f"{name}.json")
        (lw, lc), (tw, tc) = res["lockgate"], res["trivy"]
        lines.append(
            f"| {name} | {mb:.1f} | {lw:.2f} | {mb / lw:.1f} | {lc:.2f} | {tw:.2f} | {mb / tw:.1f} | {tc:.2f}"
            f" | {lw / tw:.2f} | {lc / tc:.2f} |"
        )
        print(f"secrets {name}: lockgate {lw:.2f}s trivy {tw:.2f}s ratio {lw / tw:.2f} (CPU {lc / tc:.2f})")
    lines += [
        "",
        "## Malware: `lockgate scan fs --scanners malware` vs `clamscan` (same files, same YARA rules)",
        "",
        "| Tree | MB | lockgate s | lockgate MB/s | clamscan s | ratio | clamscan, archives off, s | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    venv = _cached("lang-pyvenv", " ".join(PY_PACKAGES) + sys.version, _build_venv) / "venv"
    trees = {"debian-bookworm-minbase rootfs": ensure_debian_rootfs(), "python virtualenv": venv}
    if args.part == "secrets":
        trees = {}
    clam = (
        f"clamscan --no-summary --infected -r -d {RULES} --max-filesize=1000M --max-scansize=4000M --max-files=1000000"
    )
    for name, tree in trees.items():
        mb = tree_mb(tree)
        cmds = {
            "lockgate": f'{lockgate} --cache-dir "$(mktemp -d)" scan fs --scanners malware --allow-incomplete '
            f"{tree} -f json -o /dev/null",
            "clamscan": f"{clam} {tree} > /dev/null; test $? -le 1",
            "clamscan-noarchive": f"{clam} --scan-archive=no {tree} > /dev/null; test $? -le 1",
        }
        res = hyperfine(cmds, args.runs, work / "malware.json")
        (lw, _), (cw, _), (nw, _) = res["lockgate"], res["clamscan"], res["clamscan-noarchive"]
        lines.append(
            f"| {name} | {mb:.0f} | {lw:.2f} | {mb / lw:.0f} | {cw:.2f} | {lw / cw:.2f} | {nw:.2f} | {lw / nw:.2f} |"
        )
        print(f"malware {name}: lockgate {lw:.2f}s clamscan {cw:.2f}s / {nw:.2f}s ratio {lw / cw:.2f} / {lw / nw:.2f}")
    lines += [
        "",
        "Notes: lockgate reads each layer once and runs one YARA pass per file for all rules; its secret",
        "scanner finds every rule's keywords in one YARA (Aho-Corasick) pass and runs rule regexes only on",
        "the lines holding a keyword. Both tools unpack archives and scan their members: lockgate",
        "zip/jar, tar, gzip, bzip2 and xz two levels deep; ClamAV more formats (.deb/ar among them) and",
        "deeper (the archives-off column is ClamAV without that). lockgate additionally applies its",
        "heuristics. Timings depend on the load of the 2-core machine (load average above): compare the",
        "ratios, not the absolute times.",
        "",
    ]
    out = ROOT / "bench/results/secrets.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines)
    if args.part != "all" and out.exists():  # keep the other section's earlier measurements
        old, new = out.read_text(), text
        mark = "## Malware"
        head_old, _, tail_old = old.partition(mark)
        head_new, _, tail_new = new.partition(mark)
        text = head_new + mark + tail_old if args.part == "secrets" else head_old + mark + tail_new
    out.write_text(text)
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
