"""Advisory DB benchmark: import the whole offline corpus, then match 10,000 packages.

Prints wall and CPU seconds for the import, the DB size, and the time to match 10,000
packages (cold: empty caches on a fresh Store; warm: the same packages again), matched
together against a Debian 11 OS, for two sets built from the corpus records:

- realistic: every Debian bullseye source, PyPI and Go name that has advisories once
  (80 % at its newest fixed version, 20 % at a vulnerable one), filled up with packages
  that have no advisories (as most packages of a real image);
- stress: versions named in the records, mostly vulnerable (about 14 findings each).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from lockgate.inventory.model import OSInfo, Package
from lockgate.vulndb.feeds.importer import import_paths
from lockgate.vulndb.matcher import match_report
from lockgate.vulndb.store import Store
from lockgate.vulndb.versions import comparator_for

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("LOCKGATE_SHARED", ROOT.parent / "shared")) / "corpus"
FEEDS = ("osv/pypi", "osv/go", "alpine-secdb", "debian-dsa")


def _name_versions(store: Store, eco_key: str) -> dict[str, tuple[list[str], list[str]]]:
    """name -> (fixed versions, vulnerable versions) named in the records of one ecosystem."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for name, entry, versions in store._db.execute(
        "SELECT name, entry, versions FROM affected WHERE ecosystem = ? ORDER BY rowid", (eco_key,)
    ).fetchall():
        e = json.loads(entry)
        fixed, vulnerable = out.setdefault(name, ([], []))
        vulnerable += versions.split("\n") if versions else []
        for r in e.get("ranges", []):
            for ev in r["events"]:
                fixed += [v for k, v in ev.items() if k == "fixed"]
                vulnerable += [v for k, v in ev.items() if k == "introduced" and v != "0"]
    return out


_ECOS = (("debian:11", "deb", "dpkg"), ("pypi", "PyPI", "PyPI"), ("go", "Go", "Go"))


def _realistic(store: Store, n: int) -> list[Package]:
    """Every name with advisories once (80 % at its newest fix, 20 % vulnerable), the rest without advisories."""
    pkgs: list[Package] = []
    i = 0
    for key, eco, cmp_eco in _ECOS:
        cmp = comparator_for(cmp_eco)
        for name, (fixed, vulnerable) in _name_versions(store, key).items():
            i += 1
            if i % 5 == 0 and vulnerable:
                v = vulnerable[0]
            elif fixed:
                v = cmp.max(fixed)
            else:
                continue
            pkgs.append(_pkg(eco, name, v))
    k = 0
    while len(pkgs) < n:
        eco = _ECOS[k % 3][1]
        pkgs.append(_pkg(eco, f"no-advisories-{k}", "1.0.0-1" if eco == "deb" else "1.0.0"))
        k += 1
    return pkgs[:n]


def _stress(store: Store, n: int) -> list[Package]:
    """Versions named in the records (mostly vulnerable ones): the worst case, ~14 findings per package."""
    pkgs: list[Package] = []
    seen: set[tuple[str, str, str]] = set()
    while len(pkgs) < n:
        before = len(pkgs)
        for key, eco, _ in _ECOS:
            for name, (fixed, vulnerable) in _name_versions(store, key).items():
                for v in [*vulnerable, *fixed]:
                    p = _pkg(eco, name, v)
                    if p.key not in seen:
                        seen.add(p.key)
                        pkgs.append(p)
                        break
        if len(pkgs) == before:
            break
    return pkgs[:n]


def _pkg(eco: str, name: str, version: str) -> Package:
    if eco == "deb":
        return Package("deb", f"{name}-bin", version, source_name=name)
    return Package(eco, name, version)


def _time(label: str, pkgs: list[Package], db: Path) -> float:
    bullseye = OSInfo("debian", "11.6", "bullseye")
    with Store(db) as store:
        t0, c0 = time.perf_counter(), time.process_time()
        cold = match_report(pkgs, bullseye, store)
        cold_wall, cold_cpu = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        match_report(pkgs, bullseye, store)
        warm_wall, warm_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"match {label}: {len(pkgs)} packages -> {len(cold.findings)} findings, {len(cold.gaps)} gaps; "
        f"cold {cold_wall:.3f} s wall / {cold_cpu:.3f} s CPU, warm {warm_wall:.3f} s wall / {warm_cpu:.3f} s CPU"
    )
    return cold_cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--packages", type=int, default=10_000)
    ap.add_argument("--db", type=Path, default=None, help="reuse this DB instead of importing the corpus")
    ap.add_argument("--keep", type=Path, default=None, help="copy the imported DB here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "lockgate.db"
            t0, c0 = time.perf_counter(), time.process_time()
            summary = import_paths(db, [CORPUS / f for f in FEEDS], replace=True)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            print(
                f"import: {summary.records} records, {len(summary.issues)} skipped, "
                f"{wall:.2f} s wall, {cpu:.2f} s CPU, DB {db.stat().st_size / 1e6:.1f} MB"
            )
        if args.keep:
            import shutil

            shutil.copyfile(db, args.keep)
        with Store(db) as store:
            realistic, stress = _realistic(store, args.packages), _stress(store, args.packages)
        cpu = _time("realistic", realistic, db)
        print(f"target < 1 s CPU for {len(realistic)} packages (realistic mix): {'met' if cpu < 1.0 else 'NOT met'}")
        _time("stress (mostly vulnerable versions)", stress, db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
