"""Artifact rules against the in-toto reference implementation: every rule list below is evaluated by
lockgate's ``apply_rules`` and by in-toto 3.1.0's ``verify_item_rules`` (run in the oracle venv), and the
outcomes (pass, or fail) must agree."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from lockgate.attest.intoto.rules import apply_rules, parse_rule
from lockgate.errors import InputError, PolicyFailure

from ._intoto import intoto_bin

H = {c: {"sha256": c * 64} for c in "abcdef"}
LINKS: dict[str, dict[str, Any]] = {
    "build": {
        "materials": {"src/a.c": H["a"], "src/b.c": H["b"], "old.txt": H["c"], "keep.txt": H["d"]},
        "products": {"src/a.c": H["a"], "src/b.c": H["e"], "out/app": H["f"], "keep.txt": H["d"]},
    },
    "package": {
        "materials": {"out/app": H["f"], "src/b.c": H["e"]},
        "products": {"dist/app": H["f"], "pkg.tar": H["a"]},
    },
}
CASES: list[tuple[str, str, list[list[str]]]] = [
    ("build", "products", [["CREATE", "out/*"], ["MODIFY", "src/b.c"], ["ALLOW", "src/*"], ["DISALLOW", "*"]]),
    ("build", "products", [["CREATE", "out/*"], ["DISALLOW", "*"]]),
    ("build", "products", [["MODIFY", "src/*"], ["CREATE", "*"], ["ALLOW", "keep.txt"], ["DISALLOW", "*"]]),
    ("build", "materials", [["DELETE", "old.txt"], ["ALLOW", "src/*"], ["DISALLOW", "*"]]),
    ("build", "materials", [["DELETE", "*"], ["ALLOW", "*.txt"], ["DISALLOW", "src/a.c"]]),
    ("build", "products", [["REQUIRE", "out/app"], ["CREATE", "out/app"]]),
    ("build", "products", [["CREATE", "out/app"], ["REQUIRE", "out/app"]]),
    ("build", "products", [["REQUIRE", "out/*"]]),
    ("package", "materials", [["MATCH", "*", "WITH", "PRODUCTS", "FROM", "build"], ["DISALLOW", "*"]]),
    ("package", "materials", [["MATCH", "app", "IN", "out", "WITH", "PRODUCTS", "IN", "out", "FROM", "build"],
                              ["DISALLOW", "*"]]),
    ("package", "materials", [["MATCH", "*", "WITH", "MATERIALS", "FROM", "build"], ["DISALLOW", "*"]]),
    ("package", "products", [["MATCH", "app", "IN", "dist", "WITH", "PRODUCTS", "IN", "out", "FROM", "build"],
                             ["CREATE", "pkg.tar"], ["DISALLOW", "*"]]),
    ("package", "products", [["MATCH", "*", "IN", "dist/", "WITH", "PRODUCTS", "FROM", "build"],
                             ["DISALLOW", "dist/*"]]),
    ("package", "products", [["MATCH", "*", "WITH", "PRODUCTS", "FROM", "missing-step"], ["DISALLOW", "*"]]),
    ("package", "materials", [["match", "*", "with", "products", "from", "build"], ["disallow", "*"]]),
]  # fmt: skip

ORACLE = r"""
import json, sys
from in_toto.models.link import Link
from in_toto.verifylib import verify_item_rules
from in_toto.exceptions import RuleVerificationError
cases, links = json.load(sys.stdin)
objs = {n: Link(name=n, materials=l["materials"], products=l["products"]) for n, l in links.items()}
out = []
for item, kind, rules in cases:
    try:
        verify_item_rules(item, kind, rules, objs)
        out.append("pass")
    except RuleVerificationError:
        out.append("fail")
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def oracle_outcomes() -> list[str]:
    python = intoto_bin() / "python"
    r = subprocess.run([str(python), "-c", ORACLE], input=json.dumps([CASES, LINKS]), capture_output=True,
                       text=True, check=True, timeout=120)  # fmt: skip
    outcomes: list[str] = json.loads(r.stdout)
    return outcomes


@pytest.mark.parametrize("i", range(len(CASES)))
def test_rules_agree_with_in_toto(i: int, oracle_outcomes: list[str]) -> None:
    item, kind, raw = CASES[i]
    rules = tuple(parse_rule(r, f"case {i}") for r in raw)
    links = {n: (v["materials"], v["products"]) for n, v in LINKS.items()}
    try:
        apply_rules(rules, kind, links[item][0], links[item][1], links, item)
        ours = "pass"
    except PolicyFailure:
        ours = "fail"
    assert ours == oracle_outcomes[i], f"{raw}: lockgate {ours}, in-toto {oracle_outcomes[i]}"


def test_both_outcomes_are_exercised(oracle_outcomes: list[str]) -> None:
    assert {"pass", "fail"} <= set(oracle_outcomes)


@pytest.mark.parametrize(
    "raw",
    [["MATCH", "*"], ["MATCH", "*", "WITH", "THINGS", "FROM", "x"], ["CREATE"], ["CREATE", "a", "b"], ["FOO", "x"],
     ["MATCH", "*", "WITH", "PRODUCTS", "FROM"], "CREATE *"],
)  # fmt: skip
def test_malformed_rules(raw: Any) -> None:
    with pytest.raises(InputError):
        parse_rule(raw, "rule")
