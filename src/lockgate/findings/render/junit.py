"""JUnit XML: one test case per finding (failure) so CI systems show findings as failed tests."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from lockgate.findings.model import ScanReport
from lockgate.findings.render._common import sorted_findings


def render_junit(report: ScanReport) -> str:
    active = [f for f in sorted_findings(report) if not f.suppressed_by]
    suites = ET.Element("testsuites", name="lockgate")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=report.target,
        tests=str(max(len(active), 1) + len(report.gaps)),
        failures=str(len(active)),
        errors=str(len(report.gaps)),
    )
    for f in active:
        where = f.package.name if f.package else f.location.path
        case = ET.SubElement(suite, "testcase", classname=f"{f.kind.value}.{where}", name=f"[{f.severity.name}] {f.id}")
        fail = ET.SubElement(case, "failure", message=f.title or f.id, type=f.severity.name)
        lines = [f.description or f.title]
        if f.package is not None:
            lines.append(f"installed: {f.installed_version}; fixed: {', '.join(f.fixed_versions) or 'none'}")
        fail.text = "\n".join(x for x in lines if x)
    for g in report.gaps:
        case = ET.SubElement(suite, "testcase", classname="coverage", name=g.where)
        ET.SubElement(case, "error", message=g.reason)
    if not active and not report.gaps:
        ET.SubElement(suite, "testcase", classname="lockgate", name="no findings")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
