"""Terraform checks (work in progress)."""

from __future__ import annotations

from lockgate.misconfig.model import Hit, Rule

RULES: tuple[Rule, ...] = ()


def check_terraform(text: str, where: str) -> list[tuple[Hit, int, str, dict[str, str]]]:
    """(hit, end line, resource address, suppressions)."""
    return []
