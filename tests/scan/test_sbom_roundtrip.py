"""SBOM output and input: lockgate's own, Trivy's and Syft's SBOMs scan like the image itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import CORPUS
from tests.scan.conftest import ScanEnv, lockgate


def _findings(doc: dict) -> set[tuple[str, str]]:
    return {(f["package"]["name"], f["id"]) for f in doc["findings"] if f["kind"] == "vulnerability"}


def _scan_image(env: ScanEnv) -> dict:
    r = lockgate("scan", "image", env.image, "--db", str(env.db), "--db-max-age", "36500d", "-f", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _scan_sbom(env: ScanEnv, path: Path) -> dict:
    r = lockgate("scan", "sbom", str(path), "--db", str(env.db), "--db-max-age", "36500d", "-f", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx"])
def test_own_sbom_round_trip(scan_env: ScanEnv, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"sbom.{fmt}.json"
    r = lockgate("sbom", scan_env.image, "-f", fmt, "-o", str(out))
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    if fmt == "spdx":
        jsonschema.validate(doc, json.loads((CORPUS / "schemas/spdx-schema-2.3.json").read_text()))
    else:
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator

        assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(out.read_text()) is None
    image = _scan_image(scan_env)
    sbom = _scan_sbom(scan_env, out)
    assert sbom["os"]["family"] == "alpine"
    assert sbom["artifact_digest"] == image["artifact_digest"]
    assert _findings(sbom) == _findings(image)


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is installed by scripts/test.sh (install-reference-tools.sh)"
    return path


def test_trivy_sbom_scans_like_the_image(scan_env: ScanEnv, tmp_path: Path) -> None:
    out = tmp_path / "trivy.cdx.json"
    subprocess.run(
        [
            _tool("trivy"),
            "image",
            "--cache-dir",
            str(tmp_path / "tc"),
            "--skip-version-check",
            "--quiet",
            "--input",
            str(scan_env.oci_dir),
            "--format",
            "cyclonedx",
            "-o",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    sbom = _scan_sbom(scan_env, out)
    assert sbom["os"]["family"] == "alpine"
    assert _findings(sbom) == _findings(_scan_image(scan_env))


def test_syft_sbom_scans_like_the_image(scan_env: ScanEnv, tmp_path: Path) -> None:
    out = tmp_path / "syft.cdx.json"
    env = dict(os.environ, SYFT_CHECK_FOR_APP_UPDATE="false")
    subprocess.run(
        [_tool("syft"), "scan", f"oci-dir:{scan_env.oci_dir}", "-q", "-o", f"cyclonedx-json={out}"],
        check=True,
        capture_output=True,
        env=env,
    )
    sbom = _scan_sbom(scan_env, out)
    image = _scan_image(scan_env)
    assert _findings(sbom) == _findings(image)


def test_broken_sbom_is_a_clear_error(scan_env: ScanEnv, tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"hello": 1}')
    r = lockgate("scan", "sbom", str(bad), "--db", str(scan_env.db))
    assert r.returncode == 3 and "neither CycloneDX" in r.stderr
    bad.write_text("{not json")
    r = lockgate("scan", "sbom", str(bad), "--db", str(scan_env.db))
    assert r.returncode == 3 and "not a JSON SBOM" in r.stderr


@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx"])
def test_sbom_of_real_debian_image_validates(debian_image, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    """88 real packages with real licence data (several per package, expressions and names mixed)."""
    out = tmp_path / "sbom.json"
    r = lockgate("sbom", debian_image.oci_ref, "-f", fmt, "-o", str(out))
    assert r.returncode == 0, r.stderr
    if fmt == "spdx":
        doc = json.loads(out.read_text())
        jsonschema.validate(doc, json.loads((CORPUS / "schemas/spdx-schema-2.3.json").read_text()))
        names = {p["name"] for p in doc["packages"]}
    else:
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator

        assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(out.read_text()) is None
        doc = json.loads(out.read_text())
        names = {c["name"] for c in doc["components"] if c["type"] == "library"}
        assert any(len(c.get("licenses", [])) > 1 for c in doc["components"])
    dpkg = subprocess.run(
        ["dpkg-query", "--admindir", str(_rootfs_admindir(debian_image)), "-W", "-f", "${Package}\n"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert set(dpkg) <= names


def _rootfs_admindir(debian_image) -> Path:  # type: ignore[no-untyped-def]
    from tests.fixtures.images import ensure_debian_rootfs

    return ensure_debian_rootfs() / "var/lib/dpkg"
