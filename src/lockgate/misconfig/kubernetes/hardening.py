"""Least-privilege and hardening checks for Kubernetes objects beyond the Pod Security Standards.

Inspired by the NSA/CISA Kubernetes Hardening Guidance and the CIS benchmark; every check
returns :class:`Hit` objects whose paths are relative to the object, so the scanner can
report the exact line and column.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lockgate.misconfig.kubernetes.loader import K8sObject
from lockgate.misconfig.kubernetes.pss import checks_for, evaluate_pod, parse_version
from lockgate.misconfig.model import Hit, MisconfigOptions

P = tuple[str | int, ...]

INSECURE_CAPS = frozenset(
    {
        "ALL",
        "BPF",
        "DAC_READ_SEARCH",
        "MAC_ADMIN",
        "MAC_OVERRIDE",
        "NET_ADMIN",
        "NET_RAW",
        "PERFMON",
        "SETPCAP",
        "SYS_ADMIN",
        "SYS_BOOT",
        "SYS_MODULE",
        "SYS_PTRACE",
        "SYS_RAWIO",
        "SYS_TIME",
    }
)
"""Capabilities that break container isolation when added (kubescape's C-0046 list and friends)."""

RUNTIME_SOCKETS = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/docker",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/var/run/crio",
    "/var/run/cri-dockerd.sock",
    "/var/lib/docker",
)

SECRET_ENV = re.compile(
    r"(?i)(pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth[_-]?key|pwd)"
)
_NOT_SECRET_VALUE = re.compile(r"(?i)^(true|false|yes|no|none|null|[0-9]{1,5}|/[\w./-]*|\$\(.*\)|)$")

JOB_KINDS = frozenset({"Job", "CronJob"})
LINUX_ONLY = frozenset({"LG-K8S-003", "LG-K8S-014", "LG-K8S-015", "LG-K8S-022", "LG-K8S-024"})
"""Rules about Linux security-context fields, which Windows pods (``spec.os.name: windows``) cannot set."""


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def containers(spec: dict[str, Any], base: P) -> Iterator[tuple[dict[str, Any], P, str]]:
    """(container, path, kind) for init, regular and ephemeral containers."""
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for i, c in enumerate(_l(spec.get(key))):
            if isinstance(c, dict):
                yield c, (*base, "spec", key, i), key


def split_image(image: str) -> tuple[str, str, str]:
    """(registry, repository, tag) of an image reference; digest-pinned refs keep the tag if any."""
    ref = image.split("@", 1)[0]
    first, _, rest = ref.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = "docker.io", ref
    name, _, tag = path.rpartition(":") if ":" in path.rsplit("/", 1)[-1] else (path, "", "")
    return registry, name, tag


def _image_hits(c: dict[str, Any], path: P, name: str, options: MisconfigOptions) -> Iterator[Hit]:
    image = c.get("image")
    if not isinstance(image, str) or not image:
        return
    where = (*path, "image")
    registry, _, tag = split_image(image)
    digest = "@sha256:" in image
    if not digest and tag in ("", "latest"):
        yield Hit("LG-K8S-004", f"container {name!r} uses image {image!r} without a version tag", where, name)
    if not digest:
        yield Hit("LG-K8S-005", f"container {name!r} image {image!r} is not pinned by digest", where, name)
    if options.allowed_registries:
        ok = any(
            image.startswith(a) or registry == a.rstrip("/") or (a == "docker.io" and registry == "docker.io")
            for a in options.allowed_registries
        )
        if not ok:
            yield Hit("LG-K8S-006", f"container {name!r} image {image!r} comes from registry {registry}", where, name)


def _container_hits(obj: K8sObject, spec: dict[str, Any], base: P, options: MisconfigOptions) -> Iterator[Hit]:
    pod_sc = _d(spec.get("securityContext"))
    volumes = {str(v.get("name")): (i, v) for i, v in enumerate(_l(spec.get("volumes"))) if isinstance(v, dict)}
    long_running = obj.kind not in JOB_KINDS
    for c, path, kind in containers(spec, base):
        name = str(c.get("name") or "")
        sc = _d(c.get("securityContext"))
        sc_path = (*path, "securityContext")
        yield from _image_hits(c, path, name, options)
        if kind != "ephemeralContainers":
            res = _d(c.get("resources"))
            req, lim = _d(res.get("requests")), _d(res.get("limits"))
            if not (req.get("cpu") and req.get("memory")):
                yield Hit(
                    "LG-K8S-001",
                    f"container {name!r} does not set CPU and memory requests",
                    (*path, "resources", "requests") if req else path,
                    name,
                )
            if not (lim.get("cpu") and lim.get("memory")):
                yield Hit(
                    "LG-K8S-002",
                    f"container {name!r} does not set CPU and memory limits",
                    (*path, "resources", "limits") if lim else path,
                    name,
                )
        if sc.get("readOnlyRootFilesystem") is not True:
            yield Hit(
                "LG-K8S-003",
                f"container {name!r} has a writable root filesystem",
                (*sc_path, "readOnlyRootFilesystem") if "readOnlyRootFilesystem" in sc else path,
                name,
            )
        if kind == "containers" and long_running:
            if not _d(c.get("livenessProbe")):
                yield Hit("LG-K8S-009", f"container {name!r} has no livenessProbe", path, name)
            if not _d(c.get("readinessProbe")):
                yield Hit("LG-K8S-010", f"container {name!r} has no readinessProbe", path, name)
        for i, env in enumerate(_l(c.get("env"))):
            if not isinstance(env, dict):
                continue
            ename, value = str(env.get("name") or ""), env.get("value")
            if isinstance(env.get("valueFrom"), dict) and isinstance(env["valueFrom"].get("secretKeyRef"), dict):
                yield Hit(
                    "LG-K8S-025",
                    f"container {name!r} reads Secret into {ename}",
                    (*path, "env", i, "valueFrom", "secretKeyRef"),
                    name,
                )
            if isinstance(value, str) and SECRET_ENV.search(ename) and not _NOT_SECRET_VALUE.match(value.strip()):
                yield Hit(
                    "LG-K8S-011",
                    f"container {name!r} sets {ename} to a literal value",
                    (*path, "env", i, "value"),
                    name,
                )
        caps = _d(sc.get("capabilities"))
        for i, cap in enumerate(_l(caps.get("add"))):
            if str(cap).upper().removeprefix("CAP_") in INSECURE_CAPS:
                yield Hit(
                    "LG-K8S-014",
                    f"container {name!r} adds capability {cap}",
                    (*sc_path, "capabilities", "add", i),
                    name,
                )
        drops = {str(x).upper().removeprefix("CAP_") for x in _l(caps.get("drop"))}
        adds = [str(x).upper().removeprefix("CAP_") for x in _l(caps.get("add"))]
        if "NET_RAW" in adds:
            yield Hit("LG-K8S-015", f"container {name!r} adds NET_RAW", (*sc_path, "capabilities", "add"), name)
        elif not drops & {"ALL", "NET_RAW"}:
            where = (*sc_path, "capabilities", "drop") if "drop" in caps else path
            yield Hit("LG-K8S-015", f"container {name!r} does not drop NET_RAW", where, name)
        gid = sc.get("runAsGroup", pod_sc.get("runAsGroup"))
        if gid == 0 and not isinstance(gid, bool):
            where = (*sc_path, "runAsGroup") if "runAsGroup" in sc else (*base, "spec", "securityContext", "runAsGroup")
            yield Hit("LG-K8S-024", f"container {name!r} runs with group id 0", where, name)
        uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
        if isinstance(uid, int) and not isinstance(uid, bool) and 0 < uid < 10000:
            where = (*sc_path, "runAsUser") if "runAsUser" in sc else (*base, "spec", "securityContext", "runAsUser")
            yield Hit("LG-K8S-022", f"container {name!r} runs as UID {uid}", where, name)
        for i, m in enumerate(_l(c.get("volumeMounts"))):
            if not isinstance(m, dict):
                continue
            vol = volumes.get(str(m.get("name")))
            if vol is None:
                continue
            hp = _d(vol[1].get("hostPath"))
            if not hp:
                continue
            hpath = str(hp.get("path") or "").rstrip("/")
            if m.get("readOnly") is not True:
                yield Hit(
                    "LG-K8S-013",
                    f"container {name!r} mounts hostPath {hpath or '?'} writable",
                    (*path, "volumeMounts", i),
                    name,
                )


def _socket_hits(spec: dict[str, Any], base: P) -> Iterator[Hit]:
    """Volumes exposing a container runtime socket (mounted or not: any container may mount it)."""
    for i, vol in enumerate(_l(spec.get("volumes"))):
        hp = _d(_d(vol).get("hostPath"))
        hpath = str(hp.get("path") or "").rstrip("/")
        if hpath and any(hpath == s or hpath.startswith(s + "/") for s in RUNTIME_SOCKETS):
            users = [
                str(c.get("name") or "")
                for c, _, _ in containers(spec, base)
                for m in _l(c.get("volumeMounts"))
                if isinstance(m, dict) and m.get("name") == _d(vol).get("name")
            ]
            yield Hit(
                "LG-K8S-012",
                f"volume {_d(vol).get('name')!r} exposes the container runtime socket {hpath}",
                (*base, "spec", "volumes", i, "hostPath", "path"),
                ",".join(users),
            )


def _replaced_baseline_spots(
    meta: dict[str, Any], spec: dict[str, Any], options: MisconfigOptions
) -> dict[P, set[str]]:
    """Fields that also violate a baseline check which the restricted level replaces (for baseline views)."""
    minor = parse_version(options.pss_version)
    active = {cid for cid, _ in checks_for("restricted", minor)}
    out: dict[P, set[str]] = {}
    for cid, fn in checks_for("baseline", minor):
        if cid in active:
            continue
        v = fn(meta, spec)
        for spot in v.spots if v else ():
            out.setdefault(spot.path, set()).add(f"PSS-{cid}")
    return out


def check_workload(obj: K8sObject, options: MisconfigOptions) -> list[Hit]:
    """PSS and hardening hits of a workload object (Pod, Deployment, CronJob, ...)."""
    tpl = obj.pod_template()
    if tpl is None:
        return []
    meta, spec, base = tpl
    hits: list[Hit] = []
    if options.pss_level != "privileged":
        replaced = _replaced_baseline_spots(meta, spec, options) if options.pss_level == "restricted" else {}
        for v in evaluate_pod(meta, spec, options.pss_level, options.pss_version):
            seen: set[P] = set()
            for spot in v.spots:
                if spot.path in seen:
                    continue
                seen.add(spot.path)
                who = f"container {spot.container!r}: " if spot.container else ""
                aliases = tuple(sorted(replaced.get(spot.path, ())))
                hits.append(
                    Hit(f"PSS-{v.check}", f"{who}{v.message}", (*base, *spot.path), spot.container, aliases=aliases)
                )
    container_hits = _container_hits(obj, spec, base, options)
    if _d(spec.get("os")).get("name") == "windows":
        container_hits = (h for h in container_hits if h.rule_id not in LINUX_ONLY)
    hits.extend(container_hits)
    hits.extend(_socket_hits(spec, base))
    if spec.get("automountServiceAccountToken") is not False:
        where = (
            (*base, "spec", "automountServiceAccountToken")
            if "automountServiceAccountToken" in spec
            else (*base, "spec")
        )
        hits.append(
            Hit("LG-K8S-007", f"{obj.kind} {obj.name!r} does not set automountServiceAccountToken: false", where)
        )
    if obj.kind == "Pod" and not _l(obj.metadata.get("ownerReferences")):
        hits.append(Hit("LG-K8S-016", f"Pod {obj.name!r} is not managed by a controller", ("kind",)))
    return hits


def check_namespace_and_exposure(obj: K8sObject) -> list[Hit]:
    """Services, Ingresses, Namespaces and the default namespace."""
    hits: list[Hit] = []
    if obj.namespace == "default":
        hits.append(
            Hit("LG-K8S-008", f"{obj.kind} {obj.name!r} is in the default namespace", ("metadata", "namespace"))
        )
    spec = _d(obj.obj.get("spec"))
    if obj.kind == "Service":
        t = spec.get("type")
        if t == "LoadBalancer":
            hits.append(Hit("LG-K8S-017", f"Service {obj.name!r} is of type LoadBalancer", ("spec", "type")))
        elif t == "NodePort":
            hits.append(Hit("LG-K8S-018", f"Service {obj.name!r} is of type NodePort", ("spec", "type")))
    elif obj.kind == "Ingress" and not _l(spec.get("tls")):
        hits.append(Hit("LG-K8S-019", f"Ingress {obj.name!r} has no TLS section", ("spec",) if spec else ("kind",)))
    elif obj.kind == "Namespace":
        labels = _d(obj.metadata.get("labels"))
        level = labels.get("pod-security.kubernetes.io/enforce")
        if level is None:
            hits.append(
                Hit(
                    "LG-K8S-021",
                    f"Namespace {obj.name!r} has no pod-security.kubernetes.io/enforce label",
                    ("metadata",),
                )
            )
        elif level == "privileged":
            hits.append(
                Hit(
                    "LG-K8S-023",
                    f"Namespace {obj.name!r} enforces the privileged level",
                    ("metadata", "labels", "pod-security.kubernetes.io/enforce"),
                )
            )
    return hits
