"""Secrets in real images: layer attribution (also for deleted files), image config, clean images, Trivy."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from lockgate.config import Settings
from lockgate.detect.secrets.analyzer import SecretAnalyzer
from lockgate.detect.secrets.config import scan_image_config
from lockgate.fs.directory import analyze_directory
from lockgate.fs.walker import analyze_image
from lockgate.oci.image import load_image
from lockgate.oci.model import ImageConfig
from lockgate.oci.targets import open_source
from tests.detect.samples import github_token, rnd, true_positives
from tests.fixtures.images import BuiltImage, build_image
from tests.inventory.test_lang_oracles import node_app, venv  # noqa: F401 - fixtures
from tests.tools import requires


@pytest.fixture(scope="module")
def layered(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuiltImage, dict[str, str]]:
    """Layer 1 ships three secrets; layer 2 deletes two of them and adds one."""
    tps = {s.rule: s for s in true_positives()}
    base = tmp_path_factory.mktemp("layered")
    l1, l2 = base / "l1", base / "l2"
    (l1 / "app").mkdir(parents=True)
    (l1 / "root/.ssh").mkdir(parents=True)
    (l1 / "app/.env").write_bytes(tps["aws-access-key-id"].content)
    (l1 / "root/.ssh/id_rsa").write_bytes(tps["private-key-rsa"].content)
    (l1 / "app/keep.txt").write_text(f"# ci\nGITHUB_TOKEN={github_token('ghp_')}\n")
    (l2 / "app").mkdir(parents=True)
    (l2 / "root/.ssh").mkdir(parents=True)
    (l2 / "app/.wh..env").write_bytes(b"")
    (l2 / "root/.ssh/.wh.id_rsa").write_bytes(b"")
    (l2 / "app/new.cfg").write_bytes(tps["slack-bot-token"].content)
    img = build_image(base / "img", l1, l2, repo_tag="lockgate/secrets:test")
    cfg = load_image(open_source(img.oci_ref)).config
    return img, {"l1": cfg.diff_ids[0], "l2": cfg.diff_ids[1]}


def test_lower_layer_secrets_kept_after_delete(layered: tuple[BuiltImage, dict[str, str]]) -> None:
    img, ids = layered
    res = analyze_image(load_image(open_source(img.oci_ref)), [SecretAnalyzer()], settings=Settings(), cache=False)
    got = sorted((f.location.path, f.id, f.location.start_line, f.location.layer) for f in res.findings)
    assert got == [
        ("app/.env", "aws-access-key-id", 2, ids["l1"]),
        ("app/keep.txt", "github-pat", 2, ids["l1"]),
        ("app/new.cfg", "slack-bot-token", 1, ids["l2"]),
        ("root/.ssh/id_rsa", "private-key-rsa", 3, ids["l1"]),
    ]


def test_same_findings_from_the_docker_archive_and_cache(layered: tuple[BuiltImage, dict[str, str]]) -> None:
    img, _ = layered
    a = analyze_image(load_image(open_source(img.archive_ref)), [SecretAnalyzer()], settings=Settings(), cache=True)
    b = analyze_image(load_image(open_source(img.oci_ref)), [SecretAnalyzer()], settings=Settings(), cache=True)
    assert len(a.findings) == 4
    assert sorted(f.to_dict().__repr__() for f in a.findings) == sorted(f.to_dict().__repr__() for f in b.findings)


@pytest.mark.slow
@requires("trivy")
def test_trivy_agrees_on_files_still_present(layered: tuple[BuiltImage, dict[str, str]], tmp_path: Path) -> None:
    """Trivy (the peer) reports the secrets of the final file system with layer and line; lockgate must too."""
    img, _ = layered
    out = subprocess.run(
        ["trivy", "image", "--quiet", "--cache-backend", "memory", "--skip-version-check", "--scanners", "secret",
         "--input", str(img.docker_archive), "-f", "json"],
        check=True, capture_output=True, text=True, env={"HOME": str(tmp_path), "PATH": "/usr/local/bin:/usr/bin:/bin"},
    ).stdout  # fmt: skip
    trivy = {
        (r["Target"].lstrip("/"), s["StartLine"], s["Layer"]["DiffID"])
        for r in json.loads(out).get("Results", [])
        for s in r.get("Secrets", [])
    }
    assert trivy, "trivy found nothing: the oracle is not working"
    res = analyze_image(load_image(open_source(img.oci_ref)), [SecretAnalyzer()], settings=Settings(), cache=False)
    ours = {(f.location.path, f.location.start_line, f.location.layer) for f in res.findings}
    assert trivy <= ours


def test_image_config_env_labels_history(tmp_path: Path) -> None:
    tps = {s.rule: s for s in true_positives()}
    gh = github_token("ghp_")
    pw = rnd(20)
    raw = {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/bin", f"GITHUB_TOKEN={gh}", f"DB_PASSWORD={pw}", "API_KEY_FILE=/run/secrets/k",
                    "REDIS_PASSWORD=${REDIS_PASSWORD}", "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D"],
            "Labels": {"maintainer": "x", "deploy.token": rnd(30), "org.opencontainers.image.source": "https://x/y"},
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "1" * 64, "sha256:" + "2" * 64]},
        "history": [
            {"created_by": "/bin/sh -c #(nop) ADD file:abc in /"},
            {"created_by": "/bin/sh -c #(nop)  ENV LANG=C.UTF-8", "empty_layer": True},
            {"created_by": "|1 NPM_TOKEN=" + tps["npm-access-token"].secret + " /bin/sh -c npm ci && "
                           "curl -u admin:" + pw + "x@artifacts.example/x --password=" + pw + "y"},
        ],
    }  # fmt: skip
    findings = scan_image_config(ImageConfig.parse(json.dumps(raw).encode()))
    got = sorted((f.id, f.location.path, f.location.start_line, f.location.layer) for f in findings)
    assert got == [
        ("config-env-secret", "image-config:env/DB_PASSWORD", 0, ""),
        ("config-history-secret", "image-config:history", 3, "sha256:" + "2" * 64),
        ("config-label-secret", "image-config:label/deploy.token", 0, ""),
        ("github-pat", "image-config:env/GITHUB_TOKEN", 0, ""),
        ("npm-access-token", "image-config:history", 3, "sha256:" + "2" * 64),
    ]
    text = json.dumps([f.to_dict() for f in findings])
    for s in (gh, pw, tps["npm-access-token"].secret):
        assert s[4:] not in text


def test_image_config_from_built_image(tmp_path: Path) -> None:
    pw = rnd(24)
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/hostname").write_text("x\n")
    img = build_image(tmp_path / "img", root, env=[f"POSTGRES_PASSWORD={pw}", "HOME=/root"], labels=["a=b"])
    findings = scan_image_config(load_image(open_source(img.oci_ref)).config)
    assert [(f.id, f.location.path) for f in findings] == [("config-env-secret", "image-config:env/POSTGRES_PASSWORD")]
    assert findings[0].title == "Environment variable POSTGRES_PASSWORD: *****"  # passwords show no prefix


@pytest.mark.slow
def test_debian_image_has_no_secrets(debian_image: BuiltImage) -> None:
    img = load_image(open_source(debian_image.oci_ref))
    res = analyze_image(img, [SecretAnalyzer()], settings=Settings(), cache=False)
    assert res.findings == ()
    assert res.gaps == ()
    assert scan_image_config(img.config) == ()


@pytest.mark.slow
def test_virtualenv_and_node_modules_have_no_secrets(venv: Path, node_app: Path) -> None:  # noqa: F811
    for tree in (venv, node_app):
        res = analyze_directory(tree, [SecretAnalyzer()], settings=Settings())
        assert [(f.id, f.location.path) for f in res.findings] == []
