"""``config fix``: rewrite Kubernetes manifests so the fixable findings disappear.

ruamel.yaml's round-trip mode keeps comments, key order, quoting and unrelated fields; the
input is first checked with the alias-bounded safe loader, so hostile YAML is refused before
ruamel (which has no expansion limit) sees it. What is fixed, per pod template:

- pod: ``automountServiceAccountToken: false``, ``securityContext.runAsNonRoot: true``,
  ``seccompProfile.type: RuntimeDefault``; ``hostNetwork``/``hostPID``/``hostIPC`` set to false;
  forbidden sysctls, unsafe SELinux user/role and hostProcess removed.
- every container: ``allowPrivilegeEscalation: false``, ``privileged: false``,
  ``readOnlyRootFilesystem: true``, ``capabilities.drop: [ALL]`` with only NET_BIND_SERVICE
  kept in ``add``, ``runAsNonRoot`` false/``runAsUser: 0`` corrected, ``procMount`` removed,
  and placeholder resource requests/limits where none are set.

Not fixable automatically (need a human decision): image tags/digests, probes, hostPath
volumes, hostPorts, RBAC, Services and Ingresses.
"""

from __future__ import annotations

import io
import itertools
from typing import Any

from lockgate._internal import yamlsafe
from lockgate.errors import InputError
from lockgate.misconfig.kubernetes.loader import WORKLOAD_TEMPLATE_PATHS

PLACEHOLDER_REQUESTS = {"cpu": "100m", "memory": "128Mi"}
PLACEHOLDER_LIMITS = {"cpu": "500m", "memory": "256Mi"}


def _map(parent: Any, key: str) -> Any:
    """``parent[key]`` as a mapping, created (empty) when absent or null."""
    from ruamel.yaml.comments import CommentedMap

    cur = parent.get(key)
    if not isinstance(cur, dict):
        cur = CommentedMap()
        parent[key] = cur
    return cur


_SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})


def _fix_selinux_apparmor(sc: Any) -> None:
    se = sc.get("seLinuxOptions")
    if isinstance(se, dict):
        for k in ("user", "role"):
            se.pop(k, None)
        if str(se.get("type") or "") not in _SELINUX_TYPES:
            del se["type"]
    aa = sc.get("appArmorProfile")
    if isinstance(aa, dict) and aa.get("type") not in ("RuntimeDefault", "Localhost"):
        aa["type"] = "RuntimeDefault"
        aa.pop("localhostProfile", None)


def _fix_container(c: Any) -> None:
    from ruamel.yaml.comments import CommentedSeq

    sc = _map(c, "securityContext")
    if sc.get("privileged") is True:
        sc["privileged"] = False
    if sc.get("allowPrivilegeEscalation") is not False:
        sc["allowPrivilegeEscalation"] = False
    if sc.get("readOnlyRootFilesystem") is not True:
        sc["readOnlyRootFilesystem"] = True
    if sc.get("runAsNonRoot") is False:
        sc["runAsNonRoot"] = True
    if sc.get("runAsUser") == 0:
        sc["runAsUser"] = 10001
    if sc.get("runAsGroup") == 0:
        sc["runAsGroup"] = 10001
    if "procMount" in sc and sc.get("procMount") != "Default":
        del sc["procMount"]
    prof = sc.get("seccompProfile")
    if isinstance(prof, dict) and prof.get("type") not in ("RuntimeDefault", "Localhost"):
        prof["type"] = "RuntimeDefault"
    _fix_selinux_apparmor(sc)
    wo = sc.get("windowsOptions")
    if isinstance(wo, dict) and wo.get("hostProcess") is True:
        del wo["hostProcess"]
    caps = _map(sc, "capabilities")
    drop = caps.get("drop")
    if not isinstance(drop, list):
        drop = CommentedSeq()
        caps["drop"] = drop
    if "ALL" not in drop:
        drop.append("ALL")
    add = caps.get("add")
    if isinstance(add, list):
        keep = [a for a in add if a == "NET_BIND_SERVICE"]
        if keep:
            add[:] = keep
        else:
            del caps["add"]
    res = _map(c, "resources")
    for key, defaults in (("requests", PLACEHOLDER_REQUESTS), ("limits", PLACEHOLDER_LIMITS)):
        cur = _map(res, key)
        for k, v in defaults.items():
            if not cur.get(k):
                cur[k] = v


_SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    }
)


def _fix_pod(spec: Any) -> None:
    from ruamel.yaml.comments import CommentedMap

    for k in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(k) is True:
            spec[k] = False
    if spec.get("automountServiceAccountToken") is not False:
        spec["automountServiceAccountToken"] = False
    psc = _map(spec, "securityContext")
    if psc.get("runAsNonRoot") is not True:
        psc["runAsNonRoot"] = True
    if psc.get("runAsUser") == 0:
        psc["runAsUser"] = 10001
    prof = psc.get("seccompProfile")
    if not isinstance(prof, dict) or prof.get("type") not in ("RuntimeDefault", "Localhost"):
        new = CommentedMap()
        new["type"] = "RuntimeDefault"
        psc["seccompProfile"] = new
    sysctls = psc.get("sysctls")
    if isinstance(sysctls, list):
        sysctls[:] = [s for s in sysctls if isinstance(s, dict) and s.get("name") in _SAFE_SYSCTLS]
        if not sysctls:
            del psc["sysctls"]
    _fix_selinux_apparmor(psc)
    wo = psc.get("windowsOptions")
    if isinstance(wo, dict) and wo.get("hostProcess") is True:
        del wo["hostProcess"]
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for c in spec.get(key) or []:
            if isinstance(c, dict):
                _fix_container(c)


def _fix_object(obj: Any) -> None:
    if not isinstance(obj, dict):
        return
    kind = obj.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(obj.get("items"), list):
        for item in obj["items"]:
            _fix_object(item)
        return
    where = WORKLOAD_TEMPLATE_PATHS.get(str(kind))
    if where is None:
        return
    node: Any = obj
    for key in where:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict) and isinstance(node.get("spec"), dict):
        _fix_pod(node["spec"])
        meta = node.get("metadata")
        ann = meta.get("annotations") if isinstance(meta, dict) else None
        if isinstance(ann, dict):
            for k, v in list(ann.items()):
                if str(k).startswith("container.apparmor.security.beta.kubernetes.io/") and not (
                    v in (None, "", "runtime/default") or str(v).startswith("localhost/")
                ):
                    ann[k] = "runtime/default"


def _guess_indent(text: str) -> tuple[int, int]:
    """(mapping indent, dash offset) as the file uses them, so untouched lines keep their layout."""
    mapping, offset = 0, -1
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    for prev, cur in itertools.pairwise(lines):
        if not prev.rstrip().endswith(":"):
            continue
        p_ind = len(prev) - len(prev.lstrip(" -"))
        c_ind = len(cur) - len(cur.lstrip(" "))
        if cur.lstrip().startswith("- "):
            if offset < 0 and c_ind >= len(prev) - len(prev.lstrip(" ")):
                offset = c_ind - (len(prev) - len(prev.lstrip(" ")))
        elif c_ind > p_ind and not mapping:
            mapping = c_ind - p_ind
    return (mapping or 2), max(offset, 0)


def fix_manifest(text: str, where: str = "manifest", *, max_aliases: int = 1000) -> str:
    """The hardened manifest text (all documents; non-workload documents unchanged)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    if text.lstrip().startswith("{"):
        # JSON in, JSON out (key order kept; JSON has no comments to preserve)
        import json

        try:
            obj = json.loads(text)
        except (ValueError, RecursionError) as e:
            raise InputError(f"{where}: invalid JSON: {e}") from None
        _fix_object(obj)
        indent = 4 if '\n    "' in text[:200] and '\n  "' not in text[:200] else 2
        return json.dumps(obj, indent=indent) + "\n"
    yamlsafe.compose_checked(text, what=where, max_aliases=max_aliases)  # refuse bombs before ruamel
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096
    mapping, offset = _guess_indent(text)
    y.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    try:
        docs = list(y.load_all(text))
    except YAMLError as e:
        raise InputError(f"{where}: invalid YAML: {' '.join(str(e).split())}") from None
    for d in docs:
        _fix_object(d)
    out = io.StringIO()
    y.explicit_start = text.lstrip().startswith("---")
    y.dump_all(docs, out)
    return out.getvalue()
