"""Installed trees built by the real package managers, compared with what those managers report.

- A virtualenv with a few pinned packages from PyPI: lockgate's dist-info results must equal
  ``pip list --format json`` run in that venv.
- A ``node_modules`` tree from ``npm install`` of pinned packages: lockgate's installed
  packages must equal ``npm ls --all --json``; the ``package-lock.json`` npm wrote must give
  the same set, with dev flags.

Both trees are built once and cached under ``~/.cache/lockgate-tests`` (a file lock guards
the build, so parallel workers and later runs reuse them). The scan goes through the real
directory walker (``lockgate.fs.directory.analyze_directory``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lockgate.config import Settings
from lockgate.fs.directory import analyze_directory
from lockgate.inventory.lang import extract, language_analyzers
from lockgate.inventory.lang._common import pep503

CACHE = Path(os.environ.get("LOCKGATE_TEST_CACHE", Path.home() / ".cache" / "lockgate-tests"))

PY_PACKAGES = ("six==1.16.0", "python-dateutil==2.9.0.post0", "idna==3.7", "attrs==23.2.0", "Markdown==3.6")
NPM_DEPS = {"chalk": "4.1.2", "is-number": "7.0.0", "@sindresorhus/is": "4.6.0"}
NPM_DEV_DEPS = {"ms": "2.1.3"}


def _cached(name: str, spec: str, build: Callable[[Path], None]) -> Path:
    """Build ``name`` once per ``spec`` into the shared cache (file-locked; built in place, since
    virtualenvs record their own path; a ``.complete`` marker is written last)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(spec.encode()).hexdigest()[:12]
    final = CACHE / f"{name}-{key}"
    with open(CACHE / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (final / ".complete").exists():
            shutil.rmtree(final, ignore_errors=True)
            final.mkdir()
            build(final)
            (final / ".complete").write_text(spec)
    return final


def _build_venv(where: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(where / "venv")], check=True)
    subprocess.run(
        [str(where / "venv/bin/pip"), "install", "--disable-pip-version-check", "-q", *PY_PACKAGES],
        check=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def venv() -> Path:
    return _cached("lang-pyvenv", " ".join(PY_PACKAGES) + sys.version, _build_venv) / "venv"


def test_virtualenv_matches_pip_list(venv: Path) -> None:
    out = subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    want = {(pep503(p["name"]), p["version"]) for p in json.loads(out)}
    assert {pep503(s.split("==")[0]) for s in PY_PACKAGES} <= {n for n, _ in want}
    analysis = analyze_directory(venv, language_analyzers(), settings=Settings())
    got = {(p.name, p.version) for p in analysis.packages if p.ecosystem == "PyPI"}
    assert got == want
    by_name = {p.name: p for p in analysis.packages if p.ecosystem == "PyPI"}
    dateutil = by_name["python-dateutil"]
    assert "six" in dateutil.dependencies  # one METADATA file alone: a name
    assert dateutil.path.endswith(".dist-info/METADATA")
    assert dateutil.purl == "pkg:pypi/python-dateutil@2.9.0.post0"
    assert by_name["attrs"].licenses == ("MIT",)
    assert by_name["markdown"].licenses  # declared as a BSD licence in its metadata
    assert not [g for g in analysis.gaps if "site-packages" in g.where and "dist-info" in g.where]


def _build_node(where: Path) -> None:
    npm = shutil.which("npm")
    assert npm, "npm is required to build the node_modules oracle tree"
    manifest = {
        "name": "lockgate-oracle",
        "version": "1.0.0",
        "private": True,
        "dependencies": NPM_DEPS,
        "devDependencies": NPM_DEV_DEPS,
    }
    (where / "app").mkdir()
    (where / "app/package.json").write_text(json.dumps(manifest))
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--cache", str(where / "npm-cache")],
        cwd=where / "app",
        check=True,
        timeout=600,
    )
    shutil.rmtree(where / "npm-cache", ignore_errors=True)


@pytest.fixture(scope="module")
def node_app() -> Path:
    return _cached("lang-node", json.dumps([NPM_DEPS, NPM_DEV_DEPS]), _build_node) / "app"


def _npm_ls(app: Path) -> set[tuple[str, str]]:
    out = subprocess.run(["npm", "ls", "--all", "--json"], cwd=app, check=True, capture_output=True, text=True).stdout
    found: set[tuple[str, str]] = set()

    def walk(deps: dict[str, dict[str, object]]) -> None:
        for name, node in deps.items():
            found.add((name, str(node["version"])))
            walk(node.get("dependencies", {}))  # type: ignore[arg-type]

    walk(json.loads(out).get("dependencies", {}))
    return found


def test_node_modules_matches_npm_ls(node_app: Path) -> None:
    want = _npm_ls(node_app)
    assert ("chalk", "4.1.2") in want and len(want) > 5
    analysis = analyze_directory(node_app, language_analyzers(), settings=Settings())
    installed = {
        (p.name, p.version) for p in analysis.packages if p.ecosystem == "npm" and p.path.endswith("/package.json")
    }
    assert installed == want
    # The project's own package.json is not an installed package.
    assert not [p for p in analysis.packages if p.name == "lockgate-oracle"]
    chalk = next(p for p in analysis.packages if p.name == "chalk" and p.path.endswith("package.json"))
    # Each installed manifest is parsed alone: its dependencies are names (no versions in the file).
    assert set(chalk.dependencies) == {"ansi-styles", "supports-color"}
    assert chalk.licenses == ("MIT",)
    scoped = next(p for p in analysis.packages if p.name == "@sindresorhus/is")
    assert scoped.purl == "pkg:npm/%40sindresorhus/is@4.6.0"


def test_package_lock_written_by_npm(node_app: Path) -> None:
    want = _npm_ls(node_app)
    result = extract("package-lock.json", (node_app / "package-lock.json").read_bytes(), path="app/package-lock.json")
    assert not result.gaps
    assert {(p.name, p.version) for p in result.packages} == want
    dev = {p.name for p in result.packages if dict(p.metadata).get("dep_groups", "").startswith("dev")}
    assert dev == set(NPM_DEV_DEPS)
    # Dependencies are resolved the way node does (nearest node_modules): every edge is a purl of
    # a package in the same lock file, and chalk points at the versions npm installed for it.
    purls = {p.purl for p in result.packages}
    assert all(d in purls for p in result.packages for d in p.dependencies)
    chalk = next(p for p in result.packages if p.name == "chalk")
    versions = dict(want)
    assert set(chalk.dependencies) == {
        f"pkg:npm/ansi-styles@{versions['ansi-styles']}",
        f"pkg:npm/supports-color@{versions['supports-color']}",
    }


TINY_PYPROJECT = """[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "Tiny_Pkg.Demo"
version = "1.2.3.post4"
dependencies = ["six>=1.0"]
"""


def _build_archives(where: Path) -> None:
    """A wheel by ``pip wheel`` (build backend fetched from PyPI) and an egg by setuptools' bdist_egg."""
    proj = where / "proj"
    (proj / "tinypkg").mkdir(parents=True)
    (proj / "tinypkg/__init__.py").write_text("")
    (proj / "pyproject.toml").write_text(TINY_PYPROJECT)
    py = sys.executable
    subprocess.run([py, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(where / "dist"), str(proj)], check=True)
    subprocess.run(
        [py, "-c", "from setuptools import setup; setup()", "-q", "bdist_egg", "-d", str(where / "dist")],
        cwd=proj, check=True, capture_output=True,
    )  # fmt: skip


def test_wheel_and_egg_archives() -> None:
    dist = _cached("lang-pyarchives", TINY_PYPROJECT, _build_archives) / "dist"
    wheel = next(dist.glob("*.whl"))
    egg = next(dist.glob("*.egg"))
    # The tools name their outputs <name>-<version>-...: the oracle for what the metadata says.
    for archive in (wheel, egg):
        name, version = archive.name.split("-")[:2]
        result = extract("python-archive", archive.read_bytes(), path=f"wheels/{archive.name}")
        assert not result.gaps
        assert [(p.name, p.version) for p in result.packages] == [(pep503(name), version)]
        assert dict(result.packages[0].metadata)["archive"] == archive.suffix.lstrip(".").replace("whl", "wheel")
        if archive is wheel:  # eggs keep requirements in EGG-INFO/requires.txt, not in PKG-INFO
            assert result.packages[0].dependencies == ("six",)
    broken = extract("python-archive", wheel.read_bytes()[:200], path="wheels/broken.whl")
    assert broken.gaps and not broken.packages


def _build_yarn_pnpm(where: Path) -> None:
    """yarn 1 and pnpm 9 (installed from the npm registry with npm), each installing the same deps."""
    npm = shutil.which("npm")
    assert npm, "npm is required to install yarn and pnpm"
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(where / "tools"),
         "--cache", str(where / "npm-cache"), "yarn@1.22.22", "pnpm@9.15.0"],
        check=True, timeout=600,
    )  # fmt: skip
    manifest = {
        "name": "lockgate-oracle",
        "version": "1.0.0",
        "private": True,
        "dependencies": NPM_DEPS,
        "devDependencies": NPM_DEV_DEPS,
    }
    bin_dir = where / "tools/node_modules/.bin"
    for tool, argv in (
        ("yarn", ["install", "--silent", "--no-progress", "--cache-folder", str(where / "yarn-cache")]),
        ("pnpm", ["install", "--reporter=silent", "--store-dir", str(where / "pnpm-store")]),
    ):
        (where / tool).mkdir()
        (where / tool / "package.json").write_text(json.dumps(manifest))
        subprocess.run([str(bin_dir / tool), *argv], cwd=where / tool, check=True, timeout=600)
    for cache in ("npm-cache", "yarn-cache"):
        shutil.rmtree(where / cache, ignore_errors=True)


@pytest.fixture(scope="module")
def yarn_pnpm() -> Path:
    return _cached("lang-yarn-pnpm", json.dumps([NPM_DEPS, NPM_DEV_DEPS]), _build_yarn_pnpm)


def test_yarn_lock_matches_yarn_list(yarn_pnpm: Path) -> None:
    out = subprocess.run(
        [str(yarn_pnpm / "tools/node_modules/.bin/yarn"), "list", "--json", "--silent"],
        cwd=yarn_pnpm / "yarn", check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    want: set[tuple[str, str]] = set()

    def walk(trees: list[dict[str, object]]) -> None:
        for t in trees:
            if not t.get("shadow"):
                name, _, version = str(t["name"]).rpartition("@")
                want.add((name, version))
            walk(t.get("children", []))  # type: ignore[arg-type]

    walk(json.loads(out)["data"]["trees"])
    assert ("chalk", "4.1.2") in want
    lock = extract("yarn.lock", (yarn_pnpm / "yarn/yarn.lock").read_bytes(), path="yarn/yarn.lock")
    assert not lock.gaps
    assert {(p.name, p.version) for p in lock.packages} == want
    # The installed tree yarn wrote agrees too.
    tree = analyze_directory(yarn_pnpm / "yarn", language_analyzers(), settings=Settings())
    assert {(p.name, p.version) for p in tree.packages if p.path.endswith("/package.json")} == want


def test_pnpm_lock_and_store_match_pnpm_list(yarn_pnpm: Path) -> None:
    out = subprocess.run(
        [str(yarn_pnpm / "tools/node_modules/.bin/pnpm"), "list", "--json", "--depth", "Infinity"],
        cwd=yarn_pnpm / "pnpm", check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    want: set[tuple[str, str]] = set()

    def walk(deps: dict[str, dict[str, object]]) -> None:
        for name, node in deps.items():
            want.add((name, str(node["version"])))
            walk(node.get("dependencies", {}))  # type: ignore[arg-type]

    for project in json.loads(out):
        walk(project.get("dependencies", {}))
        walk(project.get("devDependencies", {}))
    assert ("chalk", "4.1.2") in want and ("ms", "2.1.3") in want
    lock_bytes = (yarn_pnpm / "pnpm/pnpm-lock.yaml").read_bytes()
    assert lock_bytes.startswith(b"lockfileVersion: '9.0'")
    lock = extract("pnpm-lock.yaml", lock_bytes, path="pnpm/pnpm-lock.yaml")
    assert not lock.gaps
    assert {(p.name, p.version) for p in lock.packages} == want
    # Dev-only packages: what `pnpm list --prod` leaves out.
    prod_out = subprocess.run(
        [str(yarn_pnpm / "tools/node_modules/.bin/pnpm"), "list", "--json", "--depth", "Infinity", "--prod"],
        cwd=yarn_pnpm / "pnpm", check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    all_packages = set(want)
    want.clear()
    for project in json.loads(prod_out):
        walk(project.get("dependencies", {}))
    dev_only = {n for n, _ in all_packages - want}
    want = all_packages
    assert dev_only == set(NPM_DEV_DEPS)
    assert {p.name for p in lock.packages if dict(p.metadata).get("dep_groups") == "dev"} == dev_only
    chalk = next(p for p in lock.packages if p.name == "chalk")
    assert {d.rsplit("@", 1)[0] for d in chalk.dependencies} == {"pkg:npm/ansi-styles", "pkg:npm/supports-color"}
    # pnpm's store layout: node_modules/.pnpm/<name>@<version>/node_modules/<name>/package.json;
    # the top-level node_modules entries are symlinks into it and are not followed.
    tree = analyze_directory(yarn_pnpm / "pnpm", language_analyzers(), settings=Settings())
    installed = [(p.name, p.version) for p in tree.packages if p.path.endswith("/package.json")]
    assert set(installed) == want
    assert len(installed) == len(want)


UV_PYPROJECT = """[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["requests==2.32.3", "attrs==23.2.0"]
"""


def _build_uv(where: Path) -> None:
    """uv (from PyPI) locks a small project against PyPI and exports it as requirements.txt."""
    subprocess.run([sys.executable, "-m", "venv", str(where / "venv")], check=True)
    subprocess.run(
        [str(where / "venv/bin/python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", "uv==0.5.11"],
        check=True, timeout=600,
    )  # fmt: skip
    (where / "proj").mkdir()
    (where / "proj/pyproject.toml").write_text(UV_PYPROJECT)
    uv = str(where / "venv/bin/uv")
    subprocess.run([uv, "lock", "-q"], cwd=where / "proj", check=True, timeout=600)
    with open(where / "proj/requirements.txt", "w") as fh:  # with hashes and markers, as uv writes them
        subprocess.run([uv, "export", "-q", "--format", "requirements-txt"], cwd=where / "proj", stdout=fh, check=True)


def test_uv_lock_and_export_match() -> None:
    proj = _cached("lang-uv", UV_PYPROJECT, _build_uv) / "proj"
    exported = (proj / "requirements.txt").read_text()
    # Oracle: the pins uv itself exported (independent minimal reading: one "name==version" per requirement).
    import re

    want = {(pep503(m.group(1)), m.group(2)) for m in re.finditer(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", exported, re.M)}
    assert ("requests", "2.32.3") in want and len(want) >= 5
    lock = extract("uv.lock", (proj / "uv.lock").read_bytes(), path="proj/uv.lock")
    assert not lock.gaps
    assert {(p.name, p.version) for p in lock.packages} == want
    req = extract("requirements.txt", exported.encode(), path="proj/requirements.txt")
    assert not req.gaps
    assert {(p.name, p.version) for p in req.packages} == want
    requests = next(p for p in lock.packages if p.name == "requests")
    assert {d.split("@")[0] for d in requests.dependencies} >= {"pkg:pypi/certifi", "pkg:pypi/idna"}


DEBIAN_LANG_PACKAGES = (
    "libcommons-lang3-java",
    "libguava-java",
    "libjackson2-databind-java",
    "ruby-rack",
    "ruby-mustermann",
    "python3-six",
    "python3-requests",
    "python3-yaml",
)


def _build_debian_lang(where: Path) -> None:
    """Jars, gemspecs and Python egg-info/dist-info as Debian ships them: ``apt-get download``
    (nothing is installed) and ``dpkg-deb -x`` into a folder."""
    subprocess.run(["apt-get", "download", "-q", *DEBIAN_LANG_PACKAGES], cwd=where, check=True, timeout=600)
    for deb in where.glob("*.deb"):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(where / "root")], check=True)
        deb.unlink()


def test_debian_language_packages_match_syft_and_trivy(tmp_path: Path) -> None:
    """Syft (second oracle) must agree exactly; Trivy (the peer) must find nothing lockgate misses."""
    root = _cached("lang-debian", " ".join(DEBIAN_LANG_PACKAGES), _build_debian_lang) / "root"
    out = subprocess.run(
        ["syft", "scan", f"dir:{root}", "-o", "json", "-q"],
        check=True, capture_output=True, text=True, timeout=300,
        env={**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false", "XDG_CACHE_HOME": str(tmp_path)},
    ).stdout  # fmt: skip
    syft = {a["purl"] for a in json.loads(out)["artifacts"]}
    analysis = analyze_directory(root, language_analyzers(), settings=Settings())
    ours = {p.purl for p in analysis.packages}
    assert not analysis.gaps
    assert {p.split("/")[0] for p in ours} == {"pkg:maven", "pkg:gem", "pkg:pypi"}
    assert len(ours) == 8
    assert ours == syft
    out = subprocess.run(
        ["trivy", "rootfs", "--quiet", "--cache-dir", str(tmp_path / "trivy"), "--scanners", "license",
         "--list-all-pkgs", "-f", "json", str(root)],
        check=True, capture_output=True, text=True, timeout=300,
    ).stdout  # fmt: skip
    trivy = {p["Identifier"]["PURL"] for r in json.loads(out).get("Results", []) for p in r.get("Packages") or []}
    assert trivy and trivy <= ours  # offline Trivy identifies jars only with its Java DB: it reports none
