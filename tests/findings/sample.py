"""A small, realistic report used by renderer and gate tests."""

from __future__ import annotations

from lockgate.findings.model import (
    CoverageGap,
    Finding,
    FindingKind,
    FixStatus,
    Location,
    ScanReport,
    Severity,
)
from lockgate.inventory.model import OSInfo, Package

DIGEST = "sha256:" + "b" * 64
LAYER = "sha256:" + "a" * 64

BASH = Package(
    "deb",
    "bash",
    "5.2.15-2+b2",
    purl="pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12.5",
    source_name="bash",
    source_version="5.2.15-2",
    licenses=("GPL-3.0-or-later", "GPL-2.0-only OR BSD-3-Clause", "public-domain"),
    path="var/lib/dpkg/status",
    layer=LAYER,
)
JINJA = Package(
    "PyPI",
    "jinja2",
    "2.10",
    purl="pkg:pypi/jinja2@2.10",
    licenses=("BSD-3-Clause",),
    path="usr/lib/python3/dist-packages/Jinja2-2.10.dist-info/METADATA",
    layer=LAYER,
    dependencies=("markupsafe",),
)
MARKUPSAFE = Package("PyPI", "markupsafe", "1.0", purl="pkg:pypi/markupsafe@1.0", licenses=("AGPL-3.0-only",))


def vuln(id_: str, sev: Severity, pkg: Package, fixed: tuple[str, ...] = (), aliases: tuple[str, ...] = ()) -> Finding:
    return Finding(
        kind=FindingKind.VULNERABILITY,
        id=id_,
        severity=sev,
        title=f"{id_} title <script>",
        aliases=aliases,
        package=pkg,
        installed_version=pkg.version,
        fixed_versions=fixed,
        fix_status=FixStatus.FIXED if fixed else FixStatus.NOT_FIXED,
        cvss=(("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),) if sev is Severity.CRITICAL else (),
        references=("https://example.invalid/" + id_,),
        location=Location(path=pkg.path, layer=pkg.layer),
    )


def sample_report(gaps: bool = False) -> ScanReport:
    findings = (
        vuln("CVE-2019-10906", Severity.HIGH, JINJA, ("2.10.1",), ("GHSA-462w-v97r-4m45", "PYSEC-2019-217")),
        vuln("CVE-2022-3715", Severity.CRITICAL, BASH),
        vuln("CVE-2099-0001", Severity.UNKNOWN, BASH),
        Finding(
            kind=FindingKind.SECRET,
            id="aws-access-key-id",
            severity=Severity.CRITICAL,
            title="AWS access key ****",
            location=Location(path="app/config.env", start_line=3, layer=LAYER),
        ),
    )
    return ScanReport(
        target="oci:demo:latest",
        artifact_type="container_image",
        artifact_digest=DIGEST,
        os=OSInfo("debian", "12.5", "bookworm"),
        packages=(BASH, JINJA, MARKUPSAFE),
        findings=findings,
        gaps=(CoverageGap("usr/bin/huge", "file exceeds 64 MiB", LAYER),) if gaps else (),
    )
