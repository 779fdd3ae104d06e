"""The DSA/DLA/DTSA list parser on every line shape the corpus README describes, plus header oracle."""

from __future__ import annotations

import re
from pathlib import Path

from lockgate.findings.model import FixStatus
from lockgate.inventory.model import OSInfo, Package
from lockgate.vulndb.feeds.debian import parse_list
from lockgate.vulndb.feeds.importer import import_paths
from lockgate.vulndb.matcher import match
from lockgate.vulndb.osv.ingest import ImportIssue
from lockgate.vulndb.store import Store

TEXT = """\
[29 Mar 2023] DSA-5380-1 xorg-server - security update
\t{CVE-2023-1393}
\t[bullseye] - xorg-server 2:1.20.11-1+deb11u6
[17 Mar 2023] DSA-5356-2 sox - regression update
\t[bullseye] - sox 14.4.2+git20190427-2+deb11u2
[02 Dec 2009] DSA-1943-1 openldap openldap2.3 - SSL certificate
\t{CVE-2009-3767 }
\t[lenny] - openldap 2.4.11-1+lenny1 (medium)
\t[etch] - openldap2.3 2.3.30-5+etch3 (bug #553432; high)
\t[squeeze] - openldap <not-affected> (Vulnerable code not present)
\t[sid] - openldap 2.4.20-1
\t[bullseye] - demo <unfixed> (low)
\t[buster] - demo <end-of-life>
\t[bullseye] - demo2 kernel-image-2.4.17-ia64
\tNOTE: free text
[August 26th, 2005] DTSA-1-1 kismet - various
\t{CVE-2005-2626 CVE-2005-2627 }
\t[etch] - kismet 2005.08.R1-0.1etch1 (high)
[18 Apr 2018] DSA-4205-1 jessie end-of-life
"""


def test_every_line_shape() -> None:
    issues: list[ImportIssue] = []
    advs = {a.id: a for a in parse_list(TEXT, "list", issues)}
    assert list(advs) == ["DSA-5380-1", "DSA-5356-2", "DSA-1943-1", "DTSA-1-1", "DSA-4205-1"]
    x = advs["DSA-5380-1"]
    assert (x.aliases, x.published, x.summary, x.source) == (
        ("CVE-2023-1393",),
        "2023-03-29T00:00:00Z",
        "xorg-server - security update",
        "debian-dsa",
    )
    ((aff),) = x.affected
    assert (aff.package.ecosystem, aff.package.name) == ("Debian:11", "xorg-server")
    assert [(e.kind, e.value) for e in aff.ranges[0].events] == [("introduced", "0"), ("fixed", "2:1.20.11-1+deb11u6")]
    assert advs["DSA-5356-2"].aliases == ()
    o = advs["DSA-1943-1"]
    assert o.summary == "openldap openldap2.3 - SSL certificate"
    got = [
        (a.package.ecosystem, a.package.name, dict(a.ecosystem_specific), dict(a.database_specific)) for a in o.affected
    ]
    assert got == [
        ("Debian:5", "openldap", {"urgency": "medium"}, {}),
        ("Debian:4", "openldap2.3", {"urgency": "high"}, {}),
        ("Debian:11", "demo", {"urgency": "low"}, {"status": "unfixed"}),
        ("Debian:10", "demo", {}, {"status": "end-of-life"}),
    ]
    assert advs["DTSA-1-1"].published == "2005-08-26T00:00:00Z"
    assert advs["DTSA-1-1"].source == "debian-dtsa"
    assert advs["DSA-4205-1"].affected == ()
    reasons = [(i.where, i.reason) for i in issues]
    assert reasons == [
        ("list:11", "DSA-1943-1: unknown Debian release 'sid'"),
        ("list:14", "DSA-1943-1: 'kernel-image-2.4.17-ia64' is not a Debian version"),
    ]


def test_fix_status_for_unfixed_and_end_of_life(tmp_path: Path) -> None:
    (tmp_path / "list").write_text(TEXT)
    import_paths(tmp_path / "t.db", [tmp_path / "list"], replace=True)
    with Store(tmp_path / "t.db") as store:
        pkg = Package("deb", "libdemo", "1.0-1", source_name="demo")
        (on_bullseye,) = match([pkg], OSInfo("debian", "11.2"), store)
        (on_buster,) = match([pkg], OSInfo("debian", "10.13"), store)
    assert (on_bullseye.id, on_bullseye.fix_status, on_bullseye.fixed_versions) == (
        "CVE-2009-3767",
        FixStatus.NOT_FIXED,
        (),
    )
    assert on_bullseye.severity_source == "debian"
    assert on_buster.fix_status is FixStatus.END_OF_LIFE


def test_corpus_headers_parse(corpus: Path) -> None:
    """Oracle: each header line's id, in order, from a plain regex over the raw file."""
    for name in ("DSA", "DLA", "DTSA"):
        text = (corpus / "debian-dsa/data" / name / "list").read_text()
        want = [m.group(1) for m in re.finditer(r"^\[[^\]]+\] (\S+)", text, re.M)]
        issues: list[ImportIssue] = []
        got = [a.id for a in parse_list(text, name, issues)]
        assert got == want
        assert all("date" not in i.reason for i in issues)
