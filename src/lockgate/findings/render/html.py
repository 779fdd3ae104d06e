"""A self-contained HTML report (inline CSS, no scripts, every value escaped)."""

from __future__ import annotations

from html import escape

from lockgate.findings.model import ScanReport
from lockgate.findings.render._common import severity_counts, sorted_findings

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%;margin:1em 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top;font-size:14px}
th{background:#f3f3f3}.CRITICAL{color:#fff;background:#b00020}.HIGH{color:#b00020}
.MEDIUM{color:#a66b00}.LOW{color:#00639b}.UNKNOWN{color:#666}
"""


def render_html(report: ScanReport) -> str:
    e = escape
    active = [f for f in sorted_findings(report) if not f.suppressed_by]
    counts = severity_counts(active)
    rows = []
    for f in active:
        where = f.package.name if f.package else f.location.path
        if f.location.start_line:
            where += f":{f.location.start_line}"
        refs = " ".join(f'<a href="{e(r)}">{e(r[:60])}</a>' for r in f.references[:3])
        rows.append(
            f"<tr><td>{e(f.kind.value)}</td><td>{e(f.id)}</td><td class='{f.severity.name}'>{f.severity.name}</td>"
            f"<td>{e(where)}</td><td>{e(f.installed_version)}</td><td>{e(', '.join(f.fixed_versions))}</td>"
            f"<td>{e(f.title)}</td><td>{refs}</td></tr>"
        )
    gaps = "".join(f"<li>{e(g.where)}: {e(g.reason)}</li>" for g in report.gaps)
    os_line = f"{e(report.os.family)} {e(report.os.version)}" if report.os else "unknown"
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>lockgate report: {e(report.target)}</title><style>{_CSS}</style></head><body>"
        f"<h1>lockgate report</h1><p><b>Target:</b> {e(report.target)}<br><b>Digest:</b> "
        f"{e(report.artifact_digest)}<br><b>OS:</b> {os_line}<br><b>Packages:</b> {len(report.packages)}</p>"
        "<p>" + " ".join(f"<span class='{k}'>{k}: {v}</span>" for k, v in counts.items()) + "</p>"
        "<table><tr><th>Kind</th><th>ID</th><th>Severity</th><th>Where</th><th>Installed</th><th>Fixed</th>"
        "<th>Title</th><th>References</th></tr>"
        + "".join(rows)
        + "</table>"
        + (f"<h2>Coverage gaps</h2><ul>{gaps}</ul>" if gaps else "")
        + "</body></html>\n"
    )
