"""Independent expectations for the accuracy tests, computed from the raw advisory files.

Nothing here imports lockgate: the Debian lists are read line by line and versions compared
with ``dpkg --compare-versions``; PyPI OSV YAML is evaluated with ``packaging``; Go OSV JSON
with ``golang.org/x/mod/semver`` (the copy vendored in the installed Go toolchain, compiled
here into a tiny comparison program in GOPATH mode).
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from tests.fixtures.images import TEST_CACHE, file_lock


def lockgate_scan(image_ref: str, db: Path, *extra: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    """Run ``lockgate scan image REF -f json`` as a user would; (exit code, report, stderr)."""
    r = subprocess.run(
        [sys.executable, "-m", "lockgate", "scan", "image", image_ref, "--db", str(db), "--db-max-age", "36500d",
         "--scanners", "vuln", "-f", "json", *extra],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    doc = json.loads(r.stdout) if r.stdout.strip() else {}
    return r.returncode, doc, r.stderr


def vuln_pairs(report: dict, ecosystem: str | None = None) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    """(package name, finding id) of every vulnerability finding in a lockgate JSON report."""
    return {
        (f["package"]["name"], f["id"])
        for f in report.get("findings", [])
        if f["kind"] == "vulnerability" and (ecosystem is None or f["package"]["ecosystem"] == ecosystem)
    }


# -- Debian -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DebLine:
    """One ``[release] - package fix`` line of a DSA/DLA advisory."""

    advisory: str
    cves: tuple[str, ...]
    fixed: str  # a version, or <not-affected> / <unfixed> / <end-of-life>

    @property
    def ids(self) -> tuple[str, ...]:
        """Finding ids this advisory yields: its CVEs, or the advisory id when it names none."""
        return self.cves or (self.advisory,)


def debian_lines(corpus: Path, release: str) -> dict[str, list[DebLine]]:
    """source package -> advisory lines for one release, read straight from the list files."""
    out: dict[str, list[DebLine]] = defaultdict(list)
    for name in ("DSA", "DLA"):
        adv, cves = "", ()
        for line in (corpus / "debian-dsa/data" / name / "list").read_text().splitlines():
            if line.startswith("["):
                adv, cves = line.split("] ", 1)[1].split()[0], ()
            elif line.strip().startswith("{"):
                cves = tuple(re.findall(r"CVE-\d+-\d+", line))
            elif m := re.match(rf"\s+\[{release}\] - (\S+) (\S+)", line):
                out[m.group(1)].append(DebLine(adv, cves, m.group(2)))
    return out


def dpkg_lt(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], bool]:
    """``a lt b`` for every pair, decided by ``dpkg --compare-versions`` itself."""
    todo = sorted(set(pairs))

    def one(p: tuple[str, str]) -> bool:
        return subprocess.run(["dpkg", "--compare-versions", p[0], "lt", p[1]], check=False).returncode == 0

    with ThreadPoolExecutor(4) as ex:
        return dict(zip(todo, ex.map(one, todo), strict=True))


@dataclass(frozen=True)
class DpkgEntry:
    """One installed binary package as ``dpkg-query`` reports it."""

    package: str
    version: str
    source: str
    source_version: str


def dpkg_query(admindir: Path) -> list[DpkgEntry]:
    """Installed packages of a dpkg database, read by dpkg-query (source name and version resolved by dpkg)."""
    fmt = "${db:Status-Abbrev}\t${Package}\t${Version}\t${source:Package}\t${source:Version}\n"
    out = subprocess.run(
        ["dpkg-query", "-W", f"--admindir={admindir}", "-f", fmt], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split("\t") for line in out.splitlines() if line]
    return [DpkgEntry(*r[1:]) for r in rows if r[0].startswith("ii")]


def debian_expected(entries: list[DpkgEntry], lines: dict[str, list[DebLine]]) -> set[tuple[str, str]]:
    """(binary package, id) per the corpus README's rule: affected iff source version < fix."""
    lt = dpkg_lt(
        (e.source_version, ln.fixed) for e in entries for ln in lines.get(e.source, ()) if not ln.fixed.startswith("<")
    )
    want: set[tuple[str, str]] = set()
    for e in entries:
        for ln in lines.get(e.source, ()):
            if ln.fixed == "<not-affected>":
                continue
            if ln.fixed.startswith("<") or lt[(e.source_version, ln.fixed)]:
                want.update((e.package, i) for i in ln.ids)
    return want


# -- OSV (PyPI, Go) ---------------------------------------------------------------------------
@dataclass(frozen=True)
class OsvHit:
    """An OSV record that affects an installed package."""

    package: str
    record_id: str
    aliases: tuple[str, ...]

    @property
    def cves(self) -> tuple[str, ...]:
        return tuple(sorted({a for a in (self.record_id, *self.aliases) if a.startswith("CVE-")}))


def iter_osv(folder: Path) -> Iterator[dict]:  # type: ignore[type-arg]
    """Every OSV record of a corpus folder (JSON or YAML), withdrawn ones included."""
    for f in sorted(folder.iterdir()):
        if f.suffix == ".json":
            yield json.loads(f.read_text())
        elif f.suffix in (".yaml", ".yml"):
            yield yaml.load(f.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        elif f.is_dir():
            yield from iter_osv(f)


def _in_ranges(version: str, affected: dict, lt: Callable[[str, str], bool]) -> bool:  # type: ignore[type-arg]
    """The OSV schema's evaluation of ``affected`` for one version, ``lt`` being the ecosystem's order.

    Events sorted by version (``introduced: 0`` first); walking them, ``introduced <= v`` turns
    "affected" on, ``fixed <= v`` or ``last_affected < v`` turns it off; ``limit`` caps the range.
    """
    if version in affected.get("versions", []):
        return True

    def cmp(a: tuple[str, str], b: tuple[str, str]) -> int:
        if a[1] == b[1]:
            return 0
        if a[1] == "0":
            return -1
        if b[1] == "0":
            return 1
        return -1 if lt(a[1], b[1]) else (1 if lt(b[1], a[1]) else 0)

    for rng in affected.get("ranges", []):
        if rng["type"] not in ("ECOSYSTEM", "SEMVER"):
            continue
        events = [(k, v) for e in rng["events"] for k, v in e.items() if k != "limit"]
        limits = [e["limit"] for e in rng["events"] if "limit" in e and e["limit"] != "*"]
        state = False
        for kind, v in sorted(events, key=functools.cmp_to_key(cmp)):
            if kind == "introduced" and (v == "0" or not lt(version, v)):
                state = True
            elif (kind == "fixed" and not lt(version, v)) or (kind == "last_affected" and lt(v, version)):
                state = False
        if state and all(lt(version, lim) for lim in limits):
            return True
    return False


def osv_hits(
    records: Iterable[dict[str, Any]], ecosystem: str, installed: dict[str, str], lt: Callable[[str, str], bool]
) -> list[OsvHit]:
    """Records (not withdrawn) of ``ecosystem`` affecting ``installed`` (normalised name -> version)."""
    hits = []
    for rec in records:
        if rec.get("withdrawn"):
            continue
        for aff in rec.get("affected", []):
            pkg = aff.get("package", {})
            if pkg.get("ecosystem") != ecosystem:
                continue
            name = str(canonicalize_name(pkg["name"])) if ecosystem == "PyPI" else pkg["name"]
            hit = OsvHit(name, rec["id"], tuple(rec.get("aliases", [])))
            if name in installed and hit not in hits and _in_ranges(installed[name], aff, lt):
                hits.append(hit)  # one per package: a record may name several packages
    return hits


def pep440_lt(a: str, b: str) -> bool:
    """PEP 440 order by ``packaging`` (invalid versions never compare below)."""
    try:
        return Version(a) < Version(b)
    except InvalidVersion:
        return False


class GoSemver:
    """``golang.org/x/mod/semver.Compare`` from the Go toolchain's vendored copy, via a tiny Go program."""

    SOURCE = """package main

import (
\t"bufio"
\t"fmt"
\t"os"
\t"strings"

\t"golang.org/x/mod/semver"
)

func main() {
\tin := bufio.NewScanner(os.Stdin)
\tout := bufio.NewWriter(os.Stdout)
\tdefer out.Flush()
\tfor in.Scan() {
\t\tf := strings.Fields(in.Text())
\t\tif len(f) == 2 {
\t\t\tfmt.Fprintln(out, semver.Compare(f[0], f[1]))
\t\t}
\t}
}
"""

    def __init__(self) -> None:
        self.binary = self._build()
        self._memo: dict[tuple[str, str], int] = {}

    def _build(self) -> Path:
        goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
        vendored = Path(goroot) / "src/cmd/vendor/golang.org/x/mod"
        assert (vendored / "semver/semver.go").is_file(), "Go toolchain without vendored x/mod/semver"
        base = TEST_CACHE / "go-semcmp"
        exe = base / "semcmp"
        with file_lock(TEST_CACHE / "go-semcmp.lock"):
            if not exe.is_file() or (base / "main.go.txt").read_text() != self.SOURCE:
                src = base / "gopath/src"
                (src / "golang.org/x").mkdir(parents=True, exist_ok=True)
                link = src / "golang.org/x/mod"
                if link.is_symlink() or link.exists():
                    link.unlink()
                link.symlink_to(vendored)
                (src / "semcmp").mkdir(parents=True, exist_ok=True)
                (src / "semcmp/main.go").write_text(self.SOURCE)
                env = dict(os.environ, GO111MODULE="off", GOPATH=str(base / "gopath"), GOCACHE=str(base / "gocache"))
                subprocess.run(["go", "build", "-o", str(exe), "semcmp"], env=env, check=True, capture_output=True)
                (base / "main.go.txt").write_text(self.SOURCE)
        return exe

    def prime(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Compare many pairs in one run of the Go program."""
        todo = sorted({p for p in pairs if p not in self._memo})
        if not todo:
            return
        text = "".join(f"v{a} v{b}\n" for a, b in todo)
        out = subprocess.run([str(self.binary)], input=text, capture_output=True, text=True, check=True).stdout.split()
        assert len(out) == len(todo)
        self._memo.update(zip(todo, (int(x) for x in out), strict=True))

    def lt(self, a: str, b: str) -> bool:
        if (a, b) not in self._memo:
            self.prime([(a, b)])
        return self._memo[(a, b)] < 0


def osv_event_versions(records: Iterable[dict], ecosystem: str, names: set[str]) -> set[str]:  # type: ignore[type-arg]
    """Every version named in the range events / limits of records for ``names`` (to prime comparisons)."""
    out: set[str] = set()
    for rec in records:
        for aff in rec.get("affected", []):
            if aff.get("package", {}).get("ecosystem") == ecosystem and aff["package"]["name"] in names:
                for rng in aff.get("ranges", []):
                    for ev in rng["events"]:
                        out.update(v for v in ev.values() if v not in ("0", "*"))
    return out
