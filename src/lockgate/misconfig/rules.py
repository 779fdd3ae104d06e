"""The rule catalogue: every misconfiguration rule lockgate reports, with stable ids and metadata.

Ids never change meaning; retired rules keep their id reserved. ``PSS-<check>`` rules carry the
upstream pod-security-admission check id; ``LG-<FAMILY>-NNN`` rules are lockgate's own.
"""

from __future__ import annotations

from functools import cache

from lockgate.findings.model import Severity
from lockgate.misconfig.model import Rule

C, H, M, L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW
PSS_DOC = "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
NSA = "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF"
DOCKER_BP = "https://docs.docker.com/build/building/best-practices/"
HADOLINT = "https://github.com/hadolint/hadolint/wiki/"

_PSS: tuple[tuple[str, Severity, str, str, str, tuple[str, ...]], ...] = (
    # id, severity, title, description, remediation, extra compliance
    (
        "appArmorProfile",
        H,
        "AppArmor profile overridden or disabled",
        "The pod or a container sets an AppArmor profile other than RuntimeDefault or Localhost (field or beta "
        "annotation), e.g. unconfined.",
        "Remove the override or use type RuntimeDefault/Localhost (annotation values runtime/default or localhost/*).",
        (),
    ),
    (
        "capabilities_baseline",
        H,
        "Capabilities beyond the default set added",
        "A container adds a Linux capability outside the container runtime's default set.",
        "Remove the capability from securityContext.capabilities.add.",
        ("k8s-nsa:capabilities",),
    ),
    (
        "hostNamespaces",
        H,
        "Host namespaces shared",
        "hostNetwork, hostPID or hostIPC is true: the pod shares the node's network, process or IPC namespace.",
        "Remove hostNetwork/hostPID/hostIPC or set them to false.",
        ("k8s-nsa:host-namespaces",),
    ),
    (
        "hostPathVolumes",
        H,
        "hostPath volume",
        "A volume mounts a path of the node's filesystem.",
        "Use emptyDir, a PersistentVolumeClaim, a ConfigMap or a Secret instead of hostPath.",
        ("k8s-nsa:host-path",),
    ),
    (
        "hostPorts",
        H,
        "hostPort used",
        "A container binds a port on the node's network interface.",
        "Remove hostPort and expose the pod through a Service.",
        ("k8s-nsa:host-ports",),
    ),
    (
        "hostProbesAndHostLifecycle",
        H,
        "Probe or lifecycle handler targets another host",
        "An httpGet/tcpSocket probe or lifecycle hook sets host, which lets the kubelet reach arbitrary hosts.",
        "Remove the host field so the probe targets the pod itself.",
        (),
    ),
    (
        "privileged",
        C,
        "Privileged container",
        "securityContext.privileged is true: the container has all capabilities and access to host devices.",
        "Set securityContext.privileged to false (or remove it).",
        ("k8s-nsa:privileged",),
    ),
    (
        "procMount",
        H,
        "Unmasked /proc mount",
        "securityContext.procMount is set to something other than Default.",
        "Remove procMount or set it to Default.",
        (),
    ),
    (
        "seLinuxOptions",
        H,
        "Forbidden SELinux options",
        "seLinuxOptions sets a custom user or role, or a type outside the container_* types.",
        "Remove seLinuxOptions.user/role and use type container_t (or another allowed type).",
        (),
    ),
    (
        "seccompProfile_baseline",
        H,
        "Seccomp profile disabled",
        "The seccomp profile is set to Unconfined (field, or the pre-1.19 annotations).",
        "Use seccompProfile.type RuntimeDefault or Localhost.",
        ("k8s-nsa:seccomp",),
    ),
    (
        "sysctls",
        H,
        "Unsafe sysctls",
        "The pod sets a sysctl outside the safe set for its policy version.",
        "Remove the sysctl from securityContext.sysctls.",
        (),
    ),
    (
        "windowsHostProcess",
        H,
        "Windows HostProcess container",
        "windowsOptions.hostProcess is true: the container runs as a process on the Windows node.",
        "Remove windowsOptions.hostProcess or set it to false.",
        (),
    ),
    (
        "allowPrivilegeEscalation",
        M,
        "Privilege escalation allowed",
        "securityContext.allowPrivilegeEscalation is not false, so setuid binaries can gain privileges.",
        "Set securityContext.allowPrivilegeEscalation: false on every container.",
        ("k8s-nsa:privilege-escalation",),
    ),
    (
        "capabilities_restricted",
        M,
        "Capabilities not dropped",
        "A container does not drop ALL capabilities, or adds one other than NET_BIND_SERVICE.",
        'Set securityContext.capabilities.drop: ["ALL"] and add back only NET_BIND_SERVICE if needed.',
        ("k8s-nsa:capabilities",),
    ),
    (
        "procMount_restricted",
        M,
        "Unmasked /proc mount (restricted)",
        "securityContext.procMount is not Default (restricted level: also for user-namespace pods).",
        "Remove procMount or set it to Default.",
        (),
    ),
    (
        "restrictedVolumes",
        M,
        "Volume type not allowed by restricted",
        "A volume uses a type other than configMap, csi, downwardAPI, emptyDir, ephemeral, image, "
        "persistentVolumeClaim, projected or secret.",
        "Use one of the allowed volume types (a PersistentVolumeClaim for network storage).",
        ("k8s-nsa:host-path",),
    ),
    (
        "runAsNonRoot",
        M,
        "Containers may run as root",
        "Neither the pod nor the container sets securityContext.runAsNonRoot: true, or one sets it to false.",
        "Set securityContext.runAsNonRoot: true (pod level) and run the image as a non-root user.",
        ("k8s-nsa:non-root",),
    ),
    (
        "runAsUser",
        M,
        "runAsUser is 0 (root)",
        "The pod or a container sets runAsUser: 0.",
        "Set runAsUser to a non-zero UID (10000 or above avoids clashes with host users).",
        ("k8s-nsa:non-root",),
    ),
    (
        "seccompProfile_restricted",
        M,
        "Seccomp profile not set",
        "Neither the pod nor the container sets seccompProfile.type RuntimeDefault or Localhost.",
        "Set spec.securityContext.seccompProfile.type: RuntimeDefault.",
        ("k8s-nsa:seccomp",),
    ),
)


def _pss_rules() -> list[Rule]:
    from lockgate.misconfig.kubernetes.pss import CHECK_LEVEL

    out = []
    for check, sev, title, desc, fix, comp in _PSS:
        level = CHECK_LEVEL[check]
        levels = ("pss-baseline", "pss-restricted") if level == "baseline" else ("pss-restricted",)
        out.append(
            Rule(
                id=f"PSS-{check}",
                title=title,
                severity=sev,
                family="pss",
                description=f"Pod Security Standards ({level}, check {check}): {desc}",
                remediation=fix,
                references=(PSS_DOC, "https://github.com/kubernetes/pod-security-admission"),
                compliance=(*(f"{lv}:{check}" for lv in levels), *comp),
            )
        )
    return out


def _r(
    id_: str,
    sev: Severity,
    family: str,
    title: str,
    desc: str,
    fix: str,
    refs: tuple[str, ...] = (),
    comp: tuple[str, ...] = (),
) -> Rule:
    return Rule(id_, title, sev, family, desc, fix, refs, comp)


K = "kubernetes"
_OWN: tuple[Rule, ...] = (
    _r(
        "LG-K8S-001",
        L,
        K,
        "CPU or memory requests not set",
        "A container does not request CPU and memory, so the scheduler cannot place it reliably.",
        "Set resources.requests.cpu and resources.requests.memory.",
        (NSA,),
        ("k8s-nsa:resource-policies",),
    ),
    _r(
        "LG-K8S-002",
        M,
        K,
        "CPU or memory limits not set",
        "A container has no CPU or memory limit and can starve its node (denial of service).",
        "Set resources.limits.cpu and resources.limits.memory.",
        (NSA,),
        ("k8s-nsa:resource-policies",),
    ),
    _r(
        "LG-K8S-003",
        M,
        K,
        "Root filesystem is writable",
        "securityContext.readOnlyRootFilesystem is not true: an attacker can modify the container's files.",
        "Set securityContext.readOnlyRootFilesystem: true and mount emptyDir volumes where writes are needed.",
        (NSA,),
        ("k8s-nsa:immutable-filesystem",),
    ),
    _r(
        "LG-K8S-004",
        M,
        K,
        "Image uses the latest tag or no tag",
        "The image reference has no tag or the tag latest, so what runs changes without a manifest change.",
        "Pin the image to a version tag and, better, a digest (@sha256:...).",
        (),
        ("k8s-nsa:image-provenance",),
    ),
    _r(
        "LG-K8S-005",
        L,
        K,
        "Image not pinned by digest",
        "The image is referenced by tag only; a registry can serve different content under the same tag.",
        "Reference the image as name@sha256:<digest>.",
        (),
        ("k8s-nsa:image-provenance",),
    ),
    _r(
        "LG-K8S-006",
        H,
        K,
        "Image from a registry outside the allow-list",
        "The image's registry is not in the configured allow-list.",
        "Mirror the image into an allowed registry and reference it there.",
        (),
        ("k8s-nsa:image-provenance",),
    ),
    _r(
        "LG-K8S-007",
        L,
        K,
        "Service account token mounted automatically",
        "automountServiceAccountToken is not false, so every container gets API credentials.",
        "Set spec.automountServiceAccountToken: false unless the pod talks to the API server.",
        (NSA,),
        ("k8s-nsa:service-account-tokens",),
    ),
    _r(
        "LG-K8S-008",
        L,
        K,
        "Resource in the default namespace",
        "metadata.namespace is default; the default namespace mixes unrelated workloads and policies.",
        "Deploy into a dedicated namespace.",
        (NSA,),
        ("k8s-nsa:namespaces",),
    ),
    _r(
        "LG-K8S-009",
        L,
        K,
        "Liveness probe missing",
        "A long-running container has no livenessProbe, so a hung process is never restarted.",
        "Add a livenessProbe.",
        (),
        (),
    ),
    _r(
        "LG-K8S-010",
        L,
        K,
        "Readiness probe missing",
        "A long-running container has no readinessProbe, so traffic reaches it before it is ready.",
        "Add a readinessProbe.",
        (),
        (),
    ),
    _r(
        "LG-K8S-011",
        H,
        K,
        "Secret in an environment variable literal",
        "An environment variable whose name suggests a secret has a literal value in the manifest.",
        "Store the value in a Secret and use valueFrom.secretKeyRef.",
        (NSA,),
        ("k8s-nsa:secrets",),
    ),
    _r(
        "LG-K8S-012",
        C,
        K,
        "Container runtime socket mounted",
        "A hostPath volume exposes the Docker, containerd or CRI-O socket: full control of the node.",
        "Remove the volume; use the Kubernetes API or a dedicated build service instead.",
        (NSA,),
        ("k8s-nsa:host-path",),
    ),
    _r(
        "LG-K8S-013",
        H,
        K,
        "Writable hostPath mount",
        "A container mounts a hostPath volume without readOnly: true.",
        "Mount hostPath volumes readOnly: true, or avoid hostPath.",
        (NSA,),
        ("k8s-nsa:host-path",),
    ),
    _r(
        "LG-K8S-014",
        H,
        K,
        "Insecure capability added",
        "A container adds a dangerous capability (SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE, BPF, ...).",
        "Remove the capability from securityContext.capabilities.add.",
        (NSA,),
        ("k8s-nsa:capabilities",),
    ),
    _r(
        "LG-K8S-015",
        M,
        K,
        "NET_RAW not dropped",
        "A container keeps NET_RAW (raw sockets enable spoofing and sniffing on the pod network).",
        "Drop NET_RAW, or better ALL, in securityContext.capabilities.drop.",
        (),
        ("k8s-nsa:capabilities",),
    ),
    _r(
        "LG-K8S-016",
        L,
        K,
        "Bare pod without a controller",
        "A Pod is created directly; it is not rescheduled when its node fails.",
        "Run it from a Deployment, StatefulSet, DaemonSet or Job.",
        (),
        (),
    ),
    _r(
        "LG-K8S-017",
        M,
        K,
        "Service exposed through a LoadBalancer",
        "A Service of type LoadBalancer gets an external address.",
        "Use ClusterIP behind an Ingress with TLS, or restrict loadBalancerSourceRanges.",
        (NSA,),
        ("k8s-nsa:network-exposure",),
    ),
    _r(
        "LG-K8S-018",
        L,
        K,
        "Service exposed through a NodePort",
        "A Service of type NodePort opens a port on every node.",
        "Use ClusterIP behind an Ingress.",
        (NSA,),
        ("k8s-nsa:network-exposure",),
    ),
    _r(
        "LG-K8S-019",
        M,
        K,
        "Ingress without TLS",
        "An Ingress has no tls section, so traffic to it is served in clear text.",
        "Add spec.tls with a certificate Secret for the hosts.",
        (NSA,),
        ("k8s-nsa:network-exposure",),
    ),
    _r(
        "LG-K8S-020",
        M,
        K,
        "Namespace without a NetworkPolicy",
        "A Namespace defined in the scanned files has no NetworkPolicy in the same files: all traffic is allowed.",
        "Add a default-deny NetworkPolicy for the namespace.",
        (NSA,),
        ("k8s-nsa:network-policies",),
    ),
    _r(
        "LG-K8S-021",
        L,
        K,
        "Namespace without Pod Security admission label",
        "A Namespace does not set pod-security.kubernetes.io/enforce, so no Pod Security level is enforced.",
        "Label the namespace pod-security.kubernetes.io/enforce: restricted (or baseline).",
        (PSS_DOC,),
        ("k8s-nsa:pod-security",),
    ),
    _r(
        "LG-K8S-022",
        L,
        K,
        "Low user id",
        "runAsUser is below 10000; such UIDs may collide with users on the host.",
        "Run as a UID of 10000 or above.",
        (),
        ("k8s-nsa:non-root",),
    ),
    _r(
        "LG-K8S-023",
        L,
        K,
        "Namespace enforces the privileged Pod Security level",
        "A Namespace enforces the privileged Pod Security level.",
        "Set pod-security.kubernetes.io/enforce to baseline or restricted.",
        (PSS_DOC,),
        ("k8s-nsa:pod-security",),
    ),
    _r(
        "LG-K8S-024",
        L,
        K,
        "Container runs with the root group",
        "runAsGroup is 0: files owned by group root (often writable) are accessible to the process.",
        "Set runAsGroup (and fsGroup) to a non-zero GID.",
        (),
        ("k8s-nsa:non-root",),
    ),
    _r(
        "LG-K8S-025",
        L,
        K,
        "Secret exposed through an environment variable",
        "An environment variable takes its value from a Secret (secretKeyRef); environment variables leak into "
        "logs, crash dumps and child processes.",
        "Mount the Secret as a file (secret volume) instead.",
        (NSA,),
        ("k8s-nsa:secrets",),
    ),
    _r(
        "LG-RBAC-001",
        H,
        "rbac",
        "Wildcard in RBAC rule",
        "A Role or ClusterRole rule uses * in verbs, resources or apiGroups: it grants everything, now and later.",
        "List the exact verbs, resources and API groups needed.",
        (NSA,),
        ("k8s-nsa:rbac",),
    ),
    _r(
        "LG-RBAC-002",
        H,
        "rbac",
        "RBAC privilege-escalation verb",
        "A rule grants escalate, bind or impersonate, which allow gaining more permissions than granted.",
        "Remove escalate/bind/impersonate unless the subject administers RBAC.",
        (NSA,),
        ("k8s-nsa:rbac",),
    ),
    _r(
        "LG-RBAC-003",
        H,
        "rbac",
        "Read access to Secrets",
        "A rule allows get, list or watch on secrets.",
        "Grant access to specific secrets by resourceNames, or none.",
        (NSA,),
        ("k8s-nsa:rbac",),
    ),
    _r(
        "LG-RBAC-004",
        C,
        "rbac",
        "Binding to cluster-admin",
        "A RoleBinding or ClusterRoleBinding grants the cluster-admin ClusterRole.",
        "Bind a narrowly scoped role instead.",
        (NSA,),
        ("k8s-nsa:rbac",),
    ),
    _r(
        "LG-RBAC-005",
        M,
        "rbac",
        "Permission to create pods or exec into them",
        "A rule allows create on pods, or create/get on pods/exec or pods/attach: the subject can run code with "
        "any service account in the namespace.",
        "Remove pod creation and exec rights from roles that do not need them.",
        (NSA,),
        ("k8s-nsa:rbac",),
    ),
)


@cache
def all_rules() -> dict[str, Rule]:
    """Every rule by id, in documentation order."""
    from lockgate.misconfig import dockerfile, imageconfig, terraform

    rules = [*_pss_rules(), *_OWN, *dockerfile.RULES, *terraform.RULES, *imageconfig.RULES]
    out: dict[str, Rule] = {}
    for r in rules:
        if r.id in out:
            raise AssertionError(f"duplicate rule id {r.id}")
        out[r.id] = r
    return out


def get(rule_id: str) -> Rule:
    """The rule with this id (KeyError for unknown ids)."""
    return all_rules()[rule_id]
