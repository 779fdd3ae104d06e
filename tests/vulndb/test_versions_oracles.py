"""Comparators against the real tools on thousands of generated version pairs.

- dpkg ordering against ``dpkg --compare-versions`` and validity against
  ``dpkg --validate-version`` (the Debian system's dpkg);
- rpm ordering against rpm 4.18's own ``rpm.vercmp`` (rpm's embedded Lua, one ``rpm``
  process per batch);
- Maven ordering against the installed Maven's ``ComparableVersion`` (one JVM per batch);
- Go module versions against ``golang.org/x/mod/semver`` as vendored in the installed Go toolchain;
- npm SemVer against the ``semver`` package from npm, run by node (installed once into
  ``~/.cache/lockgate-tests/node-semver``).

Pairs come from hypothesis strategies that build realistic versions, and from random
mutations of real versions taken from the corpus (release histories collected by
osv-scalibr). Each hypothesis example is one batch, so each oracle runs once per
batch, not once per pair.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from lockgate.vulndb.versions import comparator_for
from lockgate.vulndb.versions.dpkg import split

BATCH = 400
SETTINGS = settings(
    max_examples=4,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


def _real_versions(corpus: Path, name: str) -> list[str]:
    data = json.loads((corpus / "version-vectors" / "osv-scalibr-semantic" / name).read_text(encoding="utf-8"))
    return sorted({v for vec in data["vectors"] for v in (vec["a"], vec["b"])})


def mutate(rng: random.Random, version: str, alphabet: str) -> str:
    """A small random edit: bump or drop a character, insert one, or repeat a chunk."""
    if not version:
        return rng.choice(alphabet)
    i = rng.randrange(len(version))
    op = rng.randrange(5)
    if op == 0 and version[i].isdigit():
        return version[:i] + str((int(version[i]) + rng.randrange(1, 10)) % 10) + version[i + 1 :]
    if op == 1 and len(version) > 1:
        return version[:i] + version[i + 1 :]
    if op == 2:
        return version[:i] + rng.choice(alphabet) + version[i:]
    if op == 3:
        j = rng.randrange(i, len(version) + 1)
        return version[:j] + version[i:j] + version[j:]
    return version + rng.choice(alphabet) + str(rng.randrange(100))


def _pairs_from(
    rng: random.Random, real: list[str], gen: list[str], alphabet: str, keep: Callable[[str], bool]
) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    pool = real + gen
    while len(pairs) < BATCH:
        kind = rng.randrange(4)
        a = rng.choice(pool)
        if kind == 0:
            b = rng.choice(pool)
        elif kind == 1:
            b = mutate(rng, a, alphabet)
        elif kind == 2:
            b = a
            for _ in range(rng.randrange(1, 4)):
                b = mutate(rng, b, alphabet)
        else:
            a = mutate(rng, a, alphabet)
            b = mutate(rng, a, alphabet)
        if keep(a) and keep(b):
            pairs.append((a, b))
    return pairs


# --- dpkg ---------------------------------------------------------------------------

_DEB_UPSTREAM = st.from_regex(
    r"\A[0-9]{1,3}(\.[0-9]{1,4}){0,3}([a-z]{0,2})([~+][a-z]{1,6}[0-9]{0,3}(\.[0-9]{1,2})?){0,2}\Z"
)
_DEB_REVISION = st.from_regex(r"\A[0-9]{1,2}((ubuntu|deb|\+deb|\.|~bpo|build|\+b)[0-9]{1,2}(u[0-9])?){0,2}\Z")
DEB_VERSION = st.builds(
    lambda epoch, up, rev: f"{epoch}{up}{'-' + rev if rev else ''}",
    st.sampled_from(["", "", "", "1:", "2:", "0:"]),
    _DEB_UPSTREAM,
    st.one_of(st.just(""), _DEB_REVISION),
)
DEB_ALPHABET = "0123456789abcz.+~-:"


def _dpkg_oracle(pairs: list[tuple[str, str]], tmp: Path) -> list[int]:
    """Runs ``dpkg --compare-versions`` for every pair, in two shell loops."""
    script = (
        'while IFS="\t" read -r a b; do '
        'if dpkg --compare-versions -- "$a" lt "$b"; then echo -1; '
        'elif dpkg --compare-versions -- "$a" eq "$b"; then echo 0; else echo 1; fi; done'
    )
    half = len(pairs) // 2
    procs = []
    for n, chunk in enumerate((pairs[:half], pairs[half:])):
        f = tmp / f"deb-pairs-{n}.tsv"
        f.write_text("".join(f"{a}\t{b}\n" for a, b in chunk), encoding="utf-8")
        procs.append(
            subprocess.Popen(
                ["sh", "-c", script], stdin=f.open("rb"), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
            )
        )
    out: list[int] = []
    for p in procs:
        stdout, _ = p.communicate(timeout=300)
        assert p.returncode == 0
        out.extend(int(x) for x in stdout.split())
    assert len(out) == len(pairs)
    return out


def _dpkg_comparable(version: str) -> bool:
    """dpkg compares it (perhaps with a warning) rather than failing with an error."""
    return split(version)[3] and version.isascii() and version.isprintable()


@pytest.fixture(scope="module")
def real_debian(corpus: Path) -> list[str]:
    return _real_versions(corpus, "debian-versions-generated.json")


@settings(SETTINGS, max_examples=3)  # dpkg costs one process per comparison: 1,200 pairs
@given(st.lists(DEB_VERSION, min_size=40, max_size=40), st.randoms(use_true_random=False))
def test_dpkg_matches_dpkg(
    real_debian: list[str], tmp_path_factory: pytest.TempPathFactory, gen: list[str], rng: random.Random
) -> None:
    deb = comparator_for("Debian:12")
    # dpkg compares strings it only warns about (no leading digit, odd characters) too
    pairs = _pairs_from(rng, real_debian, gen, DEB_ALPHABET + "A_", _dpkg_comparable)
    want = _dpkg_oracle(pairs, tmp_path_factory.mktemp("dpkg"))
    bad = [(a, b, w, deb.compare(a, b)) for (a, b), w in zip(pairs, want, strict=True) if deb.compare(a, b) != w]
    assert not bad, bad[:20]


def test_dpkg_validity_matches_dpkg(real_debian: list[str]) -> None:
    """``valid()`` agrees with ``dpkg --validate-version`` on real and mutated strings."""
    rng = random.Random(4)
    candidates = [rng.choice(real_debian) for _ in range(150)]
    candidates += [mutate(rng, rng.choice(real_debian), DEB_ALPHABET + "A_!# ") for _ in range(350)]
    candidates += ["1:", ":1", "1.0-", "-1", "a1.0", "1:a", "01:1", " 1.0", "1.0 ", "1 .0", "", "1:1:1", "1.0-a-b"]
    script = (
        'while IFS= read -r v; do if dpkg --validate-version -- "$v" 2>/dev/null; then echo 1; else echo 0; fi; done'
    )
    res = subprocess.run(
        ["sh", "-c", script], input="".join(v + "\n" for v in candidates), capture_output=True, text=True, check=True
    )
    want = [x == "1" for x in res.stdout.split()]
    deb = comparator_for("Debian")
    bad = [(v, w) for v, w in zip(candidates, want, strict=True) if deb.valid(v) != w]
    assert not bad, bad[:20]


# --- rpm ----------------------------------------------------------------------------

_RPM_VERSION = st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,3}){0,3}([a-z]{1,3}[0-9]{0,2})?([~^][a-z]{0,4}[0-9]{0,3}){0,2}\Z")
_RPM_RELEASE = st.from_regex(
    r"\A[0-9]{1,3}(\.[0-9]{1,2})?(\.(el|fc|module\+el)[0-9]{1,2}(_[0-9])?)?([~^][a-z0-9]{1,4})?\Z"
)
RPM_EVR = st.builds(
    lambda e, v, r: f"{e}{v}{'-' + r if r else ''}",
    st.sampled_from(["", "", "1:", "0:", "2:", "10:"]),
    _RPM_VERSION,
    st.one_of(st.just(""), _RPM_RELEASE),
)
RPM_ALPHABET = "0123456789abz.~^_+-:"


def _rpm_oracle(pairs: list[tuple[str, str]], tmp: Path) -> list[int]:
    data = tmp / "rpm-pairs.tsv"
    data.write_text("".join(f"{a}\t{b}\n" for a, b in pairs), encoding="utf-8")
    lua = tmp / "vercmp.lua"
    lua.write_text(
        f"local f = io.open([[{data}]])\n"
        "for line in f:lines() do\n"
        '  local a, b = line:match("^(.-)\\t(.*)$")\n'
        '  io.write(rpm.vercmp(a, b), "\\n")\n'
        "end\n"
        "f:close()\n",
        encoding="utf-8",
    )
    res = subprocess.run(
        ["rpm", "--eval", f"%{{lua: dofile([[{lua}]])}}"], capture_output=True, text=True, check=True, timeout=120
    )
    out = [int(x) for x in res.stdout.split()]
    assert len(out) == len(pairs)
    return out


@pytest.fixture(scope="module")
def real_rpm(corpus: Path) -> list[str]:
    data = json.loads((corpus / "version-vectors" / "go-rpm-version.json").read_text(encoding="utf-8"))
    evrs = {v for vec in data["vectors"] for v in (vec["a"], vec["b"])}
    evrs |= set(_real_versions(corpus, "redhat-versions.json"))
    return sorted(v for v in evrs if v.isascii() and v.isprintable() and "\t" not in v and v.strip() == v and v)


@SETTINGS
@given(st.lists(RPM_EVR, min_size=40, max_size=40), st.randoms(use_true_random=False))
def test_rpm_matches_rpm(
    real_rpm: list[str], tmp_path_factory: pytest.TempPathFactory, gen: list[str], rng: random.Random
) -> None:
    assert shutil.which("rpm"), "rpm (the oracle) must be installed: apt-get install rpm"
    evr = comparator_for("Rocky Linux:9")
    pairs = _pairs_from(rng, real_rpm, gen, RPM_ALPHABET, lambda v: bool(v) and " " not in v)
    want = _rpm_oracle(pairs, tmp_path_factory.mktemp("rpm"))
    bad = [(a, b, w, evr.compare(a, b)) for (a, b), w in zip(pairs, want, strict=True) if evr.compare(a, b) != w]
    assert not bad, bad[:20]


# --- npm semver ---------------------------------------------------------------------

NODE_SCRIPT = r"""
const semver = require(process.argv[2]);
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const { pairs, versions } = JSON.parse(input);
  const cmp = pairs.map(([a, b]) =>
    semver.valid(a, true) && semver.valid(b, true) ? semver.compare(a, b, true) : null);
  const strict = versions.map((v) => semver.valid(v) !== null);
  process.stdout.write(JSON.stringify({ cmp, strict }));
});
"""


@pytest.fixture(scope="session")
def node_semver() -> Path:
    """``semver@7`` from npm, installed once per machine under a file lock."""
    assert shutil.which("node") and shutil.which("npm"), "node and npm are needed for the SemVer oracle"
    base = Path.home() / ".cache" / "lockgate-tests"
    base.mkdir(parents=True, exist_ok=True)
    target = base / "node-semver"
    with (base / "node-semver.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "node_modules" / "semver" / "package.json").is_file():
            subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(target), "semver@7"],
                check=True,
                capture_output=True,
                timeout=300,
            )
    return target / "node_modules" / "semver"


def _node_oracle(module: Path, pairs: list[tuple[str, str]], versions: list[str], tmp: Path) -> dict[str, list[Any]]:
    script = tmp / "oracle.js"
    script.write_text(NODE_SCRIPT, encoding="utf-8")
    res = subprocess.run(
        ["node", str(script), str(module)],
        input=json.dumps({"pairs": pairs, "versions": versions}),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    out: dict[str, list[Any]] = json.loads(res.stdout)
    return out


_IDENT = st.one_of(
    st.integers(0, 30).map(str),
    st.from_regex(r"\A[0-9A-Za-z-]{1,8}\Z"),
    st.sampled_from(["alpha", "beta", "rc", "pre", "dev", "SNAPSHOT", "next", "canary", "0a", "a0", "x-y"]),
)
SEMVER = st.builds(
    lambda prefix, nums, pre, build: (
        prefix
        + ".".join(map(str, nums))
        + ("-" + ".".join(pre) if pre else "")
        + ("+" + ".".join(build) if build else "")
    ),
    st.sampled_from(["", "", "", "v", "=", "v "]),
    st.tuples(st.integers(0, 12), st.integers(0, 30), st.integers(0, 200)),
    st.lists(_IDENT, max_size=4),
    st.lists(st.from_regex(r"\A[0-9A-Za-z-]{1,6}\Z"), max_size=2),
)
SEMVER_ALPHABET = "0123456789.-+abrcAZ"


@SETTINGS
@given(st.lists(SEMVER, min_size=60, max_size=60), st.randoms(use_true_random=False))
def test_semver_matches_node_semver(
    node_semver: Path, corpus: Path, tmp_path_factory: pytest.TempPathFactory, gen: list[str], rng: random.Random
) -> None:
    npm = comparator_for("npm")
    real = _real_versions(corpus, "semver-versions.json")
    pairs = _pairs_from(rng, real, gen, SEMVER_ALPHABET, lambda v: True)
    versions = sorted({v for p in pairs for v in p})
    res = _node_oracle(node_semver, pairs, versions, tmp_path_factory.mktemp("node"))
    checked = [(a, b, w) for (a, b), w in zip(pairs, res["cmp"], strict=True) if w is not None]
    assert len(checked) > BATCH // 3
    bad = [(a, b, w, npm.compare(a, b)) for a, b, w in checked if npm.compare(a, b) != w]
    assert not bad, bad[:20]
    bad_valid = [(v, w) for v, w in zip(versions, res["strict"], strict=True) if npm.valid(v) != w]
    assert not bad_valid, bad_valid[:20]


# --- Maven ----------------------------------------------------------------------------

MAVEN_ARTIFACT = Path("/usr/share/maven/lib/maven-artifact-3.x.jar")
MAVEN_SUFFIXES = [
    "-SNAPSHOT",
    ".Final",
    "-rc1",
    ".RELEASE",
    "-alpha-1",
    "-beta.2",
    "-M1",
    ".0",
    "-1",
    "-cr2",
    "b2",
    "-sp1",
]
MAVEN_ALPHABET = "0123456789.-abcmprs"
_WELL_FORMED = re.compile(
    # letters may be followed by a number, but not a zero one: ``test0-x`` holds a null token before
    # a hyphen, which the specification trims and Maven 3.8 does not (see the docstring below)
    r"\A[0-9]+(\.[0-9]+)*([A-Za-z]+([1-9][0-9]*)?)?"
    r"(-([1-9][0-9]*|(?!(ga|final|release)(-|\Z))[A-Za-z]+([1-9][0-9]*)?))*\Z",
    re.I,
)
_MAVEN = st.builds(
    lambda nums, q: ".".join(map(str, nums)) + q,
    st.lists(st.integers(0, 20), min_size=1, max_size=4),
    st.sampled_from(["", "", *MAVEN_SUFFIXES, "-alpha", "-beta-3", "-RC2", "-ga", "-final", "-foo", "-1-SNAPSHOT"]),
)


def _maven_oracle(pairs: list[tuple[str, str]]) -> list[int]:
    """Maven's own ``ComparableVersion`` (its ``main`` compares consecutive arguments)."""
    seq = [v for pair in pairs for v in pair]
    res = subprocess.run(
        ["java", "-cp", str(MAVEN_ARTIFACT), "org.apache.maven.artifact.versioning.ComparableVersion", *seq],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("   ")]
    out = []
    for i, (a, b) in enumerate(pairs):
        line = lines[2 * i].strip()
        for op, value in (("==", 0), ("<", -1), (">", 1)):
            if line == f"{a} {op} {b}":
                out.append(value)
                break
        else:
            raise AssertionError(f"unexpected ComparableVersion output {line!r} for {a!r} {b!r}")
    return out


@SETTINGS
@given(st.lists(_MAVEN, min_size=40, max_size=40), st.randoms(use_true_random=False))
def test_maven_matches_comparable_version(corpus: Path, gen: list[str], rng: random.Random) -> None:
    """Against the ``ComparableVersion`` of the installed Maven (3.8).

    The POM version-order specification, which OSV and the corpus vectors follow, and
    Maven 3.8's ``ComparableVersion`` differ on malformed corners: the specification
    says ``.qualifier < -qualifier`` where ``ComparableVersion`` reads a qualifier after
    ``.`` as if it followed ``-`` (``1.x == 1-x``), and the specification trims null
    tokens before every hyphen (``1-ga-1 == 1-1``, ``1-0M5 == 1-M5``) where Maven does
    not, nor for empty tokens (``1-.8``). Pairs outside the well-formed shape
    ``numbers[letters[digits]](-number|-letters[digits])*`` are left out; the rest must agree.
    """
    assert MAVEN_ARTIFACT.is_file() and shutil.which("java"), "Maven and Java (the oracle) must be installed"
    maven = comparator_for("Maven")
    real = _real_versions(corpus, "maven-versions-generated.json")
    pairs = _pairs_from(rng, real, gen, MAVEN_ALPHABET, lambda v: bool(v) and v[0] not in "-." and " " not in v)
    want = _maven_oracle(pairs)
    comparable = [
        (a, b, w) for (a, b), w in zip(pairs, want, strict=True) if _WELL_FORMED.match(a) and _WELL_FORMED.match(b)
    ]
    assert len(comparable) > BATCH // 4
    bad = [(a, b, w, maven.compare(a, b)) for a, b, w in comparable if maven.compare(a, b) != w]
    assert not bad, bad[:20]


# --- Go -------------------------------------------------------------------------------

GO_MAIN = """package main

import (
\t"bufio"
\t"fmt"
\t"os"
\t"strings"

\t"oracle/semver"
)

func main() {
\tin := bufio.NewScanner(os.Stdin)
\tin.Buffer(make([]byte, 1<<20), 1<<20)
\tfor in.Scan() {
\t\tp := strings.SplitN(in.Text(), "\\t", 2)
\t\tfmt.Println(semver.Compare(p[0], p[1]), semver.IsValid(p[0]))
\t}
}
"""


@pytest.fixture(scope="module")
def go_semver_oracle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny program around ``golang.org/x/mod/semver`` as vendored in the installed Go toolchain."""
    go = shutil.which("go")
    assert go, "the Go toolchain (the oracle) must be installed"
    goroot = Path(subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip())
    source = goroot / "src" / "cmd" / "vendor" / "golang.org" / "x" / "mod" / "semver" / "semver.go"
    work = tmp_path_factory.mktemp("go-semver")
    (work / "semver").mkdir()
    shutil.copyfile(source, work / "semver" / "semver.go")
    (work / "go.mod").write_text("module oracle\n\ngo 1.19\n", encoding="utf-8")
    (work / "main.go").write_text(GO_MAIN, encoding="utf-8")
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOPROXY": "off", "CGO_ENABLED": "0"}
    subprocess.run([go, "build", "-o", str(work / "oracle"), "."], cwd=work, env=env, check=True, timeout=300)
    return work / "oracle"


GO_VERSION = st.builds(
    lambda nums, pre, build: "v" + ".".join(map(str, nums)) + pre + build,
    st.lists(st.integers(0, 30), min_size=1, max_size=3),
    st.one_of(
        st.just(""),
        st.from_regex(r"\A-(0\.)?20[12][0-9]{11}-[0-9a-f]{12}\Z"),  # pseudo-versions
        st.lists(_IDENT, min_size=1, max_size=3).map(lambda ids: "-" + ".".join(ids)),
    ),
    st.sampled_from(["", "", "", "+incompatible", "+meta.1"]),
)
GO_ALPHABET = "0123456789.-+vabf"


@SETTINGS
@given(st.lists(GO_VERSION, min_size=60, max_size=60), st.randoms(use_true_random=False))
def test_go_matches_x_mod_semver(go_semver_oracle: Path, corpus: Path, gen: list[str], rng: random.Random) -> None:
    """Against ``golang.org/x/mod/semver`` (Compare and IsValid), which wants the ``v`` prefix."""
    go = comparator_for("Go")
    real = ["v" + v.removeprefix("v") for v in _real_versions(corpus, "semver-versions.json")]
    pairs = _pairs_from(rng, real, gen, GO_ALPHABET, lambda v: v.startswith("v") and "\t" not in v)
    res = subprocess.run(
        [str(go_semver_oracle)],
        input="".join(f"{a}\t{b}\n" for a, b in pairs),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    rows = [line.split() for line in res.stdout.splitlines()]
    assert len(rows) == len(pairs)
    bad = [
        (a, b, int(c), go.compare(a, b))
        for (a, b), (c, _) in zip(pairs, rows, strict=True)
        if go.compare(a, b) != int(c)
    ]
    assert not bad, bad[:20]
    bad_valid = [(a, v) for (a, _), (_, v) in zip(pairs, rows, strict=True) if go.valid(a) != (v == "true")]
    assert not bad_valid, bad_valid[:20]
    assert sum(v == "true" for _, v in rows) > BATCH // 3
