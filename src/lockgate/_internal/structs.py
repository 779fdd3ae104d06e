"""Frozen ``msgspec.Struct`` base for models with fields that ``==`` and ``hash()`` leave out.

The core models are ``msgspec.Struct(frozen=True)`` rather than frozen dataclasses: defining
a Struct costs microseconds where a slotted dataclass exec-compiles its methods (~1 ms each on
the warm scan path). Structs have no per-field ``compare=False``, so a model with raw
documents (``database_specific``, an image config's JSON ...) derives from
:class:`PartialEq` and names those fields in ``_uncompared``: they take no part in
equality or hashing, exactly as ``dataclasses.field(compare=False, hash=False)`` did.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec


class PartialEq(msgspec.Struct, frozen=True):
    """Frozen Struct whose ``==`` and ``hash()`` skip the fields named in ``_uncompared``."""

    _uncompared: ClassVar[frozenset[str]] = frozenset()

    def _compared(self) -> tuple[object, ...]:
        skip = self._uncompared
        return tuple(getattr(self, f) for f in self.__struct_fields__ if f not in skip)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PartialEq) or type(other) is not type(self):
            return NotImplemented
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash(self._compared())
