"""The secret scanner: keyword prefilter, rule regexes, validation, allow-rules, redaction.

One YARA pass finds every rule's keywords (case-insensitive) with their offsets; a rule's
regex then runs only on the lines holding its keywords (multi-line rules such as PEM keys on
a bounded span from that line). The matched secret
is kept only long enough to validate it and is replaced by a redacted hint in every
:class:`SecretMatch`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lockgate.detect.secrets.checks import shannon_entropy
from lockgate.detect.secrets.prefilter import KeywordIndex
from lockgate.detect.secrets.redact import redact
from lockgate.detect.secrets.rules import BUILTIN_ALLOW, BUILTIN_RULES, PLACEHOLDER, AllowRule, Rule

MAX_MATCHES_PER_RULE = 100
"""Per file and rule; more findings add nothing but report size."""

MULTILINE_SPAN = 1 << 17
"""Bytes after a keyword's line searched by multi-line rules (PEM bodies, PuTTY keys)."""

MAX_MULTILINE_WINDOWS = 256
"""Keyword lines per file a multi-line rule looks at (bounds hostile files full of BEGIN lines)."""


@dataclass(frozen=True, slots=True)
class SecretMatch:
    """One secret found in a blob of text; ``redacted`` is all that is kept of the value."""

    rule: Rule
    start_line: int
    end_line: int
    column: int
    redacted: str


class SecretScanner:
    """Scans bytes for the configured rules; safe to share between threads (no mutable state)."""

    def __init__(self, rules: Sequence[Rule] | None = None, allow: Sequence[AllowRule] | None = None) -> None:
        self.rules: tuple[Rule, ...] = tuple(BUILTIN_RULES if rules is None else rules)
        self.allow: tuple[AllowRule, ...] = tuple(BUILTIN_ALLOW if allow is None else allow)
        ids = [r.id for r in self.rules]
        if len(set(ids)) != len(ids):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"duplicate secret rule ids: {', '.join(dup)}")
        self._index = KeywordIndex(self.rules)
        self._path_allow = tuple(a for a in self.allow if a.secret is None and not a.rules and a.path is not None)

    def path_allowed(self, path: str) -> bool:
        """True when an allow-rule exempts the whole file from every rule."""
        for a in self._path_allow:
            if a.contains and not any(c in path for c in a.contains):
                continue  # cheap substring test first: required() asks this for every file of every layer
            if a.path is not None and a.path.search(path):
                return True
        return False

    def scan(self, content: bytes, path: str = "") -> list[SecretMatch]:
        """All secrets in ``content`` (not allow-listed), in rule order then position."""
        if self.path_allowed(path):
            return []
        out: list[SecretMatch] = []
        for i, offsets in sorted(self._index.hits(content).items()):
            rule = self.rules[i]
            if rule.path is not None and not rule.path.search(path):
                continue
            out.extend(self._run(rule, content, path, offsets))
        return out

    def _windows(self, rule: Rule, content: bytes, offsets: list[int]) -> list[tuple[int, int, int]]:
        """(search start, search end, last allowed match start) per keyword line, no line twice.

        Single-line rules search the keyword's line. Multi-line rules search a span from the
        keyword's line and accept every match starting in it; keywords inside a span already
        searched start no new window, so no byte is searched twice.
        """
        out: list[tuple[int, int, int]] = []
        last_line = -1
        covered = -1  # multi-line rules: end of the last window, which already searched what lies inside it
        for off in offsets:
            if off < covered:
                continue
            ls = content.rfind(b"\n", 0, off) + 1
            if ls == last_line:
                continue
            last_line = ls
            le = content.find(b"\n", off)
            le = len(content) if le < 0 else le
            if rule.multiline:
                end = max(le, min(len(content), ls + MULTILINE_SPAN))
                covered = end
                out.append((ls, end, end))
                if len(out) >= MAX_MULTILINE_WINDOWS:
                    break
            else:
                out.append((ls, le, le))
        return out

    def _run(self, rule: Rule, content: bytes, path: str, offsets: list[int]) -> Iterable[SecretMatch]:
        found = 0
        group = "secret" if "secret" in rule.regex.groupindex else 0
        starts: set[int] = set()
        for ws, we, first_end in self._windows(rule, content, offsets):
            for m in rule.regex.finditer(content, ws, we):
                if m.start() > first_end:
                    break
                if m.start() in starts:
                    continue
                starts.add(m.start())
                secret = m.group(group)
                if not secret or not self._accept(rule, secret, path):
                    continue
                start = m.start(group)
                end = start + len(secret.rstrip(b" \t\r\n"))  # multi-line bodies may end with a newline
                line_start = content.rfind(b"\n", 0, start) + 1
                start_line = content.count(b"\n", 0, start) + 1
                yield SecretMatch(
                    rule=rule,
                    start_line=start_line,
                    end_line=start_line + content.count(b"\n", start, end),
                    column=start - line_start + 1,
                    redacted=redact(secret, hint=rule.hint),
                )
                found += 1
                if found >= MAX_MATCHES_PER_RULE:
                    return

    def allowed(self, rule_id: str, path: str, secret: bytes) -> bool:
        """True when an allow-rule exempts this (rule, path, secret) triple."""
        return any(a.allows(rule_id, path, secret) for a in self.allow)

    def _accept(self, rule: Rule, secret: bytes, path: str) -> bool:
        if rule.placeholder_check and PLACEHOLDER.match(secret.strip(b"\"'")):
            return False
        if rule.min_entropy and shannon_entropy(secret) < rule.min_entropy:
            return False
        if rule.validate is not None and not rule.validate(secret):
            return False
        return not any(a.allows(rule.id, path, secret) for a in self.allow)
