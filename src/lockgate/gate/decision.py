"""Decisions and the reasons behind them: the evidence chain a blocked user reads."""

from __future__ import annotations

import enum
from typing import Any

import msgspec


class Outcome(enum.StrEnum):
    ALLOW = "allow"
    WARN = "warn"
    DENY = "deny"


class Reason(msgspec.Struct, frozen=True):
    """One link of the evidence chain."""

    outcome: Outcome
    message: str
    finding: str = ""
    """Finding id (with package or location) that caused it."""
    rule: str = ""
    """Policy file and line, or the command-line option."""

    def to_dict(self) -> dict[str, Any]:
        d = {"outcome": self.outcome.value, "message": self.message}
        if self.finding:
            d["finding"] = self.finding
        if self.rule:
            d["rule"] = self.rule
        return d


class Decision(msgspec.Struct, frozen=True):
    outcome: Outcome
    reasons: tuple[Reason, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.outcome is not Outcome.DENY

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.outcome.value, "reasons": [r.to_dict() for r in self.reasons]}

    @staticmethod
    def of(reasons: list[Reason]) -> Decision:
        if any(r.outcome is Outcome.DENY for r in reasons):
            outcome = Outcome.DENY
        elif any(r.outcome is Outcome.WARN for r in reasons):
            outcome = Outcome.WARN
        else:
            outcome = Outcome.ALLOW
        return Decision(outcome, tuple(reasons))
