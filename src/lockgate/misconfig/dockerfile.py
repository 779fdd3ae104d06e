"""Dockerfile checks (work in progress: parser and rules follow)."""

from __future__ import annotations

from lockgate.misconfig.model import Hit, Rule

RULES: tuple[Rule, ...] = ()


def check_dockerfile(text: str, where: str) -> list[tuple[Hit, dict[str, str]]]:
    """Hits and the inline suppressions in force for each."""
    return []
