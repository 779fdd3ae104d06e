"""Safe YAML loading for user files: size limits, alias limits, C loader when present, line numbers.

PyYAML's ``safe_load`` expands aliases without bound (billion laughs); we compose the
node graph first, count alias references, and only then construct Python objects.
``load_with_lines`` also returns the source line of every mapping key and list item, so
policy decisions can point at the line that caused them. PyYAML is imported on first use:
most runs (no policy file) never parse YAML, and the import costs ~15 ms of start-up.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lockgate.errors import InputError, LimitExceededError

if TYPE_CHECKING:
    import yaml


@functools.cache
def _loader() -> type[Any]:
    """PyYAML's C safe loader when it was built with libyaml, else the pure-Python one."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


LinePath = tuple[str | int, ...]


MAX_EXPANDED_NODES = 2_000_000
"""Nodes a document may expand to once aliases are resolved (billion-laughs bound)."""


def _check_aliases(node: yaml.Node, max_aliases: int) -> None:
    """Refuse documents with too many alias references or too large an expansion."""
    import yaml

    sizes: dict[int, int] = {}
    in_progress: set[int] = set()
    refs = 0
    # Iterative post-order walk; shared nodes are sized once and counted on every reference.
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        n, done = stack.pop()
        key = id(n)
        if done:
            children: list[yaml.Node] = []
            if isinstance(n, yaml.MappingNode):
                for k, v in n.value:
                    children.extend((k, v))
            elif isinstance(n, yaml.SequenceNode):
                children = list(n.value)
            total = 1 + sum(sizes[id(c)] for c in children)
            if total > MAX_EXPANDED_NODES:
                raise LimitExceededError(f"YAML expands to more than {MAX_EXPANDED_NODES} nodes (alias bomb?)")
            sizes[key] = total
            in_progress.discard(key)
            continue
        if key in in_progress:
            raise InputError("YAML contains a recursive alias")
        if key in sizes:
            refs += 1
            if refs > max_aliases:
                raise LimitExceededError(f"YAML uses more than {max_aliases} alias references")
            continue
        in_progress.add(key)
        stack.append((n, True))
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                stack.extend(((k, False), (v, False)))
        elif isinstance(n, yaml.SequenceNode):
            stack.extend((c, False) for c in n.value)


def _compose_all(text: str, what: str) -> list[yaml.Node]:
    import yaml

    try:
        return [n for n in yaml.compose_all(text, Loader=_loader()) if n is not None]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"{what}:{where}: invalid YAML: {problem}") from None


def _construct(node: yaml.Node, what: str) -> Any:
    import yaml

    loader = _loader()("")
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        raise InputError(f"{what}: invalid YAML: {e}") from None
    finally:
        loader.dispose()


def _lines(node: yaml.Node, path: LinePath, out: dict[LinePath, int]) -> None:
    import yaml

    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = str(k.value) if isinstance(k, yaml.ScalarNode) else repr(k)
            out[(*path, key)] = k.start_mark.line + 1
            _lines(v, (*path, key), out)
            out[(*path, key)] = k.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _lines(v, (*path, i), out)


def read_text(path: Path, max_bytes: int) -> str:
    """Read a user file as UTF-8 with a size limit and clear errors."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise LimitExceededError(f"{path}: {size} bytes exceeds the limit of {max_bytes}")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None


def load_all(text: str, *, what: str = "document", max_aliases: int = 1000) -> list[Any]:
    """All documents of a YAML stream as Python objects (safe, alias-bounded)."""
    docs = []
    for node in _compose_all(text, what):
        _check_aliases(node, max_aliases)
        docs.append(_construct(node, what))
    return docs


def load_with_lines(text: str, *, what: str = "document", max_aliases: int = 1000) -> tuple[Any, dict[LinePath, int]]:
    """The first YAML document and a map from key/index paths to 1-based source lines."""
    nodes = _compose_all(text, what)
    if not nodes:
        return None, {}
    if len(nodes) > 1:
        raise InputError(f"{what}: expected one YAML document, found {len(nodes)}")
    _check_aliases(nodes[0], max_aliases)
    lines: dict[LinePath, int] = {}
    _lines(nodes[0], (), lines)
    return _construct(nodes[0], what), lines


def compose_checked(text: str, *, what: str = "document", max_aliases: int = 1000) -> list[yaml.Node]:
    """All documents of a YAML stream as alias-checked node graphs (marks kept for positions)."""
    nodes = _compose_all(text, what)
    for node in nodes:
        _check_aliases(node, max_aliases)
    return nodes


def construct(node: yaml.Node, *, what: str = "document") -> Any:
    """Python objects for one node graph from :func:`compose_checked` (safe constructors)."""
    return _construct(node, what)
