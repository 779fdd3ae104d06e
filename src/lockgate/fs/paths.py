"""Normalising untrusted archive paths and classifying OCI whiteouts.

Tar member names come from the image author. Every name is turned into a relative POSIX
path with no ``.``/``..`` components before anything else sees it; names that would
escape the root raise :class:`UnsafePathError` so callers can record a coverage gap.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator

from lockgate.errors import InputError

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
_AUFS_META_PREFIX = ".wh..wh."
MAX_PATH_CHARS = 4096
"""Longest archive path accepted (Linux PATH_MAX); longer names only serve to exhaust resources."""
MAX_PATH_DEPTH = 256
"""Deepest archive path accepted; keeps recursive removal and descriptor use bounded."""


class UnsafePathError(InputError):
    """An archive path that is absolute or climbs out of the root."""


def normalize(name: str) -> str:
    """Relative, clean form of a tar member name; ``""`` means the root itself.

    ``./a//b/`` becomes ``a/b``. Absolute names (other than ``/`` itself) and any ``..``
    component raise :class:`UnsafePathError`.
    """
    # Fast path for the usual "./a/b" or "a/b": no empty, "." or ".." components, nothing to strip.
    clean = name[2:] if name.startswith("./") else name
    if (
        clean
        and clean[0] not in "./"
        and "//" not in clean
        and "/." not in clean
        and clean[-1] != "/"
        and "\x00" not in clean
        and len(name) <= MAX_PATH_CHARS
        and clean.count("/") < MAX_PATH_DEPTH
    ):
        return clean
    if "\x00" in name:
        raise UnsafePathError(f"path {name!r} contains a NUL byte")
    if len(name) > MAX_PATH_CHARS:
        raise UnsafePathError(f"path of {len(name)} characters (limit {MAX_PATH_CHARS}): {name[:60]!r}...")
    stripped = name.rstrip("/")
    if name.startswith("/") and stripped:
        raise UnsafePathError(f"absolute path {name!r}")
    parts = [p for p in stripped.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafePathError(f"path {name!r} climbs out of the root with '..'")
    if len(parts) > MAX_PATH_DEPTH:
        raise UnsafePathError(f"path is {len(parts)} levels deep (limit {MAX_PATH_DEPTH}): {name[:60]!r}...")
    return "/".join(parts)


def normalize_link_target(linkname: str) -> str:
    """Hardlink targets are archive paths too; a leading ``/`` means the archive root."""
    clean = normalize(linkname.lstrip("/"))
    if not clean:
        raise UnsafePathError(f"hardlink target {linkname!r} is the root directory")
    return clean


class Whiteout(enum.Enum):
    NONE = 0
    DELETE = 1
    """``dir/.wh.NAME``: delete ``dir/NAME`` from lower layers."""
    OPAQUE = 2
    """``dir/.wh..wh..opq``: hide everything lower layers put in ``dir``."""
    META = 3
    """Other ``.wh..wh.*`` names (AUFS bookkeeping): ignored, as Docker does."""


def classify(path: str) -> tuple[Whiteout, str]:
    """Whiteout kind of a normalised path and the path it applies to."""
    head, _, base = path.rpartition("/")
    if not base.startswith(WHITEOUT_PREFIX):
        return Whiteout.NONE, path
    if base == OPAQUE_MARKER:
        return Whiteout.OPAQUE, head
    if base.startswith(_AUFS_META_PREFIX):
        return Whiteout.META, path
    target = base[len(WHITEOUT_PREFIX) :]
    if target in ("", ".", ".."):
        raise UnsafePathError(f"whiteout {path!r} names no file")
    return Whiteout.DELETE, f"{head}/{target}" if head else target


def printable(path: str) -> str:
    """``path`` as valid UTF-8 text: undecodable bytes (kept as surrogates) become ``\\xNN``.

    Analysers and reports get this form, so a hostile non-UTF-8 name can never break a JSON
    or terminal writer later; only :mod:`lockgate.fs.flatten` uses the raw name.
    """
    if path.isascii():
        return path
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return path


def parents(path: str) -> Iterator[str]:
    """Proper ancestors of ``path``, nearest first (``a/b/c`` -> ``a/b``, ``a``)."""
    while "/" in path:
        path = path.rpartition("/")[0]
        yield path


def is_within(path: str, directory: str) -> bool:
    """True when ``path`` is strictly inside ``directory`` (``""`` is the root)."""
    if not directory:
        return bool(path)
    return path.startswith(directory + "/")
