"""Formats the corpus lacks (PHP, .NET, uv.lock), path rules of the analysers, and purl correctness.

The PHP and .NET fixtures are written here by hand in the documented formats (Composer's
``composer.lock`` / ``installed.json`` v1 and v2, the .NET ``*.deps.json`` runtime manifest,
uv's ``uv.lock``), since no real ones are in the corpus and no PHP/.NET toolchain runs here.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from lockgate.fs.model import FileEntry
from lockgate.inventory.lang import extract, language_analyzers
from lockgate.inventory.lang._common import make_purl

COMPOSER_LOCK = {
    "_readme": ["This file locks the dependencies of your project to a known state"],
    "content-hash": "0123",
    "packages": [
        {
            "name": "symfony/console",
            "version": "v6.4.1",
            "license": ["MIT"],
            "require": {"php": ">=8.1", "symfony/string": "^5.4|^6.0", "ext-mbstring": "*"},
        },
        {"name": "symfony/string", "version": "v6.4.0", "license": ["MIT"]},
        {"name": "Monolog/Monolog", "version": "3.5.0", "license": ["MIT"]},
    ],
    "packages-dev": [{"name": "phpunit/phpunit", "version": "10.5.2", "license": ["BSD-3-Clause"]}],
}


def _names(result: object) -> set[tuple[str, str]]:
    return {(p.name, p.version) for p in result.packages}  # type: ignore[attr-defined]


def test_composer_lock() -> None:
    result = extract("composer.lock", json.dumps(COMPOSER_LOCK).encode(), path="app/composer.lock")
    assert not result.gaps
    assert _names(result) == {
        ("symfony/console", "6.4.1"),
        ("symfony/string", "6.4.0"),
        ("monolog/monolog", "3.5.0"),
        ("phpunit/phpunit", "10.5.2"),
    }
    by = {p.name: p for p in result.packages}
    assert by["symfony/console"].purl == "pkg:composer/symfony/console@v6.4.1"
    assert by["symfony/console"].dependencies == ("pkg:composer/symfony/string@v6.4.0",)
    assert by["symfony/console"].licenses == ("MIT",)
    assert dict(by["phpunit/phpunit"].metadata)["dep_groups"] == "dev"


def test_installed_json_v1_and_v2() -> None:
    v1 = [{"name": "guzzlehttp/guzzle", "version": "7.8.1", "license": ["MIT"]}]
    v2 = {
        "packages": [
            {"name": "guzzlehttp/guzzle", "version": "7.8.1", "version_normalized": "7.8.1.0"},
            {"name": "mockery/mockery", "version": "1.6.7"},
        ],
        "dev": True,
        "dev-package-names": ["mockery/mockery"],
    }
    r1 = extract("installed.json", json.dumps(v1).encode(), path="vendor/composer/installed.json")
    r2 = extract("installed.json", json.dumps(v2).encode(), path="vendor/composer/installed.json")
    assert _names(r1) == {("guzzlehttp/guzzle", "7.8.1")}
    assert _names(r2) == {("guzzlehttp/guzzle", "7.8.1"), ("mockery/mockery", "1.6.7")}
    dev = {p.name for p in r2.packages if dict(p.metadata).get("dep_groups") == "dev"}
    assert dev == {"mockery/mockery"}
    bad = extract("installed.json", b'"just a string"', path="vendor/composer/installed.json")
    assert bad.gaps and not bad.packages


DEPS_JSON = {
    "runtimeTarget": {"name": ".NETCoreApp,Version=v8.0", "signature": ""},
    "targets": {
        ".NETCoreApp,Version=v8.0": {
            "MyApp/1.0.0": {"dependencies": {"Newtonsoft.Json": "13.0.3", "Serilog": "3.1.1"}},
            "Newtonsoft.Json/13.0.3": {"runtime": {"lib/net6.0/Newtonsoft.Json.dll": {}}},
            "Serilog/3.1.1": {"dependencies": {"System.Diagnostics.DiagnosticSource": "7.0.2"}},
            "System.Diagnostics.DiagnosticSource/7.0.2": {},
        }
    },
    "libraries": {
        "MyApp/1.0.0": {"type": "project", "serviceable": False, "sha512": ""},
        "Newtonsoft.Json/13.0.3": {
            "type": "package",
            "serviceable": True,
            "sha512": "sha512-HrC5BXdl00IP9zeV+0Z848QW",
        },
        "Serilog/3.1.1": {"type": "package", "serviceable": True, "sha512": "sha512-abc"},
        "System.Diagnostics.DiagnosticSource/7.0.2": {"type": "package", "serviceable": True, "sha512": ""},
        "Microsoft.NETCore.App.Ref/8.0.0": {"type": "referenceassembly"},
    },
}


def test_deps_json() -> None:
    result = extract("deps.json", json.dumps(DEPS_JSON).encode(), path="app/MyApp.deps.json")
    assert not result.gaps
    assert _names(result) == {
        ("Newtonsoft.Json", "13.0.3"),
        ("Serilog", "3.1.1"),
        ("System.Diagnostics.DiagnosticSource", "7.0.2"),
    }
    serilog = next(p for p in result.packages if p.name == "Serilog")
    assert serilog.dependencies == ("pkg:nuget/System.Diagnostics.DiagnosticSource@7.0.2",)
    assert serilog.purl == "pkg:nuget/Serilog@3.1.1"
    assert all(p.ecosystem == "NuGet" for p in result.packages)


UV_LOCK = """version = 1
requires-python = ">=3.11"

[[package]]
name = "certifi"
version = "2024.8.30"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://files.pythonhosted.org/certifi-2024.8.30.tar.gz", hash = "sha256:00", size = 1 }

[[package]]
name = "demo"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "requests" },
]

[[package]]
name = "requests"
version = "2.32.3"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "certifi" },
    { name = "charset-normalizer" },
]

[[package]]
name = "Charset_Normalizer"
version = "3.4.0"
source = { registry = "https://pypi.org/simple" }
"""


def test_uv_lock_skips_the_project_itself() -> None:
    result = extract("uv.lock", UV_LOCK.encode(), path="uv.lock")
    assert not result.gaps
    assert _names(result) == {("certifi", "2024.8.30"), ("requests", "2.32.3"), ("charset-normalizer", "3.4.0")}
    requests = next(p for p in result.packages if p.name == "requests")
    assert requests.dependencies == ("pkg:pypi/certifi@2024.8.30", "pkg:pypi/charset-normalizer@3.4.0")


def test_requirements_include_is_reported_not_followed() -> None:
    text = (
        b"-r base.txt\nflask==3.0.0 \\\n    --hash=sha256:abc\n"
        b"Jinja2[i18n]==3.1.4 ; python_version >= '3.8'\nrequests>=2\n"
    )
    result = extract("requirements.txt", text, path="app/requirements-prod.txt")
    assert _names(result) == {("flask", "3.0.0"), ("jinja2", "3.1.4")}
    assert [g.reason for g in result.gaps] == ["requirements.txt: included file not followed: -r base.txt"]
    quiet = extract("requirements.txt", b"-r requirements.txt\n-c constraints.txt\nsix==1.16.0\n", path="r-dev.txt")
    assert not quiet.gaps  # the included file is scanned on its own; constraints install nothing


def _wanted(path: str, size: int = 1000, mode: int = 0o644) -> list[str]:
    entry = FileEntry(path=path, size=size, mode=mode)
    return [a.name for a in language_analyzers() if a.required(entry)]


def test_required_path_rules() -> None:
    assert _wanted("srv/app/node_modules/chalk/package.json") == ["lang-files"]
    assert _wanted("srv/app/package.json") == []  # the project manifest is not an installed package
    assert _wanted("srv/app/node_modules/@babel/core/package.json") == ["lang-files"]
    assert _wanted("node_modules/.pnpm/a@1.0.0/node_modules/a/package.json") == ["lang-files"]
    assert _wanted("srv/app/node_modules/resolve/test/fixture/package.json") == []
    assert _wanted("srv/app/node_modules/@babel/package.json") == []
    assert _wanted("srv/app/node_modules/x/package-lock.json") == []
    assert _wanted("srv/app/package-lock.json") == ["lang-files"]
    assert _wanted("usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA") == ["lang-files"]
    assert _wanted("usr/lib/python3/dist-packages/foo.egg-info") == ["lang-files"]
    assert _wanted("usr/lib/python3/dist-packages/foo.egg-info/PKG-INFO") == ["lang-files"]
    assert _wanted("app/requirements-dev.txt") == ["lang-files"]
    assert _wanted("app/METADATA") == []
    assert _wanted("usr/local/bundle/specifications/rake-13.0.3.gemspec") == ["lang-files"]
    assert _wanted("src/rake/rake.gemspec") == []  # a gem's source, not an installed gem
    assert _wanted("var/www/vendor/composer/installed.json") == ["lang-files"]
    assert _wanted("var/www/installed.json") == []
    assert _wanted("app/MyApp.deps.json") == ["lang-files"]
    assert _wanted("opt/app/lib/guava-31.1-jre.jar") == ["lang-java"]
    assert _wanted("src/go.mod") == ["lang-files"]
    assert _wanted("src/vendor/x/go.mod") == []
    assert _wanted("usr/bin/tool", size=5_000_000, mode=0o755) == ["lang-binary"]
    assert _wanted("usr/share/doc/tool", size=5_000_000, mode=0o644) == []
    assert _wanted("usr/lib/x86_64-linux-gnu/libssl.so.3", size=5_000_000, mode=0o755) == []


def test_every_file_format_has_a_name_prefilter() -> None:
    """The shared analyser rejects paths by name first: a format without a pre-filter would never run."""
    from lockgate.inventory.lang import formats

    for fmt in formats().values():
        if fmt.id not in ("binary", "jar"):
            assert fmt.names or fmt.suffixes or fmt.prefixes, fmt.id


def test_analyzers_satisfy_the_protocol_and_have_unique_names() -> None:
    from lockgate.fs.model import Analyzer

    analyzers = language_analyzers()
    assert all(isinstance(a, Analyzer) for a in analyzers)
    names = [a.name for a in analyzers]
    assert len(set(names)) == len(names)
    assert all(a.squash and a.needs_content and a.version >= 1 for a in analyzers)


_ECOS = {
    "PyPI": "pypi",
    "npm": "npm",
    "Go": "golang",
    "Maven": "maven",
    "RubyGems": "gem",
    "crates.io": "cargo",
    "Packagist": "composer",
    "NuGet": "nuget",
}


_SEGMENT = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._~+%!@é-]{0,8}", fullmatch=True)


@settings(max_examples=150, deadline=None)
@given(
    eco=st.sampled_from(sorted(_ECOS)),
    ns=st.lists(_SEGMENT, min_size=1, max_size=3).map("/".join),
    name=_SEGMENT,
    version=st.from_regex(r"(v?[0-9A-Za-z.+~^:-]{0,10})?", fullmatch=True),
)
def test_fast_purls_equal_packageurl(eco: str, ns: str, name: str, version: str) -> None:
    """make_purl joins packageurl's normalised parts itself: it must equal PackageURL.to_string().

    (Names and versions without whitespace: no ecosystem allows it, and packageurl itself fails on some.)
    """
    if eco in ("npm", "Maven", "Packagist"):
        ns = ns.split("/", 1)[0]
    full = f"{ns}:{name}" if eco == "Maven" else f"{ns}/{name}" if eco in ("Packagist", "Go") else name
    if eco == "npm":
        full = f"@{ns}/{name}"
    got = make_purl(eco, full, version)
    namespace, pname = None, full
    if eco == "npm" and "/" in full:
        namespace, pname = full.split("/", 1)
    elif eco == "Go" and "/" in full:
        namespace, pname = full.rsplit("/", 1)
    elif eco == "Maven":
        namespace, pname = full.split(":", 1)
    elif eco == "Packagist":
        namespace, pname = full.split("/", 1)
    elif eco == "PyPI":
        import re

        pname = re.sub(r"[-_.]+", "-", full).lower()
    ver = version
    if eco == "Go" and ver and not ver.startswith("v"):
        ver = "v" + ver
    want = PackageURL(type=_ECOS[eco], namespace=namespace, name=pname, version=ver or None).to_string()
    assert got == want


def test_go_mod_future_directive_is_noted_not_fatal() -> None:
    text = b"module example.com/app\n\ngo 1.26\n\nfrobnicate x\n\nrequire golang.org/x/net v0.30.0 // indirect\n"
    result = extract("go.mod", text, path="src/go.mod")
    assert {(p.name, p.version) for p in result.packages} == {("golang.org/x/net", "0.30.0"), ("stdlib", "1.26")}
    assert dict(result.packages[0].metadata)["indirect"] == "true"
    assert [g.reason for g in result.gaps] == ["go.mod: line 5: unknown directive 'frobnicate' skipped"]


PACKAGES_LOCK = {
    "version": 1,
    "dependencies": {
        "net8.0": {
            "Serilog": {"type": "Direct", "requested": "[3.1.1, )", "resolved": "3.1.1", "contentHash": "x"},
            "System.Diagnostics.DiagnosticSource": {"type": "Transitive", "resolved": "7.0.2"},
            "MyLib": {"type": "Project", "dependencies": {"Serilog": "[3.1.1, )"}},
        },
        "net8.0/linux-x64": {"Serilog": {"type": "Direct", "requested": "[3.1.1, )", "resolved": "3.1.1"}},
    },
}


def test_nuget_packages_lock() -> None:
    result = extract("packages.lock.json", json.dumps(PACKAGES_LOCK).encode(), path="src/app/packages.lock.json")
    assert not result.gaps
    assert _names(result) == {("Serilog", "3.1.1"), ("System.Diagnostics.DiagnosticSource", "7.0.2")}
    assert dict(next(p for p in result.packages if p.name == "Serilog").metadata)["direct"] == "true"


def test_python_licences_from_expression_field_and_classifiers(corpus: Path) -> None:
    """License-Expression wins, then License, then trove classifiers mapped to SPDX ids."""
    base = corpus / "pkgdb/python/trivy/packaging"
    cases = {
        "iniconfig-2.0.0.METADATA": ("MIT",),  # License-Expression: MIT
        "zipp-3.12.1.METADATA": ("MIT",),  # empty License, classifier MIT License
        "pyphen-0.14.0.METADATA": ("GPL-2.0-or-later", "LGPL-2.0-or-later", "MPL-1.1"),  # three classifiers
        "distlib-0.3.1.METADATA": ("Python license",),  # free text kept as declared
        "asyncssh-2.14.2.METADATA": ("EPL-2.0",),  # License: Eclipse Public License v2.0 (a known name)
        "networkx-3.0.METADATA": (),  # only a license file, no declared licence
    }
    for name, want in cases.items():
        result = extract("python-metadata", (base / name).read_bytes(), path=name)
        assert result.packages[0].licenses == want, name


GRADLE_LOCKFILE = """# This is a Gradle generated file for dependency locking.
# Manual edits can break the build and are not advised.
# This file is expected to be part of source control.
com.google.guava:failureaccess:1.0.1=compileClasspath,runtimeClasspath
com.google.guava:guava:31.1-jre=compileClasspath,runtimeClasspath
junit:junit:4.13.2=testCompileClasspath,testRuntimeClasspath
org.hamcrest:hamcrest-core:1.3=testCompileClasspath,testRuntimeClasspath
empty=annotationProcessor
"""


def test_gradle_lockfile() -> None:
    result = extract("gradle.lockfile", GRADLE_LOCKFILE.encode(), path="app/gradle.lockfile")
    assert not result.gaps
    assert _names(result) == {
        ("com.google.guava:failureaccess", "1.0.1"),
        ("com.google.guava:guava", "31.1-jre"),
        ("junit:junit", "4.13.2"),
        ("org.hamcrest:hamcrest-core", "1.3"),
    }
    dev = {p.name for p in result.packages if dict(p.metadata).get("dep_groups") == "dev"}
    assert dev == {"junit:junit", "org.hamcrest:hamcrest-core"}
    bad = extract("gradle.lockfile", b"not-a-coordinate=compileClasspath\n", path="gradle.lockfile")
    assert bad.gaps and not bad.packages
