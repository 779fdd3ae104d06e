"""Rule catalogue: ids, metadata, ``lockgate rules list`` and the generated ``docs/rules.md``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from lockgate.misconfig.docs import render_markdown
from lockgate.misconfig.kubernetes.pss import CHECKS
from lockgate.misconfig.rules import all_rules

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lockgate", *args], capture_output=True, text=True, input=stdin, timeout=60
    )


def test_every_rule_has_complete_metadata() -> None:
    rules = all_rules()
    assert {f"PSS-{c.id}" for c in CHECKS} <= set(rules)
    for r in rules.values():
        assert re.fullmatch(r"(PSS-[A-Za-z_]+|LG-[A-Z0-9]+-\d{3})", r.id), r.id
        assert r.title and r.description and r.remediation, r.id


def test_rules_list_json_matches_catalogue() -> None:
    out = _cli("rules", "list", "-f", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [d["id"] for d in data if d["family"] not in ("secret", "malware")] == list(all_rules())
    table = _cli("rules", "list", "--family", "rbac")
    assert table.returncode == 0
    assert "LG-RBAC-004" in table.stdout and "PSS-privileged" not in table.stdout
    bad = _cli("rules", "list", "--family", "nope")
    assert bad.returncode == 2 and "unknown rule family" in bad.stderr


def test_docs_rules_md_is_generated_and_current() -> None:
    text = (REPO / "docs" / "rules.md").read_text()
    assert text == render_markdown(), "run: python -m lockgate.misconfig.docs -o docs/rules.md"
    for rid in all_rules():
        assert f"### {rid}\n" in text
