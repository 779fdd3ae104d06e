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


SMALL_CONTENT = 8 * 1024
"""Blobs up to this size may be searched with ``bytes.find`` instead of YARA (see below)."""
SMALL_CALLS = 16
"""How many small blobs are searched in Python before the YARA rules are compiled anyway."""


class KeywordIndex:
    """Keyword hits per rule for one content blob.

    The YARA rules are compiled on first need (~10 ms): a run that only checks an image config
    (a few KiB of env, labels and history) searches those few small blobs with ``bytes.find``,
    which gives the same offsets; anything larger, or a walk over many files, uses YARA.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._compiled: Any = None
        self._small_calls = 0

    def hits(self, content: bytes) -> dict[int, list[int]]:
        """Rule index -> sorted offsets of its keywords, for rules whose keywords and context all occur."""
        if not self.rules or not content:
            return {}
        if self._compiled is None and len(content) <= SMALL_CONTENT and self._small_calls < SMALL_CALLS:
            self._small_calls += 1
            return self.hits_python(content)
        if self._compiled is None:
            self._compiled = yara.compile(source=_source(self.rules))
        out: dict[int, list[int]] = {}
        for m in self._compiled.match(data=content, warnings_callback=_ignore_warning):
            offsets: list[int] = []
            for s in m.strings:
                if s.identifier.startswith("$k"):
                    offsets.extend(inst.offset for inst in s.instances[:MAX_HITS_PER_RULE])
            offsets.sort()
            out[int(m.rule[1:])] = offsets[:MAX_HITS_PER_RULE]
        return out

    def hits_python(self, content: bytes) -> dict[int, list[int]]:
        """:meth:`hits` with ``bytes.find`` (ASCII case-insensitive, overlapping, like YARA's ``nocase``)."""
        low = content.lower()
        out: dict[int, list[int]] = {}
        for i, rule in enumerate(self.rules):
            if not all(c in low for c in rule.context):
                continue
            offsets: list[int] = []
            for k in rule.keywords:
                found = 0
                pos = low.find(k)
                while pos != -1 and found < MAX_HITS_PER_RULE:
                    offsets.append(pos)
                    found += 1
                    pos = low.find(k, pos + 1)
            if offsets:
                offsets.sort()
                out[i] = offsets[:MAX_HITS_PER_RULE]
        return out
