"""Load Kubernetes YAML/JSON into objects that remember the line and column of every field.

PyYAML's composer keeps a start/end mark on every node; we construct plain Python values
with the safe constructors and keep a separate ``path -> (line, column, end_line)`` map, so
checks work on ordinary dicts and findings still point at the offending key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from lockgate._internal import yamlsafe
from lockgate.errors import InputError

Path_ = tuple[str | int, ...]
Mark = tuple[int, int, int]
"""1-based line, 1-based column, 1-based last line."""

WORKLOAD_TEMPLATE_PATHS: dict[str, Path_] = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "PodTemplate": ("template",),
}
"""Where each workload kind keeps its pod (metadata + spec), relative to the object."""


def _end_line(node: yaml.Node) -> int:
    end = node.end_mark
    # Block nodes end at column 0 of the following line; report the last line with content.
    line = end.line if end.column == 0 and end.line > node.start_mark.line else end.line + 1
    return max(line, node.start_mark.line + 1)


def _marks(node: yaml.Node, path: Path_, out: dict[Path_, Mark], depth: int = 0) -> None:
    if depth > 200:
        raise InputError("YAML nesting deeper than 200 levels")
    if path not in out:
        out[path] = (node.start_mark.line + 1, node.start_mark.column + 1, _end_line(node))
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                continue
            p = (*path, str(k.value))
            out[p] = (k.start_mark.line + 1, k.start_mark.column + 1, _end_line(v))
            _marks(v, p, out, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _marks(v, (*path, i), out, depth + 1)


@dataclass(frozen=True, slots=True)
class K8sObject:
    """One Kubernetes object from a file (a ``List`` is split into its items)."""

    obj: dict[str, Any]
    file: str
    doc_index: int = 0
    prefix: Path_ = ()
    """Path of this object inside its YAML document (``("items", 3)`` for List items)."""
    marks: Mapping[Path_, Mark] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", ""))

    @property
    def api_version(self) -> str:
        return str(self.obj.get("apiVersion", ""))

    @property
    def metadata(self) -> dict[str, Any]:
        m = self.obj.get("metadata")
        return m if isinstance(m, dict) else {}

    @property
    def name(self) -> str:
        return str(self.metadata.get("name") or self.metadata.get("generateName") or "")

    @property
    def namespace(self) -> str:
        return str(self.metadata.get("namespace") or "")

    def mark(self, path: Path_) -> Mark:
        """Position of ``path`` (relative to the object), or of its nearest existing ancestor."""
        full = (*self.prefix, *path)
        while True:
            m = self.marks.get(full)
            if m is not None:
                return m
            if not full:
                return (0, 0, 0)
            full = full[:-1]

    def pod_template(self) -> tuple[dict[str, Any], dict[str, Any], Path_] | None:
        """``(pod metadata, pod spec, path of the pod)`` for workload kinds, else None."""
        where = WORKLOAD_TEMPLATE_PATHS.get(self.kind)
        if where is None:
            return None
        node: Any = self.obj
        for key in where:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return None
        spec = node.get("spec")
        if not isinstance(spec, dict):
            return None
        meta = node.get("metadata")
        return (meta if isinstance(meta, dict) else {}), spec, where


def _is_object(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("kind"), str) and isinstance(doc.get("apiVersion"), str)


def _split(doc: dict[str, Any], file: str, index: int, marks: Mapping[Path_, Mark]) -> Iterator[K8sObject]:
    items = doc.get("items")
    if doc["kind"].endswith("List") and isinstance(items, list):
        for i, item in enumerate(items):
            if _is_object(item):
                yield K8sObject(item, file, index, ("items", i), marks)
        return
    yield K8sObject(doc, file, index, (), marks)


def load_objects(text: str, file: str, *, max_aliases: int = 1000) -> list[K8sObject]:
    """Every Kubernetes object in a YAML or JSON stream; other documents are skipped quietly.

    Raises :class:`InputError` (or ``LimitExceededError``) for malformed or hostile input.
    """
    if "\x00" in text:
        raise InputError(f"{file}: binary data, not YAML or JSON")
    try:
        nodes = yamlsafe.compose_checked(text, what=file, max_aliases=max_aliases)
    except InputError:
        stripped = text.lstrip()
        if not stripped.startswith(("{", "[")):
            raise
        # JSON that YAML 1.1 rejects (tabs, some escapes): no positions, but still scanned.
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as e:
            raise InputError(f"{file}: invalid JSON: {e}") from None
        return list(_split(doc, file, 0, {})) if _is_object(doc) else []
    out: list[K8sObject] = []
    for i, node in enumerate(nodes):
        doc = yamlsafe.construct(node, what=file)
        if not _is_object(doc):
            continue
        marks: dict[Path_, Mark] = {}
        _marks(node, (), marks)
        out.extend(_split(doc, file, i, marks))
    return out
