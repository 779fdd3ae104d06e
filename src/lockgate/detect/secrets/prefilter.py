"""One pass over a file that finds every rule's keywords at once (YARA's Aho-Corasick matcher).

Looking up ~100 keywords with ``bytes.find`` costs one full pass per absent keyword (seconds
on a 50 MB apt list); yara-python, already a dependency for the malware scanner, matches all
of them in one C pass and returns their offsets, so rule regexes only run on the lines that
hold a keyword.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yara

from lockgate.detect.secrets.rules import Rule

MAX_HITS_PER_RULE = 10_000
"""Keyword offsets kept per rule and file; enough to place every plausible match."""


def _literal(word: bytes) -> str:
    return "".join(chr(b) if chr(b).isalnum() or b in b"_- .:=" else f"\\x{b:02x}" for b in word)


def _source(rules: Sequence[Rule]) -> str:
    parts = []
    for i, r in enumerate(rules):
        strings = [f'$k{j} = "{_literal(k)}" nocase' for j, k in enumerate(r.keywords)]
        strings += [f'$c{j} = "{_literal(c)}" nocase' for j, c in enumerate(r.context)]
        cond = "any of ($k*)" + (" and all of ($c*)" if r.context else "")
        parts.append(f"rule r{i} {{ strings: {' '.join(strings)} condition: {cond} }}")
    return "\n".join(parts)


def _ignore_warning(*_: Any) -> int:
    return int(yara.CALLBACK_CONTINUE)


class KeywordIndex:
    """Keyword hits per rule for one content blob; compiled once per rule set."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._compiled = yara.compile(source=_source(self.rules)) if self.rules else None

    def hits(self, content: bytes) -> dict[int, list[int]]:
        """Rule index -> sorted offsets of its keywords, for rules whose keywords and context all occur."""
        if self._compiled is None or not content:
            return {}
        out: dict[int, list[int]] = {}
        for m in self._compiled.match(data=content, warnings_callback=_ignore_warning):
            offsets: list[int] = []
            for s in m.strings:
                if s.identifier.startswith("$k"):
                    offsets.extend(inst.offset for inst in s.instances[:MAX_HITS_PER_RULE])
            offsets.sort()
            out[int(m.rule[1:])] = offsets[:MAX_HITS_PER_RULE]
        return out
