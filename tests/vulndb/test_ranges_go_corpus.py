"""The corpus Go vulnerability database as a real-data check of SEMVER ranges.

golang/vulndb validates every record with ``golang.org/x/mod/semver`` before
publishing: each SEMVER event is a valid version and a range's events are written
strictly ascending. So, for all 4,291 records: every event must be valid SemVer to
lockgate, every range's events must already be in lockgate's order, and every
``affected[]`` entry must compile.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from lockgate.vulndb.osv.ranges import affected_by, compile_affected
from lockgate.vulndb.versions import comparator_for


def test_go_vulndb_ranges_are_valid_and_sorted(corpus: Path) -> None:
    semver = comparator_for("semver")
    files = sorted((corpus / "osv" / "go").glob("GO-*.json"))
    assert len(files) > 4000
    ranges = pairs = 0
    invalid: set[str] = set()
    unsorted: list[tuple[str, str, str]] = []
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        for affected in doc.get("affected", []):
            compile_affected(affected["package"]["ecosystem"], affected)
            for rng in affected.get("ranges", []):
                if rng["type"] != "SEMVER":
                    continue
                ranges += 1
                versions = [v for event in rng["events"] for v in event.values() if v != "0"]
                invalid.update(v for v in versions if not semver.valid(v))
                for a, b in itertools.pairwise(versions):
                    pairs += 1
                    if semver.compare(a, b) >= 0:
                        unsorted.append((doc["id"], a, b))
    assert ranges > 5000 and pairs > 3000
    assert invalid == set()
    assert unsorted == []


def test_stdlib_record(corpus: Path) -> None:
    """GO-2022-0515: stdlib affected below 1.17.12 and in [1.18.0-0, 1.18.4)."""
    doc = json.loads((corpus / "osv" / "go" / "GO-2022-0515.json").read_text(encoding="utf-8"))
    entry = doc["affected"][0]
    assert entry["package"]["name"] == "stdlib"
    versions = ("1.17.11", "1.17.12", "1.18.0", "1.18.3", "1.18.4")
    affected = {v: affected_by("Go", v, entry) is not None for v in versions}
    assert affected == {"1.17.11": True, "1.17.12": False, "1.18.0": True, "1.18.3": True, "1.18.4": False}
    m = affected_by("Go", "1.18.0-rc.1", entry)  # go1.18rc1 is after 1.18.0-0
    assert m is not None and m.fixed == ("1.18.4",)
