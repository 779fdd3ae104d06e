"""Speed of the hot path: 10,000 installed packages checked against real advisories.

The packages are real (name, version) pairs drawn from the corpus PyPI advisories'
version lists, each checked against every ``affected[]`` entry for its name, with
cold version caches. The matcher's budget for 10,000 packages is one second in
total, so range evaluation must stay well inside it (CPU time, so a busy CI machine
does not make the test flaky).
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from pathlib import Path

import yaml

from lockgate.vulndb.osv.ranges import Affected, compile_affected
from lockgate.vulndb.versions import comparator_for, pep440


def test_ten_thousand_packages_under_budget(corpus: Path) -> None:
    by_name: dict[str, list[Affected]] = defaultdict(list)
    listed: dict[str, set[str]] = defaultdict(set)
    for path in sorted((corpus / "osv" / "pypi" / "vulns").rglob("*.yaml"))[::2]:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CBaseLoader)
        for affected in doc.get("affected") or []:
            name = affected["package"]["name"]
            by_name[name].append(compile_affected("PyPI", {k: v for k, v in affected.items() if k != "versions"}))
            listed[name].update(affected.get("versions") or [])
    rng = random.Random(7)
    names = sorted(n for n in by_name if listed[n])
    packages = [(n, rng.choice(sorted(listed[n]))) for n in (rng.choice(names) for _ in range(10_000))]
    pep440.parse.cache_clear()

    start = time.process_time()
    evaluations = hits = 0
    for name, version in packages:
        for entry in by_name[name]:
            evaluations += 1
            hits += entry.match(version) is not None
    elapsed = time.process_time() - start

    print(f"{evaluations} evaluations, {hits} affected, {elapsed:.3f}s CPU")
    assert evaluations > 10_000 and hits > 1_000
    assert elapsed < 0.6, f"{evaluations} evaluations took {elapsed:.2f}s CPU"


def test_compare_is_cached_and_fast() -> None:
    deb = comparator_for("Debian:12")
    versions = [f"{i % 7}:{i % 13}.{i % 5}~rc{i % 3}-{i % 4}+deb12u{i % 2}" for i in range(2_000)]
    deb.sorted(versions)  # warm the caches
    start = time.process_time()
    for i in range(100_000):
        deb.compare(versions[i % 2_000], versions[(i * 7) % 2_000])
    per_compare = (time.process_time() - start) / 100_000
    assert per_compare < 10e-6, f"{per_compare * 1e6:.1f} µs per comparison"
