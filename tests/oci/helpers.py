"""Helpers for the OCI transport tests: real images from folders, skopeo as the oracle.

Images are built with ``shared/tools/make-oci-image.sh`` from small real file trees (copies of
``/etc/apt`` and a real binary, plus a second layer with a whiteout). Multi-platform indexes and
multi-image docker-archives are assembled here from such images, since no tool on this machine
writes them without a daemon.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("LOCKGATE_SHARED", REPO.parent / "shared")).resolve()
MAKE_OCI_IMAGE = SHARED / "tools" / "make-oci-image.sh"
REF_NAME = "org.opencontainers.image.ref.name"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def skopeo(*args: str) -> str:
    """Run skopeo (the interop oracle) and return stdout; fail the test on error."""
    r = subprocess.run(["skopeo", "--insecure-policy", *args], capture_output=True, text=True, check=False)
    assert r.returncode == 0, f"skopeo {' '.join(args)} failed: {r.stderr}"
    return r.stdout


def skopeo_raw_digest(ref: str) -> str:
    """``sha256:`` of what ``skopeo inspect --raw`` prints (the manifest bytes as stored)."""
    r = subprocess.run(["skopeo", "inspect", "--raw", ref], capture_output=True, check=True)
    return "sha256:" + hashlib.sha256(r.stdout).hexdigest()


def skopeo_config(ref: str) -> tuple[str, list[str]]:
    """(config digest, diff_ids) as skopeo reads them."""
    r = subprocess.run(["skopeo", "inspect", "--config", "--raw", ref], capture_output=True, check=True)
    cfg = json.loads(r.stdout)
    return "sha256:" + hashlib.sha256(r.stdout).hexdigest(), list(cfg["rootfs"]["diff_ids"])


@dataclass(frozen=True)
class Built:
    oci: Path
    tag: str
    archive: Path
    repo_tag: str

    @property
    def oci_ref(self) -> str:
        return f"oci:{self.oci}:{self.tag}"

    @property
    def archive_ref(self) -> str:
        return f"docker-archive:{self.archive}"


def make_rootfs(base: Path, variant: str = "a") -> list[Path]:
    """Two layer folders made of real files: ``/etc/apt`` + a binary, then an app layer with a whiteout."""
    l1, l2 = base / f"{variant}-l1", base / f"{variant}-l2"
    shutil.copytree("/etc/apt", l1 / "etc" / "apt", symlinks=True)
    (l1 / "usr" / "bin").mkdir(parents=True)
    shutil.copy2("/usr/bin/env", l1 / "usr" / "bin" / "env")
    (l1 / "etc" / "motd").write_text(f"variant {variant}\n")
    (l1 / "bin").symlink_to("usr/bin")
    (l2 / "app").mkdir(parents=True)
    (l2 / "app" / "main.py").write_text(f"print('hello from {variant}')\n")
    (l2 / "etc").mkdir()
    (l2 / "etc" / ".wh.motd").write_text("")
    return [l1, l2]


def build(
    base: Path,
    *,
    variant: str = "a",
    tag: str = "v1",
    repo_tag: str = "lockgate/test:v1",
    arch: str = "amd64",
    oci: Path | None = None,
) -> Built:
    """Build an image (OCI layout + docker-archive) with make-oci-image.sh."""
    base.mkdir(parents=True, exist_ok=True)
    layers = make_rootfs(base, f"{variant}-{arch}")
    oci = oci or base / "oci"
    archive = base / f"{variant}-{arch}.tar"
    argv = [str(MAKE_OCI_IMAGE), "--oci", str(oci), "--tag", tag, "--docker-archive", str(archive)]
    argv += ["--repo-tag", repo_tag, "--arch", arch, "--env", f"VARIANT={variant}", "--label", f"variant={variant}"]
    argv += [str(p) for p in layers]
    subprocess.run(argv, check=True, capture_output=True)
    return Built(oci=oci, tag=tag, archive=archive, repo_tag=repo_tag)


def layout_entry(oci: Path, tag: str) -> dict[str, object]:
    index = json.loads((oci / "index.json").read_text())
    for m in index["manifests"]:
        if m.get("annotations", {}).get(REF_NAME) == tag:
            return dict(m)
    raise KeyError(tag)


def add_index(oci: Path, tag: str, children: dict[str, tuple[str, str]]) -> str:
    """Write an OCI index over existing tagged manifests of ``oci`` and tag it; return its digest.

    ``children`` maps a tag in the layout to (architecture, variant).
    """
    entries = []
    for child_tag, (arch, variant) in children.items():
        e = layout_entry(oci, child_tag)
        platform = {"architecture": arch, "os": "linux"}
        if variant:
            platform["variant"] = variant
        entries.append({"mediaType": e["mediaType"], "digest": e["digest"], "size": e["size"], "platform": platform})
    raw = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    digest = hashlib.sha256(raw).hexdigest()
    (oci / "blobs" / "sha256" / digest).write_bytes(raw)
    index = json.loads((oci / "index.json").read_text())
    index["manifests"].append(
        {"mediaType": OCI_INDEX, "digest": "sha256:" + digest, "size": len(raw), "annotations": {REF_NAME: tag}}
    )
    (oci / "index.json").write_text(json.dumps(index))
    return "sha256:" + digest


def tar_members(path: Path) -> dict[str, bytes]:
    """Regular-file members of a tar, by name."""
    out = {}
    with tarfile.open(path) as tar:
        for ti in tar:
            if ti.isfile():
                f = tar.extractfile(ti)
                assert f is not None
                out[ti.name] = f.read()
    return out


class TarWriter:
    """Write tar files entry by entry, including entries no sane tool would write."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tar = tarfile.open(path, "w", format=tarfile.PAX_FORMAT)  # noqa: SIM115

    def file(self, name: str, data: bytes) -> TarWriter:
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        ti.mode = 0o644
        self._tar.addfile(ti, io.BytesIO(data))
        return self

    def link(self, name: str, target: str, *, hard: bool = False) -> TarWriter:
        ti = tarfile.TarInfo(name)
        ti.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
        ti.linkname = target
        self._tar.addfile(ti)
        return self

    def device(self, name: str) -> TarWriter:
        ti = tarfile.TarInfo(name)
        ti.type = tarfile.CHRTYPE
        ti.devmajor, ti.devminor = 1, 3
        self._tar.addfile(ti)
        return self

    def close(self) -> Path:
        self._tar.close()
        return self.path


def merge_archives(out: Path, *archives: Path) -> Path:
    """One docker-archive holding the images of several (manifest.json entries concatenated)."""
    items: list[object] = []
    seen: set[str] = set()
    w = TarWriter(out)
    for a in archives:
        members = tar_members(a)
        items += json.loads(members.pop("manifest.json"))
        members.pop("repositories", None)
        for name, data in members.items():
            if name not in seen:
                seen.add(name)
                w.file(name, data)
    w.file("manifest.json", json.dumps(items).encode())
    return w.close()
