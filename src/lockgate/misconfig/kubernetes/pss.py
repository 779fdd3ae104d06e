"""Pod Security Standards (baseline and restricted), check by check as pod-security-admission defines them.

Written from the upstream definitions (``k8s.io/pod-security-admission/policy/check_*.go``):
the same check ids, levels, per-version behaviour, restricted-over-baseline overrides and
forbidden-reason wording, so results match the admission controller for every policy
version from v1.0 to :data:`LATEST`. Go's pointer semantics are mirrored: a field that is
absent or ``null`` is "unset"; ``{}`` is set with zero values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from lockgate.errors import ConfigError

LATEST = 37
"""Newest policy minor version with checks defined (v1.37)."""

LEVELS = ("privileged", "baseline", "restricted")

P = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Spot:
    """Where a violation is: path from the pod root (``("spec", ...)``/``("metadata", ...)``) and container."""

    path: P
    container: str = ""


@dataclass(frozen=True, slots=True)
class Violation:
    """A failed check: upstream id, forbidden reason and detail, and the offending fields."""

    check: str
    reason: str
    detail: str
    spots: tuple[Spot, ...]

    @property
    def message(self) -> str:
        return f"{self.reason} ({self.detail})"


CheckFn = Callable[[dict[str, Any], dict[str, Any]], Violation | None]


def _d(value: Any) -> dict[str, Any] | None:
    """A Go struct pointer: non-nil only when the field holds a mapping."""
    return value if isinstance(value, dict) else None


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _containers(spec: dict[str, Any]) -> Iterator[tuple[dict[str, Any], P]]:
    """Init, regular and ephemeral containers, in upstream's visiting order, with their paths."""
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for i, c in enumerate(_l(spec.get(key))):
            if isinstance(c, dict):
                yield c, ("spec", key, i)


def _name(c: dict[str, Any]) -> str:
    return str(c.get("name") or "")


def _sc(c: dict[str, Any]) -> dict[str, Any] | None:
    return _d(c.get("securityContext"))


def _plural(one: str, many: str, n: int) -> str:
    return one if n == 1 else many


def _quote(items: list[str]) -> str:
    return ", ".join(f'"{i}"' for i in items)


def _setters(pod: bool, containers: list[str]) -> str:
    parts = ["pod"] if pod else []
    if containers:
        parts.append(f"{_plural('container', 'containers', len(containers))} {_quote(containers)}")
    return " and ".join(parts)


def _windows(spec: dict[str, Any]) -> bool:
    os_ = _d(spec.get("os"))
    return os_ is not None and os_.get("name") == "windows"


def _userns(spec: dict[str, Any]) -> bool:
    """relaxPolicyForUserNamespacePod: ``hostUsers: false`` relaxes some checks from v1.35."""
    return spec.get("hostUsers") is False


# --- baseline ---------------------------------------------------------------------------------

_APPARMOR_PREFIX = "container.apparmor.security.beta.kubernetes.io/"


def app_armor_profile(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    spots: list[Spot] = []
    bad_values: set[str] = set()
    pod = False
    psc = _d(spec.get("securityContext"))
    prof = _d(psc.get("appArmorProfile")) if psc else None
    if prof is not None and prof.get("type") not in ("RuntimeDefault", "Localhost"):
        pod = True
        bad_values.add(str(prof.get("type") or ""))
        spots.append(Spot(("spec", "securityContext", "appArmorProfile", "type")))
    bad: list[str] = []
    for c, path in _containers(spec):
        sc = _sc(c)
        cp = _d(sc.get("appArmorProfile")) if sc else None
        if cp is not None and cp.get("type") not in ("RuntimeDefault", "Localhost"):
            bad.append(_name(c))
            bad_values.add(str(cp.get("type") or ""))
            spots.append(Spot((*path, "securityContext", "appArmorProfile", "type"), _name(c)))
    annotations = _d(meta.get("annotations")) or {}
    forbidden = []
    for k, v in annotations.items():
        value = "" if v is None else str(v)
        if str(k).startswith(_APPARMOR_PREFIX) and not (
            value in {"", "runtime/default"} or value.startswith("localhost/")
        ):
            forbidden.append(f'{k}="{value}"')
            spots.append(Spot(("metadata", "annotations", str(k)), str(k)[len(_APPARMOR_PREFIX) :]))
    if not spots:
        return None
    setters = _setters(pod, bad)
    values = sorted(bad_values)
    if forbidden:
        values += sorted(forbidden)
        setters = " and ".join(x for x in (setters, _plural("annotation", "annotations", len(forbidden))) if x)
    return Violation(
        "appArmorProfile",
        _plural("forbidden AppArmor profile", "forbidden AppArmor profiles", len(values)),
        f"{setters} must not set AppArmor profile type to {_quote(values)}",
        tuple(spots),
    )


_CAPS_DEFAULT = frozenset(
    [
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    ]
)


def capabilities_baseline(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    bad: list[str] = []
    caps: set[str] = set()
    spots: list[Spot] = []
    for c, path in _containers(spec):
        sc = _sc(c)
        cap = _d(sc.get("capabilities")) if sc else None
        if cap is None:
            continue
        for i, a in enumerate(_l(cap.get("add"))):
            if str(a) not in _CAPS_DEFAULT:
                caps.add(str(a))
                spots.append(Spot((*path, "securityContext", "capabilities", "add", i), _name(c)))
                if not bad or bad[-1] != _name(c):
                    bad.append(_name(c))
    if not spots:
        return None
    return Violation(
        "capabilities_baseline",
        "non-default capabilities",
        f"{_plural('container', 'containers', len(bad))} {_quote(bad)} must not include {_quote(sorted(caps))} "
        "in securityContext.capabilities.add",
        tuple(spots),
    )


def host_namespaces(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    found = [k for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k) is True]
    if not found:
        return None
    return Violation(
        "hostNamespaces",
        "host namespaces",
        ", ".join(f"{k}=true" for k in found),
        tuple(Spot(("spec", k)) for k in found),
    )


def _volumes(spec: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    for i, v in enumerate(_l(spec.get("volumes"))):
        if isinstance(v, dict):
            yield i, v


def host_path_volumes(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    bad = [(i, v) for i, v in _volumes(spec) if _d(v.get("hostPath")) is not None]
    if not bad:
        return None
    names = [str(v.get("name") or "") for _, v in bad]
    return Violation(
        "hostPathVolumes",
        "hostPath volumes",
        f"{_plural('volume', 'volumes', len(names))} {_quote(names)}",
        tuple(Spot(("spec", "volumes", i, "hostPath")) for i, _ in bad),
    )


def host_ports(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    bad: list[str] = []
    ports: set[str] = set()
    spots: list[Spot] = []
    for c, path in _containers(spec):
        found = False
        for i, p in enumerate(_l(c.get("ports"))):
            hp = p.get("hostPort") if isinstance(p, dict) else None
            if hp not in (None, 0):
                found = True
                ports.add(str(hp))
                spots.append(Spot((*path, "ports", i, "hostPort"), _name(c)))
        if found:
            bad.append(_name(c))
    if not bad:
        return None
    return Violation(
        "hostPorts",
        "hostPort",
        f"{_plural('container', 'containers', len(bad))} {_quote(bad)} {_plural('uses', 'use', len(bad))} "
        f"{_plural('hostPort', 'hostPorts', len(ports))} {', '.join(sorted(ports))}",
        tuple(spots),
    )


def host_probes_and_host_lifecycle(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    bad: set[str] = set()
    hosts: set[str] = set()
    spots: list[Spot] = []

    def handler(h: Any, path: P, cname: str) -> None:
        h = _d(h)
        if h is None:
            return
        for kind in ("httpGet", "tcpSocket"):
            action = _d(h.get(kind))
            if action is not None and action.get("host"):
                bad.add(cname)
                hosts.add(str(action["host"]))
                spots.append(Spot((*path, kind, "host"), cname))

    for c, path in _containers(spec):
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            handler(c.get(probe), (*path, probe), _name(c))
        lc = _d(c.get("lifecycle"))
        if lc is not None:
            for hook in ("postStart", "preStop"):
                handler(lc.get(hook), (*path, "lifecycle", hook), _name(c))
    if not bad:
        return None
    return Violation(
        "hostProbesAndHostLifecycle",
        "probe or lifecycle host",
        f"{_plural('container', 'containers', len(bad))} {_quote(sorted(bad))} {_plural('uses', 'use', len(bad))} "
        f"{_plural('probe or lifecycle host', 'probe or lifecycle hosts', len(hosts))} {_quote(sorted(hosts))}",
        tuple(spots),
    )


def privileged(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    bad = []
    for c, path in _containers(spec):
        sc = _sc(c)
        if sc is not None and sc.get("privileged") is True:
            bad.append((c, path))
    if not bad:
        return None
    names = [_name(c) for c, _ in bad]
    return Violation(
        "privileged",
        "privileged",
        f"{_plural('container', 'containers', len(names))} {_quote(names)} "
        "must not set securityContext.privileged=true",
        tuple(Spot((*p, "securityContext", "privileged"), _name(c)) for c, p in bad),
    )


def _proc_mount(check: str, spec: dict[str, Any]) -> Violation | None:
    bad: list[str] = []
    types: set[str] = set()
    spots: list[Spot] = []
    for c, path in _containers(spec):
        sc = _sc(c)
        if sc is None or sc.get("procMount") is None:
            continue
        if sc["procMount"] != "Default":
            bad.append(_name(c))
            types.add(str(sc["procMount"]))
            spots.append(Spot((*path, "securityContext", "procMount"), _name(c)))
    if not bad:
        return None
    return Violation(
        check,
        "procMount",
        f"{_plural('container', 'containers', len(bad))} {_quote(bad)} must not set securityContext.procMount to "
        f"{_quote(sorted(types))}",
        tuple(spots),
    )


def proc_mount_1_0(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    return _proc_mount("procMount", spec)


def proc_mount_1_35(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    return None if _userns(spec) else _proc_mount("procMount", spec)


def proc_mount_restricted(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    return _proc_mount("procMount_restricted", spec)


def _selinux(allowed: frozenset[str]) -> CheckFn:
    def check(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
        bad_types: set[str] = set()
        flags = {"user": False, "role": False}
        spots: list[Spot] = []

        def valid(opts: dict[str, Any], path: P, cname: str) -> bool:
            ok = True
            t = str(opts.get("type") or "")
            if t not in allowed:
                ok = False
                bad_types.add(t)
                spots.append(Spot((*path, "type"), cname))
            for key in ("user", "role"):
                if opts.get(key):
                    ok = False
                    flags[key] = True
                    spots.append(Spot((*path, key), cname))
            return ok

        pod = False
        psc = _d(spec.get("securityContext"))
        popts = _d(psc.get("seLinuxOptions")) if psc else None
        if popts is not None and not valid(popts, ("spec", "securityContext", "seLinuxOptions"), ""):
            pod = True
        bad: list[str] = []
        for c, path in _containers(spec):
            sc = _sc(c)
            opts = _d(sc.get("seLinuxOptions")) if sc else None
            if opts is not None and not valid(opts, (*path, "securityContext", "seLinuxOptions"), _name(c)):
                bad.append(_name(c))
        if not pod and not bad:
            return None
        data = []
        if bad_types:
            data.append(f"{_plural('type', 'types', len(bad_types))} {_quote(sorted(bad_types))}")
        if flags["user"]:
            data.append("user may not be set")
        if flags["role"]:
            data.append("role may not be set")
        return Violation(
            "seLinuxOptions",
            "seLinuxOptions",
            f"{_setters(pod, bad)} set forbidden securityContext.seLinuxOptions: {'; '.join(data)}",
            tuple(spots),
        )

    return check


_SELINUX_1_0 = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
_SELINUX_1_31 = _SELINUX_1_0 | {"container_engine_t"}

_SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
_SECCOMP_CONTAINER_PREFIX = "container.seccomp.security.alpha.kubernetes.io/"


def _valid_seccomp_annotation(v: str) -> bool:
    return v in ("runtime/default", "docker/default") or v.startswith("localhost/")


def seccomp_baseline_1_0(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    annotations = _d(meta.get("annotations")) or {}
    forbidden: set[str] = set()
    spots: list[Spot] = []
    if _SECCOMP_POD_ANNOTATION in annotations:
        v = "" if annotations[_SECCOMP_POD_ANNOTATION] is None else str(annotations[_SECCOMP_POD_ANNOTATION])
        if not _valid_seccomp_annotation(v):
            forbidden.add(f'{_SECCOMP_POD_ANNOTATION}="{v}"')
            spots.append(Spot(("metadata", "annotations", _SECCOMP_POD_ANNOTATION)))
    for c, _ in _containers(spec):
        key = _SECCOMP_CONTAINER_PREFIX + _name(c)
        if key in annotations:
            v = "" if annotations[key] is None else str(annotations[key])
            if not _valid_seccomp_annotation(v):
                forbidden.add(f'{key}="{v}"')
                spots.append(Spot(("metadata", "annotations", key), _name(c)))
    if not forbidden:
        return None
    return Violation(
        "seccompProfile_baseline",
        "seccompProfile",
        f"forbidden {_plural('annotation', 'annotations', len(forbidden))} {', '.join(sorted(forbidden))}",
        tuple(spots),
    )


def _seccomp_type(holder: dict[str, Any] | None) -> tuple[bool, str]:
    """(set, type) of ``holder.seccompProfile``."""
    prof = _d(holder.get("seccompProfile")) if holder else None
    if prof is None:
        return False, ""
    return True, str(prof.get("type") or "")


def _seccomp(check: str, spec: dict[str, Any], require: bool) -> Violation | None:
    valid = ("Localhost", "RuntimeDefault")
    bad_values: set[str] = set()
    spots: list[Spot] = []
    pod_bad = pod_ok = False
    is_set, t = _seccomp_type(_d(spec.get("securityContext")))
    if is_set:
        if t not in valid:
            pod_bad = True
            bad_values.add(t)
            spots.append(Spot(("spec", "securityContext", "seccompProfile", "type")))
        else:
            pod_ok = True
    explicit: list[str] = []
    implicit: list[tuple[str, P]] = []
    for c, path in _containers(spec):
        is_set, t = _seccomp_type(_sc(c))
        if is_set:
            if t not in valid:
                explicit.append(_name(c))
                bad_values.add(t)
                spots.append(Spot((*path, "securityContext", "seccompProfile", "type"), _name(c)))
        elif not pod_ok:
            implicit.append((_name(c), path))
    if pod_bad or explicit:
        return Violation(
            check,
            "seccompProfile",
            f"{_setters(pod_bad, explicit)} must not set securityContext.seccompProfile.type to "
            f"{_quote(sorted(bad_values))}",
            tuple(spots),
        )
    if require and implicit:
        names = [n for n, _ in implicit]
        return Violation(
            check,
            "seccompProfile",
            f"pod or {_plural('container', 'containers', len(names))} {_quote(names)} must set "
            'securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"',
            tuple(Spot(p, n) for n, p in implicit),
        )
    return None


def seccomp_baseline_1_19(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    return _seccomp("seccompProfile_baseline", spec, require=False)


def seccomp_restricted_1_19(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    return _seccomp("seccompProfile_restricted", spec, require=True)


def seccomp_restricted_1_25(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    return None if _windows(spec) else seccomp_restricted_1_19(meta, spec)


_SYSCTLS_1_0 = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    }
)
_SYSCTLS_1_27 = _SYSCTLS_1_0 | {"net.ipv4.ip_local_reserved_ports"}
_SYSCTLS_1_29 = _SYSCTLS_1_27 | {
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
_SYSCTLS_1_32 = _SYSCTLS_1_29 | {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}
_SYSCTLS_1_37 = _SYSCTLS_1_32 | {"net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"}


def _sysctls(allowed: frozenset[str]) -> CheckFn:
    def check(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
        psc = _d(spec.get("securityContext"))
        if psc is None:
            return None
        bad = []
        for i, s in enumerate(_l(psc.get("sysctls"))):
            name = str(s.get("name") or "") if isinstance(s, dict) else ""
            if name not in allowed:
                bad.append((i, name))
        if not bad:
            return None
        return Violation(
            "sysctls",
            "forbidden sysctls",
            ", ".join(n for _, n in bad),
            tuple(Spot(("spec", "securityContext", "sysctls", i, "name")) for i, _ in bad),
        )

    return check


def windows_host_process(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    def host_process(sc: dict[str, Any] | None) -> bool:
        wo = _d(sc.get("windowsOptions")) if sc else None
        return wo is not None and wo.get("hostProcess") is True

    spots: list[Spot] = []
    bad: list[str] = []
    for c, path in _containers(spec):
        if host_process(_sc(c)):
            bad.append(_name(c))
            spots.append(Spot((*path, "securityContext", "windowsOptions", "hostProcess"), _name(c)))
    pod = host_process(_d(spec.get("securityContext")))
    if pod:
        spots.insert(0, Spot(("spec", "securityContext", "windowsOptions", "hostProcess")))
    if not spots:
        return None
    return Violation(
        "windowsHostProcess",
        "hostProcess",
        f"{_setters(pod, bad)} must not set securityContext.windowsOptions.hostProcess=true",
        tuple(spots),
    )


# --- restricted -------------------------------------------------------------------------------


def allow_privilege_escalation_1_8(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    bad = []
    for c, path in _containers(spec):
        sc = _sc(c)
        if sc is None or sc.get("allowPrivilegeEscalation") is None or sc["allowPrivilegeEscalation"] is not False:
            where = (*path, "securityContext", "allowPrivilegeEscalation") if sc is not None else path
            bad.append((_name(c), where))
    if not bad:
        return None
    names = [n for n, _ in bad]
    return Violation(
        "allowPrivilegeEscalation",
        "allowPrivilegeEscalation != false",
        f"{_plural('container', 'containers', len(names))} {_quote(names)} must set "
        "securityContext.allowPrivilegeEscalation=false",
        tuple(Spot(p, n) for n, p in bad),
    )


def allow_privilege_escalation_1_25(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    return None if _windows(spec) else allow_privilege_escalation_1_8(meta, spec)


def capabilities_restricted_1_22(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    missing: list[str] = []
    adding: list[str] = []
    forbidden: set[str] = set()
    spots: list[Spot] = []
    for c, path in _containers(spec):
        sc = _sc(c)
        cap = _d(sc.get("capabilities")) if sc else None
        if cap is None:
            missing.append(_name(c))
            spots.append(Spot((*path, "securityContext") if sc is not None else path, _name(c)))
            continue
        if "ALL" not in [str(x) for x in _l(cap.get("drop"))]:
            missing.append(_name(c))
            spots.append(Spot((*path, "securityContext", "capabilities", "drop"), _name(c)))
        added = False
        for i, a in enumerate(_l(cap.get("add"))):
            if a != "NET_BIND_SERVICE":
                added = True
                forbidden.add(str(a))
                spots.append(Spot((*path, "securityContext", "capabilities", "add", i), _name(c)))
        if added:
            adding.append(_name(c))
    details = []
    if missing:
        details.append(
            f"{_plural('container', 'containers', len(missing))} {_quote(missing)} must set "
            'securityContext.capabilities.drop=["ALL"]'
        )
    if adding:
        details.append(
            f"{_plural('container', 'containers', len(adding))} {_quote(adding)} must not include "
            f"{_quote(sorted(forbidden))} in securityContext.capabilities.add"
        )
    if not details:
        return None
    return Violation("capabilities_restricted", "unrestricted capabilities", "; ".join(details), tuple(spots))


def capabilities_restricted_1_25(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    return None if _windows(spec) else capabilities_restricted_1_22(meta, spec)


_ALLOWED_VOLUME_SOURCES = (
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
)
_RESTRICTED_VOLUME_SOURCES = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
]


def restricted_volumes(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    bad: list[str] = []
    types: set[str] = set()
    spots: list[Spot] = []
    for i, v in _volumes(spec):
        if any(_d(v.get(k)) is not None for k in _ALLOWED_VOLUME_SOURCES):
            continue
        if not any(_d(val) is not None for key, val in v.items() if key != "name"):
            continue  # the API server defaults a volume without a source to emptyDir
        bad.append(str(v.get("name") or ""))
        kind = next((k for k in _RESTRICTED_VOLUME_SOURCES if _d(v.get(k)) is not None), "unknown")
        types.add(kind)
        spots.append(Spot(("spec", "volumes", i, kind) if kind != "unknown" else ("spec", "volumes", i)))
    if not bad:
        return None
    return Violation(
        "restrictedVolumes",
        "restricted volume types",
        f"{_plural('volume', 'volumes', len(bad))} {_quote(bad)} {_plural('uses', 'use', len(bad))} "
        f"{_plural('restricted volume type', 'restricted volume types', len(types))} {_quote(sorted(types))}",
        tuple(spots),
    )


def run_as_non_root_1_0(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    pod_bad = pod_ok = False
    spots: list[Spot] = []
    psc = _d(spec.get("securityContext"))
    if psc is not None and psc.get("runAsNonRoot") is not None:
        if psc["runAsNonRoot"] is not True:
            pod_bad = True
            spots.append(Spot(("spec", "securityContext", "runAsNonRoot")))
        else:
            pod_ok = True
    explicit: list[str] = []
    implicit: list[tuple[str, P]] = []
    for c, path in _containers(spec):
        sc = _sc(c)
        if sc is not None and sc.get("runAsNonRoot") is not None:
            if sc["runAsNonRoot"] is not True:
                explicit.append(_name(c))
                spots.append(Spot((*path, "securityContext", "runAsNonRoot"), _name(c)))
        elif not pod_ok:
            implicit.append((_name(c), (*path, "securityContext") if sc is not None else path))
    if pod_bad or explicit:
        return Violation(
            "runAsNonRoot",
            "runAsNonRoot != true",
            f"{_setters(pod_bad, explicit)} must not set securityContext.runAsNonRoot=false",
            tuple(spots),
        )
    if implicit:
        names = [n for n, _ in implicit]
        return Violation(
            "runAsNonRoot",
            "runAsNonRoot != true",
            f"pod or {_plural('container', 'containers', len(names))} {_quote(names)} must set "
            "securityContext.runAsNonRoot=true",
            tuple(Spot(p, n) for n, p in implicit),
        )
    return None


def run_as_non_root_1_35(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    return None if _userns(spec) else run_as_non_root_1_0(meta, spec)


def _is_zero(v: Any) -> bool:
    return v == 0 and not isinstance(v, bool)


def run_as_user_1_23(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    spots: list[Spot] = []
    psc = _d(spec.get("securityContext"))
    pod = psc is not None and _is_zero(psc.get("runAsUser"))
    if pod:
        spots.append(Spot(("spec", "securityContext", "runAsUser")))
    bad: list[str] = []
    for c, path in _containers(spec):
        sc = _sc(c)
        if sc is not None and _is_zero(sc.get("runAsUser")):
            bad.append(_name(c))
            spots.append(Spot((*path, "securityContext", "runAsUser"), _name(c)))
    if not spots:
        return None
    return Violation("runAsUser", "runAsUser=0", f"{_setters(pod, bad)} must not set runAsUser=0", tuple(spots))


def run_as_user_1_35(meta: dict[str, Any], spec: dict[str, Any]) -> Violation | None:
    return None if _userns(spec) else run_as_user_1_23(meta, spec)


# --- registry ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionedCheck:
    minimum: int
    """First policy minor version (1.<minimum>) this implementation applies to."""
    fn: CheckFn
    overrides: tuple[str, ...] = ()
    """Baseline check ids this restricted check replaces at the restricted level."""


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    level: str
    versions: tuple[VersionedCheck, ...]

    def at(self, minor: int) -> VersionedCheck | None:
        """The implementation in force at policy version 1.<minor>, if the check exists then."""
        current = None
        for v in self.versions:
            if v.minimum <= minor:
                current = v
        return current


V = VersionedCheck
CHECKS: tuple[Check, ...] = (
    Check("appArmorProfile", "baseline", (V(0, app_armor_profile),)),
    Check("capabilities_baseline", "baseline", (V(0, capabilities_baseline),)),
    Check("hostNamespaces", "baseline", (V(0, host_namespaces),)),
    Check("hostPathVolumes", "baseline", (V(0, host_path_volumes),)),
    Check("hostPorts", "baseline", (V(0, host_ports),)),
    Check("hostProbesAndHostLifecycle", "baseline", (V(34, host_probes_and_host_lifecycle),)),
    Check("privileged", "baseline", (V(0, privileged),)),
    Check("procMount", "baseline", (V(0, proc_mount_1_0), V(35, proc_mount_1_35))),
    Check("seLinuxOptions", "baseline", (V(0, _selinux(_SELINUX_1_0)), V(31, _selinux(_SELINUX_1_31)))),
    Check("seccompProfile_baseline", "baseline", (V(0, seccomp_baseline_1_0), V(19, seccomp_baseline_1_19))),
    Check(
        "sysctls",
        "baseline",
        (
            V(0, _sysctls(_SYSCTLS_1_0)),
            V(27, _sysctls(_SYSCTLS_1_27)),
            V(29, _sysctls(_SYSCTLS_1_29)),
            V(32, _sysctls(_SYSCTLS_1_32)),
            V(37, _sysctls(_SYSCTLS_1_37)),
        ),
    ),
    Check("windowsHostProcess", "baseline", (V(0, windows_host_process),)),
    Check(
        "allowPrivilegeEscalation",
        "restricted",
        (V(8, allow_privilege_escalation_1_8), V(25, allow_privilege_escalation_1_25)),
    ),
    Check(
        "capabilities_restricted",
        "restricted",
        (
            V(22, capabilities_restricted_1_22, ("capabilities_baseline",)),
            V(25, capabilities_restricted_1_25, ("capabilities_baseline",)),
        ),
    ),
    Check("procMount_restricted", "restricted", (V(35, proc_mount_restricted, ("procMount",)),)),
    Check("restrictedVolumes", "restricted", (V(0, restricted_volumes, ("hostPathVolumes",)),)),
    Check("runAsNonRoot", "restricted", (V(0, run_as_non_root_1_0), V(35, run_as_non_root_1_35))),
    Check("runAsUser", "restricted", (V(23, run_as_user_1_23), V(35, run_as_user_1_35))),
    Check(
        "seccompProfile_restricted",
        "restricted",
        (
            V(19, seccomp_restricted_1_19, ("seccompProfile_baseline",)),
            V(25, seccomp_restricted_1_25, ("seccompProfile_baseline",)),
        ),
    ),
)
"""Every check, baseline first then restricted (each sorted by id, as upstream orders them)."""

CHECK_LEVEL = {c.id: c.level for c in CHECKS}

_VERSION = re.compile(r"v1\.(0|[1-9][0-9]{0,3})")


def parse_version(text: str) -> int:
    """Policy minor version from ``vX.Y``/``latest``; newer than :data:`LATEST` means latest (as upstream)."""
    t = text.strip()
    if t in ("latest", ""):
        return LATEST
    m = _VERSION.fullmatch(t)
    if m is None:
        raise ConfigError(f"invalid Pod Security Standards version {text!r} (use v1.N or latest)")
    return min(int(m.group(1)), LATEST)


def checks_for(level: str, minor: int) -> list[tuple[str, CheckFn]]:
    """``(check id, implementation)`` enforced at ``level`` and policy version 1.<minor>."""
    if level not in LEVELS:
        raise ConfigError(f"invalid Pod Security Standards level {level!r} (use privileged, baseline or restricted)")
    if level == "privileged":
        return []
    active = [(c, v) for c in CHECKS if (v := c.at(minor)) is not None]
    if level == "baseline":
        return [(c.id, v.fn) for c, v in active if c.level == "baseline"]
    overridden = {o for c, v in active if c.level == "restricted" for o in v.overrides}
    return [(c.id, v.fn) for c, v in active if c.id not in overridden]


def evaluate_pod(
    meta: dict[str, Any], spec: dict[str, Any], level: str = "restricted", version: str = "latest"
) -> list[Violation]:
    """All violations of a pod (metadata + spec) at ``level``/``version``; empty means allowed."""
    minor = parse_version(version)
    out = []
    for _, fn in checks_for(level, minor):
        v = fn(meta, spec)
        if v is not None:
            out.append(v)
    return out
