"""Language inventory of a real image through the real walker: layers, whiteouts, Trivy as the peer.

The image has two layers built from folders by ``shared/tools/make-oci-image.sh``: the
pip-built virtualenv and npm-built application of ``test_lang_oracles`` plus a jar, then a
layer that deletes one installed npm package (an OCI whiteout) and adds a second jar.
lockgate must report exactly what ``pip list`` and ``npm ls`` report minus the deleted
package, attribute each package to the layer that introduced it, and find at least every
package Trivy finds in the same OCI layout.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from lockgate.config import Settings
from lockgate.fs.walker import analyze_image
from lockgate.inventory.lang import language_analyzers
from lockgate.inventory.lang._common import pep503
from lockgate.oci.image import load_image
from lockgate.oci.targets import open_source
from tests.fixtures.images import build_image
from tests.inventory.test_lang_oracles import _npm_ls, node_app, venv  # noqa: F401 - fixtures
from tests.inventory.test_lang_trivy import TRIVY_ONLY, _norm


def _jar(group: str, artifact: str, version: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            f"META-INF/maven/{group}/{artifact}/pom.properties",
            f"groupId={group}\nartifactId={artifact}\nversion={version}\n",
        )
        zf.writestr("META-INF/MANIFEST.MF", f"Manifest-Version: 1.0\nImplementation-Version: {version}\n")
    return buf.getvalue()


@pytest.mark.slow
def test_image_layers_whiteouts_and_trivy(venv: Path, node_app: Path, tmp_path: Path) -> None:  # noqa: F811
    l1, l2 = tmp_path / "l1", tmp_path / "l2"
    shutil.copytree(venv, l1 / "opt/venv", symlinks=True)
    shutil.copytree(node_app, l1 / "srv/app", symlinks=True)
    (l1 / "opt/lib").mkdir(parents=True)
    (l1 / "opt/lib/commons-text-1.10.0.jar").write_bytes(_jar("org.apache.commons", "commons-text", "1.10.0"))
    (l2 / "srv/app/node_modules").mkdir(parents=True)
    (l2 / "srv/app/node_modules/.wh.ms").write_bytes(b"")
    (l2 / "opt/lib").mkdir(parents=True)
    (l2 / "opt/lib/guava-31.1-jre.jar").write_bytes(_jar("com.google.guava", "guava", "31.1-jre"))
    image = build_image(tmp_path / "img", l1, l2)

    img = load_image(open_source(image.oci_ref))
    analysis = analyze_image(img, language_analyzers(), settings=Settings(cache_dir=tmp_path / "cache"), cache=False)
    assert len(analysis.layers) == 2
    pkgs = analysis.packages

    pip = subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    want_py = {(pep503(p["name"]), p["version"]) for p in json.loads(pip)}
    assert {(p.name, p.version) for p in pkgs if p.ecosystem == "PyPI"} == want_py

    npm_installed = {(p.name, p.version) for p in pkgs if p.ecosystem == "npm" and p.path.endswith("/package.json")}
    assert ("ms", "2.1.3") in _npm_ls(node_app)
    assert npm_installed == _npm_ls(node_app) - {("ms", "2.1.3")}

    maven = {(p.name, p.version, p.layer) for p in pkgs if p.ecosystem == "Maven"}
    assert maven == {
        ("org.apache.commons:commons-text", "1.10.0", analysis.layers[0]),
        ("com.google.guava:guava", "31.1-jre", analysis.layers[1]),
    }
    assert all(p.layer == analysis.layers[0] for p in pkgs if p.ecosystem == "PyPI")
    assert all(not p.path.startswith("/") for p in pkgs)

    # Trivy on the same OCI layout.
    out = subprocess.run(
        [
            "trivy", "image", "--quiet", "--cache-dir", str(tmp_path / "tcache"), "--scanners", "license",
            "--list-all-pkgs", "-f", "json", "--input", str(image.oci_dir),
        ],
        check=True, capture_output=True, text=True, timeout=300,
    ).stdout  # fmt: skip
    trivy = {
        _norm(p["Identifier"]["PURL"])
        for res in json.loads(out).get("Results", [])
        for p in res.get("Packages") or []
        if p.get("Identifier", {}).get("PURL")
    }
    ours = {_norm(p.purl) for p in pkgs}
    assert "pkg:npm/ms@2.1.3" not in trivy  # the peer applies the whiteout too
    missing = sorted(trivy - ours)
    print("trivy-only:", missing, "\nlockgate-only:", sorted(ours - trivy))
    assert [m for m in missing if m not in TRIVY_ONLY] == []
