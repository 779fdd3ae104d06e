"""Layer encryption benchmark: encrypt and decrypt a 1 GiB layer, lockgate vs skopeo (ocicrypt).

Usage: ``.venv/bin/python bench/encrypt.py [--size-mib 1024] [--runs 1] [--dir /tmp/...]``

Builds an OCI layout with one incompressible gzip layer (random bytes in stored deflate blocks: a real
gzip stream, so skopeo does not recompress it; skopeo recompresses a fake one but records the original
digest, which lockgate then rightly refuses), then times, each as its own process with
``/usr/bin/time -v`` (wall clock and peak RSS):
``skopeo copy --encryption-key jwe:PUB`` vs ``lockgate encrypt -r jwe:PUB`` and ``skopeo copy
--decryption-key PRIV`` vs ``lockgate decrypt --key PRIV`` (the same RSA-2048 key pair, same source).
Prints MiB/s, peak RSS and the throughput ratio lockgate/skopeo (target >= 0.8) for both directions,
and checks that each tool's decrypted layer digest equals the original.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKGATE = [str(ROOT / ".venv/bin/python"), "-m", "lockgate"]


def build_layout(d: Path, size: int) -> str:
    """An OCI layout with one real gzip layer (stored blocks of random bytes, about ``size`` bytes)."""
    blobs = d / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    tmp = blobs / "layer.tmp"
    h, diff = hashlib.sha256(), hashlib.sha256()
    gz = zlib.compressobj(0, zlib.DEFLATED, 31)  # gzip container, level 0: incompressible data stays as is
    with tmp.open("wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(left, 8 << 20))
            diff.update(chunk)
            out = gz.compress(chunk)
            h.update(out)
            f.write(out)
            left -= len(chunk)
        out = gz.flush()
        h.update(out)
        f.write(out)
    layer = h.hexdigest()
    size = tmp.stat().st_size
    tmp.rename(blobs / layer)
    diff_id = "sha256:" + diff.hexdigest()

    def put(obj: dict[str, object]) -> tuple[str, int]:
        raw = json.dumps(obj, separators=(",", ":")).encode()
        digest = hashlib.sha256(raw).hexdigest()
        (blobs / digest).write_bytes(raw)
        return "sha256:" + digest, len(raw)

    cfg, cfg_size = put({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]}})
    man, man_size = put(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg, "size": cfg_size},
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + layer, "size": size}
            ],
        }
    )
    (d / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": man,
                "size": man_size,
                "annotations": {"org.opencontainers.image.ref.name": "v1"},
            }
        ],
    }
    (d / "index.json").write_text(json.dumps(index))
    return "sha256:" + layer


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    proc = subprocess.run(["/usr/bin/time", "-v", *argv], capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{proc.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert wall and rss
    h, m, s = wall.groups()
    return int(h or 0) * 3600 + int(m) * 60 + float(s), int(rss.group(1)) // 1024


def layer_digest(layout: Path) -> str:
    idx = json.loads((layout / "index.json").read_text())
    man = json.loads((layout / "blobs/sha256" / idx["manifests"][0]["digest"][7:]).read_text())
    return str(man["layers"][0]["digest"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lockgate-encbench-", dir=args.dir))
    env = {**os.environ, "LOCKGATE_CACHE_DIR": str(work / "cache")}
    try:
        size = args.size_mib << 20
        original = build_layout(work / "plain", size)
        subprocess.run(["openssl", "genrsa", "-out", str(work / "priv.pem"), "2048"], check=True, capture_output=True)
        subprocess.run(
            ["openssl", "rsa", "-in", str(work / "priv.pem"), "-pubout", "-out", str(work / "pub.pem")],
            check=True,
            capture_output=True,
        )
        pub, priv = f"jwe:{work / 'pub.pem'}", str(work / "priv.pem")
        results: dict[str, list[tuple[float, int]]] = {}
        for _ in range(args.runs):
            for name, argv in (
                (
                    "skopeo encrypt",
                    ["skopeo", "copy", "-q", "--encryption-key", pub, f"oci:{work}/plain:v1", f"oci:{work}/s-enc:v1"],
                ),
                (
                    "lockgate encrypt",
                    [*LOCKGATE, "-q", "encrypt", f"oci:{work}/plain:v1", f"oci:{work}/l-enc:v1", "-r", pub],
                ),
                (
                    "skopeo decrypt",
                    ["skopeo", "copy", "-q", "--decryption-key", priv, f"oci:{work}/l-enc:v1", f"oci:{work}/s-dec:v1"],
                ),
                (
                    "lockgate decrypt",
                    [*LOCKGATE, "-q", "decrypt", f"oci:{work}/s-enc:v1", f"oci:{work}/l-dec:v1", "--key", priv],
                ),
            ):
                results.setdefault(name, []).append(timed(argv, env))
            for out in ("s-dec", "l-dec"):
                assert layer_digest(work / out) == original, f"{out}: decrypted layer differs from the original"
            for out in ("s-enc", "l-enc", "s-dec", "l-dec"):
                if _ < args.runs - 1:
                    shutil.rmtree(work / out)
        mib = size / (1 << 20)
        print(f"layer: {mib:.0f} MiB random bytes, {args.runs} run(s), median wall time, peak RSS")
        speed = {}
        for name, runs in results.items():
            wall = statistics.median(r[0] for r in runs)
            rss = max(r[1] for r in runs)
            speed[name] = mib / wall
            print(f"  {name:17s} {wall:7.2f} s  {mib / wall:8.1f} MiB/s  peak RSS {rss:5d} MiB")
        for op in ("encrypt", "decrypt"):
            print(
                f"  ratio lockgate/skopeo {op}: {speed[f'lockgate {op}'] / speed[f'skopeo {op}']:.2f} (target >= 0.8)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
