"""Record materials and products as in-toto does: ``{relative path: {"sha256": hex}}``.

Paths are walked like in-toto's ``record_artifacts_as_dict``: directories recursively (symlinked
directories are not followed, symlinked files are hashed through), paths normalised without a leading
``./``, default exclusions ``*.link*``, ``.git``, ``*.pyc``, ``*.pyo`` matched against the path and each of its
components (a simplification of gitignore matching that covers these patterns); paths that do not exist
are skipped, as in-toto skips them. Hashing streams 1 MiB
chunks on a thread per core (hashlib releases the GIL), so large workspaces use both cores in constant memory.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lockgate.errors import InputError, LimitExceededError, NotFoundError

DEFAULT_EXCLUDES = ("*.link*", ".git", "*.pyc", "*.pyo")
CHUNK = 1024 * 1024
MAX_ARTIFACTS = 1_000_000


def _excluded(rel: str, patterns: Sequence[str]) -> bool:
    parts = rel.split("/")
    return any(fnmatch.fnmatchcase(rel, p) or any(fnmatch.fnmatchcase(c, p) for c in parts) for p in patterns)


def _walk(base: Path, path: str, patterns: Sequence[str]) -> Iterator[str]:
    """Relative artifact paths under ``base / path`` (names as in-toto records them)."""
    norm = os.path.normpath(path).replace(os.sep, "/")
    full = base / norm
    if _excluded(norm, patterns) and norm != ".":
        return
    if full.is_dir() and not (full.is_symlink() and norm != "."):
        for root, dirs, files in os.walk(full, followlinks=False):
            rel_root = Path(root).relative_to(base).as_posix()
            keep = []
            for d in sorted(dirs):
                rel = d if rel_root == "." else f"{rel_root}/{d}"
                if _excluded(rel, patterns) or (Path(root) / d).is_symlink():
                    continue  # in-toto does not follow symlinked directories by default
                keep.append(d)
            dirs[:] = keep
            for f in sorted(files):
                rel = f if rel_root == "." else f"{rel_root}/{f}"
                if not _excluded(rel, patterns) and (Path(root) / f).is_file():
                    yield rel
    elif full.is_file():
        yield norm
    # a path that does not exist is skipped, as in-toto does (a product the command moved away)


def hash_file(path: Path) -> str:
    """Streaming SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def record_artifacts(
    paths: Sequence[str],
    *,
    base_path: Path | None = None,
    exclude: Sequence[str] = DEFAULT_EXCLUDES,
    lstrip: Sequence[str] = (),
    workers: int | None = None,
) -> dict[str, dict[str, str]]:
    """Hash every file under ``paths`` (relative to ``base_path``, default the working directory)."""
    base = base_path if base_path is not None else Path.cwd()
    if not base.is_dir():
        raise NotFoundError(f"base path {base} is not a directory")
    files: list[str] = []
    for p in paths:
        files.extend(_walk(base, p, exclude))
        if len(files) > MAX_ARTIFACTS:
            raise LimitExceededError(f"more than {MAX_ARTIFACTS} artifacts to record")
    files = list(dict.fromkeys(files))
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        digests = list(pool.map(lambda f: hash_file(base / f), files))
    out: dict[str, dict[str, str]] = {}
    for f, d in zip(files, digests, strict=True):
        name = f
        for prefix in lstrip:
            if name.startswith(prefix):
                name = name[len(prefix) :]
                break
        if name in out:
            raise InputError(f"two artifacts map to {name!r} after --lstrip-paths")
        out[name] = {"sha256": d}
    return out
