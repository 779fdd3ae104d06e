"""Import of the whole offline corpus: every record lands or is reported with a reason that is true.

Expectations are computed here from the raw files (file counts, headers, secfixes entries);
``dpkg --validate-version`` judges the Debian versions the importer rejected.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from lockgate.vulndb.feeds.importer import ImportSummary
from lockgate.vulndb.store import Store


def _feed(summary: ImportSummary, suffix: str):  # type: ignore[no-untyped-def]
    return next(f for f in summary.feeds if f.location.endswith(suffix))


def test_every_pypi_record_imports(corpus: Path, corpus_import: ImportSummary, corpus_store: Store) -> None:
    files = sorted((corpus / "osv/pypi/vulns").rglob("*.yaml"))
    feed = _feed(corpus_import, "osv/pypi")
    assert feed.issues == ()
    assert feed.records == len(files)
    for f in files[::97]:
        (adv,) = corpus_store.get(f.stem)
        assert adv.id == f.stem
        assert adv.source == "osv"


def test_every_go_record_imports(corpus: Path, corpus_import: ImportSummary, corpus_store: Store) -> None:
    files = sorted((corpus / "osv/go").glob("GO-*.json"))
    feed = _feed(corpus_import, "osv/go")
    assert feed.issues == ()
    assert feed.records == len(files)
    raw = json.loads(files[0].read_text())
    (adv,) = corpus_store.get(raw["id"])
    assert set(adv.aliases) == set(raw.get("aliases", []))
    assert [a.package.name for a in adv.affected] == [a["package"]["name"] for a in raw["affected"]]


def test_debian_lists_one_record_per_header_and_rejects_only_bad_versions(
    corpus: Path, corpus_import: ImportSummary
) -> None:
    headers = 0
    for name in ("DSA", "DLA", "DTSA"):
        text = (corpus / "debian-dsa/data" / name / "list").read_text()
        headers += sum(1 for line in text.splitlines() if line.startswith("["))
    feed = _feed(corpus_import, "debian-dsa")
    assert feed.records == headers
    assert feed.issues, "the corpus has one release line whose version field is a package name"
    for issue in feed.issues:
        m = re.search(r"'([^']+)' is not a Debian version", issue.reason)
        assert m, issue
        r = subprocess.run(["dpkg", "--validate-version", m.group(1)], capture_output=True, check=False)
        assert r.returncode != 0, f"dpkg accepts {m.group(1)!r} but it was rejected: {issue}"


def test_alpine_every_secfix_entry_imported_or_reported(
    corpus: Path, corpus_import: ImportSummary, corpus_store: Store
) -> None:
    feed = _feed(corpus_import, "alpine-secdb")
    reported = {(i.where, i.reason) for i in feed.issues}
    checked = 0
    for path in sorted((corpus / "alpine-secdb").glob("v3.*/*.json")):
        doc = json.loads(path.read_text())
        eco = f"Alpine:{doc['distroversion']}"
        for item in doc["packages"]:
            pkg = item["pkg"]
            for version, ids in (pkg.get("secfixes") or {}).items():
                for entry in ids or []:
                    token = entry.split()[0]
                    where = f"{path}:{pkg['name']}@{version}"
                    if version == "0":
                        continue
                    if not re.fullmatch(r"CVE-\d{4}-\d{4,}", token) and token.upper().startswith("CVE"):
                        assert any(w == where and token in r for w, r in reported), (where, token)
                        continue
                    advs = corpus_store.get(f"ALPINE-{token}")
                    assert len(advs) == 1, token
                    fixed = {
                        e.value
                        for a in advs[0].affected
                        if a.package.ecosystem == eco and a.package.name == pkg["name"]
                        for r in a.ranges
                        for e in r.events
                        if e.kind == "fixed"
                    }
                    assert version in fixed, (token, eco, pkg["name"], version)
                    checked += 1
    assert checked > 10000
    for where, reason in reported:
        assert "malformed" in reason or "not an apk version" in reason, (where, reason)


@pytest.mark.parametrize("eco", ["PyPI", "Go", "Debian:11", "Alpine:v3.11"])
def test_counts_per_ecosystem_are_reported(corpus_store: Store, eco: str) -> None:
    counts = corpus_store.counts_by_ecosystem()
    assert counts[eco] > 100
