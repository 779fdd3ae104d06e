"""RBAC checks: wildcards, escalation verbs, secrets access, pod exec/create, cluster-admin bindings."""

from __future__ import annotations

from typing import Any

from lockgate.misconfig.kubernetes.loader import K8sObject
from lockgate.misconfig.model import Hit

ESCALATION_VERBS = ("escalate", "bind", "impersonate")


def _strs(value: Any) -> list[str]:
    return [str(x) for x in value] if isinstance(value, list) else []


def check_rbac(obj: K8sObject) -> list[Hit]:
    """Hits for Role/ClusterRole rules and RoleBinding/ClusterRoleBinding role references."""
    hits: list[Hit] = []
    what = f"{obj.kind} {obj.name!r}"
    if obj.kind in ("Role", "ClusterRole"):
        rules = obj.obj.get("rules")
        for i, rule in enumerate(rules if isinstance(rules, list) else []):
            if not isinstance(rule, dict):
                continue
            verbs, resources = _strs(rule.get("verbs")), _strs(rule.get("resources"))
            groups = _strs(rule.get("apiGroups"))
            base = ("rules", i)
            for field, values in (("verbs", verbs), ("resources", resources), ("apiGroups", groups)):
                if "*" in values:
                    j = values.index("*")
                    hits.append(Hit("LG-RBAC-001", f"{what} grants * in {field}", (*base, field, j)))
            for verb in ESCALATION_VERBS:
                if verb in verbs:
                    hits.append(Hit("LG-RBAC-002", f"{what} grants {verb}", (*base, "verbs", verbs.index(verb))))
            any_res = "*" in resources
            core = not groups or "" in groups or "*" in groups
            if core and ("secrets" in resources or any_res) and not rule.get("resourceNames"):
                read = [v for v in verbs if v in ("get", "list", "watch", "*")]
                if read:
                    hits.append(Hit("LG-RBAC-003", f"{what} can {'/'.join(read)} secrets", (*base, "resources")))
            if core:
                if ("pods" in resources or any_res) and ("create" in verbs or "*" in verbs):
                    hits.append(Hit("LG-RBAC-005", f"{what} can create pods", (*base, "resources")))
                elif any(r in resources for r in ("pods/exec", "pods/attach")) and (
                    {"create", "get", "*"} & set(verbs)
                ):
                    hits.append(Hit("LG-RBAC-005", f"{what} can exec into pods", (*base, "resources")))
    elif obj.kind in ("RoleBinding", "ClusterRoleBinding"):
        ref = obj.obj.get("roleRef")
        if isinstance(ref, dict) and ref.get("kind") == "ClusterRole" and ref.get("name") == "cluster-admin":
            hits.append(Hit("LG-RBAC-004", f"{what} binds cluster-admin", ("roleRef", "name")))
    return hits
