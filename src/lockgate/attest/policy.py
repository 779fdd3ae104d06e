"""Predicate policies: Rego (regopy, Microsoft's rego-cpp) and CEL (cel-python) checks over a verified
in-toto Statement.

Rego: the module's ``package`` is queried as a whole with the statement as ``input``; the check passes when
the package's ``deny`` set/list is empty and ``allow`` (when the package defines it) is true. Deny messages
become the one-line reason.

CEL: the expression sees ``statement`` (the whole Statement), ``predicate``, ``predicateType`` and
``subject``, and must evaluate to ``true``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lockgate.errors import ConfigError

_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)\s*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class RegoCheck:
    """A Rego module evaluated against each statement."""

    source: str
    name: str = "policy.rego"
    package: str = field(default="")

    def __post_init__(self) -> None:
        m = _PACKAGE.search(self.source)
        if m is None:
            raise ConfigError(f"{self.name}: Rego module has no package declaration")
        object.__setattr__(self, "package", m.group(1))
        self._query({"_type": "", "subject": [], "predicateType": "", "predicate": {}})  # fail early on syntax

    def _query(self, statement: dict[str, Any]) -> dict[str, Any]:
        import regopy

        interp = regopy.Interpreter()
        try:
            interp.add_module(self.name, self.source)
            interp.set_input(statement)
            out = interp.query(f"data.{self.package}")
        except Exception as e:  # regopy raises its own RegoError for parse and runtime errors
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ConfigError(f"{self.name}: Rego error: {first}") from None
        try:
            doc = json.loads(str(out))
        except ValueError:
            raise ConfigError(f"{self.name}: Rego evaluation failed: {str(out).strip().splitlines()[0]}") from None
        exprs = doc.get("expressions") if isinstance(doc, dict) else None
        value = exprs[0] if isinstance(exprs, list) and exprs else {}
        return value if isinstance(value, dict) else {}

    def evaluate(self, statement: dict[str, Any]) -> str | None:
        result = self._query(statement)
        deny = result.get("deny")
        if isinstance(deny, list | dict) and deny:
            msgs = sorted(str(m) for m in deny)
            return f"Rego {self.name}: " + "; ".join(msgs)
        if "allow" in result and result["allow"] is not True:
            return f"Rego {self.name}: allow is false"
        return None


@dataclass(frozen=True, slots=True)
class CelCheck:
    """A CEL expression that must be true for each statement."""

    expression: str

    def __post_init__(self) -> None:
        import celpy

        try:
            celpy.Environment().compile(self.expression)
        except Exception as e:  # celpy raises CELParseError (a lark exception subclass)
            raise ConfigError(f"CEL expression does not compile: {str(e).splitlines()[0]}") from None

    def evaluate(self, statement: dict[str, Any]) -> str | None:
        import celpy
        from celpy.adapter import json_to_cel

        env = celpy.Environment()
        prog = env.program(env.compile(self.expression))
        activation = {
            "statement": json_to_cel(statement),
            "predicate": json_to_cel(statement.get("predicate", {})),
            "predicateType": json_to_cel(statement.get("predicateType", "")),
            "subject": json_to_cel(statement.get("subject", [])),
        }
        try:
            result = prog.evaluate(activation)
        except Exception as e:  # CELEvalError for missing fields, type errors
            return f"CEL {self.expression!r}: {str(e.args[0]) if e.args else type(e).__name__}"
        from celpy import celtypes

        if not isinstance(result, celtypes.BoolType | bool):
            return f"CEL {self.expression!r} returned {type(result).__name__}, not a boolean"
        if not bool(result):
            return f"CEL {self.expression!r} is false"
        return None


def load_rego(path: Path) -> RegoCheck:
    """A :class:`RegoCheck` from a ``.rego`` file."""
    try:
        return RegoCheck(path.read_text(), path.name)
    except FileNotFoundError:
        raise ConfigError(f"Rego policy {path} not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"Rego policy {path} is not UTF-8 text") from None
