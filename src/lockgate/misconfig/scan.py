"""Scan configuration files and directories: Kubernetes, Dockerfiles, Terraform -> one ScanReport.

Each file is read with a size limit and parsed on its own; a file that cannot be read or
parsed becomes a :class:`CoverageGap` and the scan continues with the next one.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from lockgate.config import Settings
from lockgate.errors import ConfigError, LockgateError
from lockgate.findings.model import CoverageGap, Finding, FindingKind, Location, ScanReport, Severity
from lockgate.misconfig.model import FAMILIES, Hit, MisconfigOptions

IGNORE_ANNOTATION = "lockgate.io/ignore"
"""Object (or pod template) annotation: comma-separated rule ids not to report for that object."""
IGNORE_REASON_ANNOTATION = "lockgate.io/ignore-reason"
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".terraform", "__pycache__", ".venv", "vendor"})
K8S_SUFFIXES = (".yaml", ".yml", ".json")


def file_type(path: Path) -> str | None:
    """``kubernetes``, ``dockerfile``, ``terraform`` or None for files we do not scan."""
    name = path.name
    lower = name.lower()
    if lower.endswith(K8S_SUFFIXES):
        return "kubernetes"
    if lower in ("dockerfile", "containerfile") or lower.endswith((".dockerfile", ".containerfile")):
        return "dockerfile"
    if lower.startswith(("dockerfile.", "containerfile.")):
        return "dockerfile"
    if lower.endswith(".tf"):
        return "terraform"
    return None


def _walk(root: Path, charts: list[str] | None = None) -> Iterator[Path]:
    """Scannable files under ``root``; Helm chart templates are skipped (and listed in ``charts``)."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        if "Chart.yaml" in filenames and "templates" in dirnames:
            dirnames.remove("templates")  # Go templates are not YAML: render with `helm template`
            if charts is not None:
                charts.append(dirpath)
        for f in sorted(filenames):
            p = Path(dirpath) / f
            if file_type(p) is not None and not p.is_symlink():
                yield p


def _sniff(text: str) -> str:
    """Type of stdin content: Dockerfile when the first instruction is FROM/ARG, Terraform for HCL blocks."""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word = line.split(None, 1)[0].upper()
        if word in ("FROM", "ARG") and not line.rstrip().endswith(":"):
            return "dockerfile"
        if word in ("resource", "RESOURCE", "PROVIDER", "VARIABLE", "TERRAFORM", "MODULE", "DATA") and "{" in line:
            return "terraform"
        return "kubernetes"
    return "kubernetes"


class _Scanner:
    def __init__(self, options: MisconfigOptions, settings: Settings) -> None:
        from lockgate.misconfig import rules

        self.options = options
        self.settings = settings
        self.rules = rules.all_rules()
        self.findings: list[Finding] = []
        self.gaps: list[CoverageGap] = []
        self.warnings: list[str] = []
        self.disabled = set(options.disable)
        self.overrides = dict(options.severity_overrides)
        self.namespaces: list[tuple[object, str]] = []
        self.netpol_namespaces: set[str] = set()
        self.k8s_objects: list[object] = []
        self.rego_docs: list[tuple[object, Location]] = []
        """(input document, where it came from) for custom Rego rules."""
        self.ignores = _load_ignore_file(options.ignore_file) if options.ignore_file else []
        unknown = [d for d in self.disabled if d not in self.rules and d not in FAMILIES]
        if unknown:
            self.warnings.append(f"unknown rule ids in disable: {', '.join(sorted(unknown))}")

    def enabled(self, rule_id: str) -> bool:
        rule = self.rules.get(rule_id)
        return rule is not None and rule_id not in self.disabled and rule.family not in self.disabled

    def emit(self, hit: Hit, location: Location, suppressed: dict[str, str] | None = None) -> None:
        if not self.enabled(hit.rule_id):
            return
        rule = self.rules[hit.rule_id]
        sev = self.overrides.get(rule.id, rule.severity)
        why = ""
        if suppressed and (hit.rule_id in suppressed or "*" in suppressed):
            why = suppressed.get(hit.rule_id) or suppressed.get("*") or "inline suppression"
        else:
            why = _ignored_by(self.ignores, rule.id, location.path)
        self.findings.append(
            Finding(
                kind=FindingKind.MISCONFIGURATION,
                id=rule.id,
                severity=sev if isinstance(sev, Severity) else rule.severity,
                title=rule.title,
                aliases=hit.aliases,
                description=f"{hit.message}. {rule.description}" if hit.message else rule.description,
                severity_source="lockgate",
                remediation=rule.remediation,
                references=rule.references,
                location=location,
                suppressed_by=why,
            )
        )

    # -- per input type ------------------------------------------------------------------------

    def scan_text(self, text: str, where: str, kind: str) -> None:
        if kind == "kubernetes":
            self.scan_kubernetes(text, where)
        elif kind == "dockerfile":
            from lockgate.misconfig.dockerfile import check_dockerfile

            for hit, sup in check_dockerfile(text, where):
                self.emit(hit, Location(path=where, start_line=hit.line, end_line=hit.line, column=1), sup)
            if self.options.rego_paths:
                from lockgate.misconfig.rego import dockerfile_input

                self.rego_docs.append((dockerfile_input(text), Location(path=where, start_line=1, column=1)))
        elif kind == "terraform":
            from lockgate.misconfig.terraform import check_terraform

            for hit, end, res, sup in check_terraform(text, where):
                self.emit(
                    hit,
                    Location(path=where, start_line=hit.line, end_line=end, column=1, resource_name=res),
                    sup,
                )
            if self.options.rego_paths:
                from lockgate.misconfig.rego import terraform_input

                self.rego_docs.append((terraform_input(text, where), Location(path=where, start_line=1, column=1)))

    def scan_kubernetes(self, text: str, where: str) -> None:
        from lockgate.misconfig.kubernetes.hardening import check_namespace_and_exposure, check_workload
        from lockgate.misconfig.kubernetes.loader import load_objects
        from lockgate.misconfig.kubernetes.rbac import check_rbac

        objs = load_objects(text, where, max_aliases=self.settings.limits.max_yaml_aliases)
        for obj in objs:
            self.k8s_objects.append(obj)
            if self.options.rego_paths:
                line, col, end = obj.mark(())
                loc = Location(path=obj.file, start_line=line, end_line=end, column=col, resource_kind=obj.kind,
                               resource_name=obj.name, namespace=obj.namespace)  # fmt: skip
                self.rego_docs.append((obj.obj, loc))
            if obj.kind == "Namespace":
                self.namespaces.append((obj, obj.name))
            elif obj.kind == "NetworkPolicy":
                self.netpol_namespaces.add(obj.namespace)
            hits = [*check_workload(obj, self.options), *check_namespace_and_exposure(obj), *check_rbac(obj)]
            sup = _suppressions(obj)
            seen: set[tuple[str, tuple[str | int, ...]]] = set()
            for hit in hits:
                key = (hit.rule_id, hit.path)
                if key in seen:
                    continue
                seen.add(key)
                self.emit(hit, _k8s_location(obj, hit), sup)

    def finish(self) -> None:
        from lockgate.misconfig.kubernetes.loader import K8sObject

        for obj, name in self.namespaces:
            assert isinstance(obj, K8sObject)
            if name not in self.netpol_namespaces:
                hit = Hit("LG-K8S-020", f"Namespace {name!r} has no NetworkPolicy in the scanned files", ("metadata",))
                self.emit(hit, _k8s_location(obj, hit), _suppressions(obj))

    def scan_path(self, arg: Path | str) -> None:
        if str(arg) == "-":
            data = sys.stdin.buffer.read(self.settings.limits.max_yaml_bytes + 1)
            self._guarded("-", lambda: self._bytes(data, "-", None))
            return
        path = Path(arg)
        if path.is_dir():
            rendered = self._kustomize(path)
            charts: list[str] = []
            for f in _walk(path, charts):
                if rendered and file_type(f) == "kubernetes":
                    continue  # the kustomize build already covered the manifests of this tree
                self._file(f, file_type(f))
            self.warnings.extend(
                f"{c}: Helm chart templates not scanned; pipe `helm template` output to `lockgate scan config -`"
                for c in charts
            )
            return
        if not path.exists():
            self.gaps.append(CoverageGap(str(path), "no such file or directory"))
            return
        self._file(path, file_type(path) or "kubernetes")

    def _kustomize(self, path: Path) -> bool:
        if not any((path / n).is_file() for n in ("kustomization.yaml", "kustomization.yml", "Kustomization")):
            return False
        kubectl = shutil.which("kubectl")
        if kubectl is None:
            self.warnings.append(f"{path}: kustomization found but kubectl is not installed; files scanned as they are")
            return False
        try:
            out = subprocess.run([kubectl, "kustomize", str(path)], capture_output=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            self.gaps.append(CoverageGap(str(path), f"kubectl kustomize failed: {e}"))
            return False
        if out.returncode != 0:
            msg = out.stderr.decode(errors="replace").strip().splitlines()
            self.gaps.append(CoverageGap(str(path), f"kubectl kustomize failed: {msg[-1] if msg else out.returncode}"))
            return False
        where = f"kustomize:{path}"
        self._guarded(where, lambda: self._bytes(out.stdout, where, "kubernetes"))
        return True

    def _file(self, path: Path, kind: str | None) -> None:
        def run() -> None:
            size = path.stat().st_size
            limit = self.settings.limits.max_yaml_bytes
            if size > limit:
                from lockgate.errors import LimitExceededError

                raise LimitExceededError(f"{size} bytes exceeds the limit of {limit}")
            self._bytes(path.read_bytes(), str(path), kind)

        self._guarded(str(path), run)

    def _bytes(self, data: bytes, where: str, kind: str | None) -> None:
        limit = self.settings.limits.max_yaml_bytes
        if len(data) > limit:
            from lockgate.errors import LimitExceededError

            raise LimitExceededError(f"more than {limit} bytes")
        if b"\x00" in data[:8192]:
            from lockgate.errors import InputError

            raise InputError("binary data, not a configuration file")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            from lockgate.errors import InputError

            raise InputError("not UTF-8 text") from None
        self.scan_text(text, where, kind or _sniff(text))

    def _guarded(self, where: str, fn: object) -> None:
        assert callable(fn)
        try:
            fn()
        except LockgateError as e:
            msg = " ".join(str(e).split())
            prefix = f"{where}:"
            self.gaps.append(CoverageGap(where, msg[len(prefix) :].strip() if msg.startswith(prefix) else msg))
        except (OSError, RecursionError, MemoryError, ValueError) as e:
            self.gaps.append(CoverageGap(where, f"{type(e).__name__}: {e}"))


def _k8s_location(obj: object, hit: Hit) -> Location:
    from lockgate.misconfig.kubernetes.loader import K8sObject

    assert isinstance(obj, K8sObject)
    line, col, end = obj.mark(hit.path)
    return Location(
        path=obj.file,
        start_line=line,
        end_line=end,
        column=col,
        resource_kind=obj.kind,
        resource_name=obj.name,
        namespace=obj.namespace,
        container=hit.container,
    )


def _suppressions(obj: object) -> dict[str, str]:
    """Rule ids suppressed by ``lockgate.io/ignore`` on the object or its pod template, with the reason."""
    from lockgate.misconfig.kubernetes.loader import K8sObject

    assert isinstance(obj, K8sObject)
    metas = [obj.metadata]
    tpl = obj.pod_template()
    if tpl is not None:
        metas.append(tpl[0])
    out: dict[str, str] = {}
    for meta in metas:
        ann = meta.get("annotations")
        if not isinstance(ann, dict) or not isinstance(ann.get(IGNORE_ANNOTATION), str):
            continue
        reason = str(ann.get(IGNORE_REASON_ANNOTATION) or "").strip()
        for rid in ann[IGNORE_ANNOTATION].split(","):
            if rid.strip():
                out[rid.strip()] = f"annotation {IGNORE_ANNOTATION}" + (f": {reason}" if reason else "")
    return out


def _load_ignore_file(path: str) -> list[tuple[str, str, str]]:
    """Lines ``RULE-ID [path-glob] [exp:YYYY-MM-DD]``; ``#`` starts a comment. Expired entries are dropped."""
    from datetime import UTC, date, datetime

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read ignore file {path}: {e}") from None
    today = datetime.now(UTC).date()
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        rid, glob, exp = parts[0], "*", ""
        for p in parts[1:]:
            if p.startswith("exp:"):
                exp = p[4:]
            else:
                glob = p
        if exp:
            try:
                if date.fromisoformat(exp) < today:
                    continue
            except ValueError:
                raise ConfigError(f"{path}:{n}: invalid expiry date {exp!r} (use exp:YYYY-MM-DD)") from None
        out.append((rid, glob, f"ignore file {path}:{n}"))
    return out


def _ignored_by(entries: Iterable[tuple[str, str, str]], rule_id: str, path: str) -> str:
    for rid, glob, why in entries:
        if rid == rule_id and (glob == "*" or fnmatch.fnmatch(path, glob)):
            return why
    return ""


def scan_config_paths(
    paths: Sequence[Path | str], options: MisconfigOptions | None = None, settings: Settings | None = None
) -> ScanReport:
    """Scan files/directories (``-`` = stdin) for misconfigurations; artifact type ``config``."""
    options = options or MisconfigOptions()
    settings = settings or Settings()
    from lockgate.misconfig.kubernetes.pss import checks_for, parse_version

    checks_for(options.pss_level, parse_version(options.pss_version))  # validate early: ConfigError
    t0 = time.perf_counter()
    s = _Scanner(options, settings)
    for p in paths:
        s.scan_path(p)
    s.finish()
    if options.rego_paths:
        from lockgate.misconfig.rego import run_rego

        f2, g2 = run_rego(options.rego_paths, s.rego_docs)
        s.findings.extend(f2)
        s.gaps.extend(g2)
    findings = sorted(
        s.findings,
        key=lambda f: (f.location.path, f.location.start_line, f.location.column, f.id, f.location.container),
    )
    return ScanReport(
        target=", ".join(str(p) for p in paths),
        artifact_type="config",
        findings=tuple(findings),
        gaps=tuple(s.gaps),
        warnings=tuple(s.warnings),
        timings=(("misconfig", time.perf_counter() - t0),),
        metadata=(("pss_level", options.pss_level), ("pss_version", options.pss_version)),
    )


def with_overrides(options: MisconfigOptions, **changes: object) -> MisconfigOptions:
    """Copy of ``options`` with fields replaced (CLI flags over policy values)."""
    return replace(options, **changes)  # type: ignore[arg-type]
