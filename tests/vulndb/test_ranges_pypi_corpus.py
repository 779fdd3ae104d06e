"""The corpus PyPI advisories: every enumerated affected version must be inside the ranges.

PyPA generates ``affected[].versions`` from the ranges and PyPI's release list, so
the two are independent descriptions of the same set. For every entry with both,
each listed version is evaluated against the ranges alone (the list removed).

Of 140,846 listed versions in 2,620 entries, the ranges exclude exactly the ones in
``KNOWN_DIFFERENCES``, each an upstream inconsistency rather than an evaluation error:

- PYSEC-2023-61 (Django) lists the pre-releases of 3.2 and 4.2 (``3.2a1`` ...), but
  the ranges start at ``introduced: 3.2`` / ``4.2`` and PEP 440 puts ``3.2a1`` below
  ``3.2``.
- PYSEC-2023-177 lists ``23.9.0`` and ``23.9.0.post1``, but its ECOSYSTEM range says
  ``fixed: 23.9.0``; the list was derived from the record's GIT range, whose fix commit
  is later than the 23.9.0 tag.
- PYSEC-2021-114 has overlapping intervals in one range (``introduced: 2.11 ..
  fixed: 2.11.7`` and ``introduced: 0 .. fixed: 2.11.6``); the OSV evaluation walks the
  sorted events, so ``fixed: 2.11.6`` ends the affected span and 2.11.6 is not
  affected, while the list was built from the union of the two intervals.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from lockgate.vulndb.osv.ranges import compile_affected

KNOWN_DIFFERENCES = {
    ("PYSEC-2023-61", "3.2a1"),
    ("PYSEC-2023-61", "3.2b1"),
    ("PYSEC-2023-61", "3.2rc1"),
    ("PYSEC-2023-61", "4.2a1"),
    ("PYSEC-2023-61", "4.2b1"),
    ("PYSEC-2023-61", "4.2rc1"),
    ("PYSEC-2023-177", "23.9.0"),
    ("PYSEC-2023-177", "23.9.0.post1"),
    ("PYSEC-2021-114", "2.11.6"),
}


def test_enumerated_versions_are_inside_the_ranges(corpus: Path) -> None:
    """Also: every affected entry of every record compiles without error."""
    files = sorted((corpus / "osv" / "pypi" / "vulns").rglob("*.yaml"))
    assert len(files) > 2500
    compiled_entries = entries = listed = 0
    outside: set[tuple[str, str]] = set()
    for path in files:
        # BaseLoader keeps every scalar a string: "1.10" must not become the float 1.1
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CBaseLoader)
        for affected in doc.get("affected") or []:
            compile_affected(affected["package"]["ecosystem"], affected)
            compiled_entries += 1
            if not affected.get("ranges") or not affected.get("versions"):
                continue
            ranges_only = {k: v for k, v in affected.items() if k != "versions"}
            compiled = compile_affected(affected["package"]["ecosystem"], ranges_only)
            if not compiled.ranges:
                continue  # GIT ranges only: nothing to evaluate offline
            entries += 1
            for version in affected["versions"]:
                listed += 1
                if compiled.match(version) is None:
                    outside.add((doc["id"], version))
    assert compiled_entries >= len(files)
    assert entries > 2500 and listed > 100_000
    assert outside == KNOWN_DIFFERENCES
