"""Trivy as the peer: on the same files, lockgate's language packages must equal or exceed Trivy's.

Two trees are scanned by both tools:

- lock files and manifests of every supported format, laid out under project folders in a
  temporary directory (copied at test time from the corpus, plus the hand-written PHP/.NET
  fixtures of ``test_lang_formats``), scanned with ``trivy fs --include-dev-deps``;
- the installed virtualenv and ``node_modules`` tree of ``test_lang_oracles``, scanned with
  ``trivy rootfs``.

Packages are compared by purl (Trivy's own purls, qualifiers dropped). Every Trivy package
lockgate lacks must be listed in ``TRIVY_ONLY`` with the reason; the test prints the full
difference report (``-s`` shows it) and fails on anything unexplained.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from lockgate.config import Settings
from lockgate.fs.directory import analyze_directory
from lockgate.inventory.lang import language_analyzers
from tests.inventory.test_lang_formats import COMPOSER_LOCK, DEPS_JSON, GRADLE_LOCKFILE, PACKAGES_LOCK, UV_LOCK
from tests.inventory.test_lang_oracles import node_app, venv  # noqa: F401 - fixtures

TRIVY = shutil.which("trivy")

LOCKS = {
    "python/scalibr/poetrylock/multiple-packages.v2.lock": "py-poetry/poetry.lock",
    "python/scalibr/pipfilelock/multiple-packages.json": "py-pipenv/Pipfile.lock",
    "python/scalibr/requirements/comments.txt": "py-req/requirements.txt",
    "npm/scalibr/packagelockjson/nested-dependencies.v2.json": "npm-v2/package-lock.json",
    "npm/scalibr/packagelockjson/nested-dependencies-dup.v1.json": "npm-v1/package-lock.json",
    "npm/scalibr/packagelockjson/alias.v2.json": "npm-alias/package-lock.json",
    "npm/scalibr/yarnlock/multiple-versions.v1.lock": "yarn-v1/yarn.lock",
    "npm/scalibr/yarnlock/scoped-packages.v2.lock": "yarn-berry/yarn.lock",
    "npm/scalibr/pnpmlock/multiple-packages.yaml": "pnpm-v5/pnpm-lock.yaml",
    "npm/scalibr/pnpmlock/peer-dependencies-advanced-v6.yaml": "pnpm-v6/pnpm-lock.yaml",
    "npm/scalibr/pnpmlock/peer-dependencies-advanced.v9.yaml": "pnpm-v9/pnpm-lock.yaml",
    "rust/scalibr/cargolock/many-packages.lock": "rust/Cargo.lock",
    "ruby/scalibr/gemfilelock/rails.lock": "ruby/Gemfile.lock",
    "ruby/scalibr/gemfilelock/has-git-gem.lock": "ruby-git/Gemfile.lock",
    "go/scalibr/gomod/indirect-1.23.mod": "go-123/go.mod",
    "go/scalibr/gomod/replace-mixed.mod": "go-replace/go.mod",
}

# purl -> why Trivy reports it and lockgate does not.
TRIVY_ONLY = {
    "pkg:golang/test": "Trivy lists the go.mod's own module (no version); it is the project, not a dependency",
    "pkg:pypi/demo@0.1.0": "Trivy lists the uv.lock's own (editable) project; it is the project, not a dependency",
    "pkg:npm/lockgate-oracle@1.0.0": "Trivy's rootfs mode treats the project's own top-level package.json as an "
    "installed package; it is the application being scanned, not something installed in node_modules",
}


def _norm(purl: str) -> str:
    """Qualifiers dropped; composer names lowercased (the purl spec says they are case-insensitive)."""
    purl = purl.split("?", 1)[0]
    return purl.lower() if purl.startswith("pkg:composer/") else purl


def _trivy(mode: str, target: Path, cache: Path) -> dict[str, set[str]]:
    assert TRIVY, "trivy (the peer) must be installed"
    dev = ["--include-dev-deps"] if mode == "fs" else []
    out = subprocess.run(
        [
            TRIVY, mode, "--quiet", "--cache-dir", str(cache), *dev, "--scanners", "license",
            "--list-all-pkgs", "-f", "json", str(target),
        ],
        check=True, capture_output=True, text=True, timeout=300,
    ).stdout  # fmt: skip
    found: dict[str, set[str]] = {}
    for res in json.loads(out).get("Results", []):
        for p in res.get("Packages") or []:
            purl = p.get("Identifier", {}).get("PURL", "")
            if purl:
                found.setdefault(res["Target"], set()).add(_norm(purl))
    return found


def _lockgate(root: Path) -> set[str]:
    analysis = analyze_directory(root, language_analyzers(), settings=Settings())
    return {_norm(p.purl) for p in analysis.packages if p.purl}


def _compare(trivy: dict[str, set[str]], ours: set[str]) -> None:
    report = []
    unexplained = []
    for target, purls in sorted(trivy.items()):
        for purl in sorted(purls - ours):
            reason = TRIVY_ONLY.get(purl)
            report.append(f"trivy-only {target}: {purl} -- {reason or 'UNEXPLAINED'}")
            if reason is None:
                unexplained.append(purl)
    every_trivy = set().union(*trivy.values()) if trivy else set()
    for purl in sorted(ours - every_trivy):
        report.append(f"lockgate-only: {purl}")
    print("\n".join(report))
    assert not unexplained, unexplained


@pytest.mark.slow
def test_lock_files_against_trivy(corpus: Path, tmp_path: Path) -> None:
    root = tmp_path / "tree"
    for src, dst in LOCKS.items():
        (root / dst).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / "pkgdb" / src, root / dst)
    (root / "php").mkdir()
    (root / "php/composer.lock").write_text(json.dumps(COMPOSER_LOCK))
    (root / "dotnet").mkdir()
    (root / "dotnet/MyApp.deps.json").write_text(json.dumps(DEPS_JSON))
    (root / "dotnet-lock").mkdir()
    (root / "dotnet-lock/packages.lock.json").write_text(json.dumps(PACKAGES_LOCK))
    (root / "gradle").mkdir()
    (root / "gradle/gradle.lockfile").write_text(GRADLE_LOCKFILE)
    (root / "py-uv").mkdir()
    (root / "py-uv/uv.lock").write_text(UV_LOCK)
    trivy = _trivy("fs", root, tmp_path / "cache")
    assert len(trivy) >= 15, sorted(trivy)
    ours = _lockgate(root)
    _compare(trivy, ours)


@pytest.mark.slow
def test_installed_trees_against_trivy(venv: Path, node_app: Path, tmp_path: Path) -> None:  # noqa: F811
    for tree in (venv, node_app):
        trivy = _trivy("rootfs", tree, tmp_path / "cache")
        assert trivy
        _compare(trivy, _lockgate(tree))
