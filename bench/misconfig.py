"""Misconfiguration benchmark: lockgate vs Checkov and Trivy (``trivy config``) on Kubernetes
manifests, plus hadolint for Dockerfiles: speed (median of N runs, ratios) and coverage per family.

Targets: ``corpus/k8s-manifests/kubernetes-examples`` (75 real files) and the upstream Pod
Security Standards fixtures for restricted v1.37 (102 pods). Writes
``bench/results/misconfig-coverage.md`` and ``.json``: failing findings per rule family and tool,
and each Checkov/Trivy check that fired with the lockgate rules of the same family (an empty
cell means lockgate has no rule for it; reasons are in ``bench/results/misconfig-gaps.md``).

Each tool runs as its own process (start-up included): lockgate through
``python -m lockgate.misconfig.bench_entry``-style inline code calling ``scan_config_paths``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("LOCKGATE_SHARED", ROOT.parent / "shared")) / "corpus"
TARGETS = {
    "kubernetes-examples": CORPUS / "k8s-manifests" / "kubernetes-examples",
    "pss-restricted-v1.37": CORPUS / "pss" / "restricted" / "v1.37",
}
LOCKGATE = (
    "import json,sys\n"
    "from lockgate.misconfig.scan import scan_config_paths\n"
    "r=scan_config_paths(sys.argv[1:])\n"
    "json.dump([{'id':f.id,'title':f.title,'path':f.location.path} for f in r.findings],sys.stdout)\n"
)

# Families by keywords in a check's title (applied to every tool alike; first match wins).
FAMILIES = [
    ("read-only-fs", r"read.?only|immutable|readOnlyRootFilesystem|filesystem is writable"),
    ("privilege-escalation", r"privilege escalation|allowPrivilegeEscalation|elevate"),
    ("host-path", r"hostPath|host path|docker (daemon )?socket|runtime socket|volume"),
    (
        "host-namespaces",
        r"host (network|pid|ipc|process)|hostNetwork|hostPID|hostIPC|namespaces? shared|"
        r"share the host",
    ),
    ("ports", r"privileged port"),
    ("privileged", r"privileged"),
    (
        "rbac",
        r"\brole|rbac|verb|wildcard|cluster-admin|impersonat|escalat|\bbind|admin access|manage all|"
        r"secrets access|read access to secrets|create pods",
    ),
    ("root-user", r"root|runAsUser|UID|GID|group|runAsNonRoot"),
    ("capabilities", r"capabilit|NET_RAW|SYS_ADMIN"),
    ("host-ports", r"hostPort|host port"),
    ("seccomp", r"seccomp"),
    ("apparmor-selinux", r"apparmor|selinux"),
    ("resources", r"limit|request|cpu|memory"),
    ("image", r"image|tag|digest|pull policy|imagePullPolicy|registry"),
    ("probes", r"probe"),
    ("service-account", r"service ?account|token"),
    ("secrets", r"secret|password|credential"),
    ("network", r"network ?polic|LoadBalancer|NodePort|ingress|service"),
    ("namespace", r"namespace"),
    ("sysctl-procmount", r"sysctl|procMount|proc mount|/proc"),
    ("security-context", r"security context"),
]


def family(title: str) -> str:
    for name, pat in FAMILIES:
        if re.search(pat, title, re.IGNORECASE):
            return name
    return "other"


def run(cmd: list[str], cwd: Path | None = None) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, check=False, timeout=1800)
    elapsed = time.perf_counter() - t0
    return elapsed, out.stdout


def lockgate_cmd(target: Path) -> list[str]:
    return [sys.executable, "-c", LOCKGATE, str(target)]


def checkov_cmd(target: Path, out_dir: Path) -> list[str]:
    return ["checkov", "-d", str(target), "--framework", "kubernetes", "--skip-download", "--compact", "--quiet",
            "-o", "json", "--soft-fail"]  # fmt: skip


def trivy_cmd(target: Path, out: Path) -> list[str]:
    return ["trivy", "config", "--skip-check-update", "-q", "-f", "json", "-o", str(out), str(target)]


def parse_lockgate(stdout: str) -> list[tuple[str, str]]:
    return [(f["id"], f["title"]) for f in json.loads(stdout)]


def parse_checkov(stdout: str) -> list[tuple[str, str]]:
    data = json.loads(stdout) if stdout.strip() else []
    data = data if isinstance(data, list) else [data]
    return [(c["check_id"], c["check_name"]) for d in data for c in d.get("results", {}).get("failed_checks", [])]


def parse_trivy(path: Path) -> list[tuple[str, str]]:
    data = json.loads(path.read_text())
    return [(m["ID"], m["Title"]) for r in data.get("Results", []) or [] for m in r.get("Misconfigurations", []) or []
            if m.get("Status", "FAIL") == "FAIL"]  # fmt: skip


def bench(runs: int) -> dict[str, object]:
    results: dict[str, object] = {}
    tmp = Path(tempfile.mkdtemp(prefix="lockgate-bench-"))
    try:
        for tname, target in TARGETS.items():
            times: dict[str, list[float]] = defaultdict(list)
            found: dict[str, list[tuple[str, str]]] = {}
            for _ in range(runs):
                t, out = run(lockgate_cmd(target))
                times["lockgate"].append(t)
                found["lockgate"] = parse_lockgate(out)
                if shutil.which("trivy"):
                    tj = tmp / "trivy.json"
                    t, _ = run(trivy_cmd(target, tj), cwd=tmp)
                    times["trivy"].append(t)
                    found["trivy"] = parse_trivy(tj)
                if shutil.which("checkov"):
                    t, out = run(checkov_cmd(target, tmp), cwd=tmp)
                    times["checkov"].append(t)
                    found["checkov"] = parse_checkov(out)
            med = {k: statistics.median(v) for k, v in times.items()}
            fams = {tool: Counter(family(title) for _, title in f) for tool, f in found.items()}
            checks = {
                tool: sorted({(cid, title) for cid, title in f}) for tool, f in found.items() if tool != "lockgate"
            }
            ours = defaultdict(set)
            for cid, title in found["lockgate"]:
                ours[family(title)].add(cid)
            results[tname] = {
                "median_seconds": med,
                "ratios": {f"{k}/lockgate": round(v / med["lockgate"], 2) for k, v in med.items() if k != "lockgate"},
                "findings": {k: len(v) for k, v in found.items()},
                "families": {k: dict(v) for k, v in fams.items()},
                "peer_checks": {
                    tool: [
                        {
                            "id": cid,
                            "title": title,
                            "family": family(title),
                            "lockgate_rules": sorted(ours.get(family(title), set())),
                        }
                        for cid, title in lst
                    ]
                    for tool, lst in checks.items()
                },
            }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results


DOCKERFILES = ROOT / "tests" / "misconfig" / "data" / "dockerfiles"
# hadolint rule -> lockgate rule with the same meaning (as in tests/misconfig/test_dockerfile.py)
HADOLINT_MAP = {"DL3002": "LG-DF-002", "DL3006": "LG-DF-004", "DL3007": "LG-DF-004", "DL3015": "LG-DF-008",
                "DL3009": "LG-DF-009", "DL3019": "LG-DF-010", "DL3042": "LG-DF-011", "DL3004": "LG-DF-013",
                "DL3020": "LG-DF-015"}  # fmt: skip


def bench_dockerfiles(runs: int) -> dict[str, object]:
    """lockgate vs hadolint (and Trivy/Checkov) on the hand-written Dockerfiles."""
    files = sorted(str(p) for p in DOCKERFILES.glob("*.Dockerfile"))
    tmp = Path(tempfile.mkdtemp(prefix="lockgate-bench-df-"))
    times: dict[str, list[float]] = defaultdict(list)
    found: dict[str, list[str]] = {}
    try:
        for _ in range(runs):
            t, out = run(lockgate_cmd(DOCKERFILES))
            times["lockgate"].append(t)
            found["lockgate"] = [f["id"] for f in json.loads(out)]
            if shutil.which("hadolint"):
                t, out = run(["hadolint", "-f", "json", "--no-fail", *files])
                times["hadolint"].append(t)
                found["hadolint"] = [r["code"] for r in json.loads(out)]
            if shutil.which("trivy"):
                tj = tmp / "trivy.json"
                t, _ = run(trivy_cmd(DOCKERFILES, tj), cwd=tmp)
                times["trivy"].append(t)
                found["trivy"] = [cid for cid, _ in parse_trivy(tj)]
            if shutil.which("checkov"):
                cmd = ["checkov", "-d", str(DOCKERFILES), "--framework", "dockerfile", "--skip-download", "--compact",
                       "--quiet", "-o", "json", "--soft-fail"]  # fmt: skip
                t, out = run(cmd, cwd=tmp)
                times["checkov"].append(t)
                found["checkov"] = [cid for cid, _ in parse_checkov(out)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "median_seconds": med,
        "ratios": {f"{k}/lockgate": round(v / med["lockgate"], 2) for k, v in med.items() if k != "lockgate"},
        "findings": {k: len(v) for k, v in found.items()},
        "checks": {k: dict(sorted(Counter(v).items())) for k, v in found.items()},
        "hadolint_equivalents": HADOLINT_MAP,
    }


def markdown(results: dict[str, object]) -> str:
    lines = ["# Misconfiguration coverage and speed: lockgate vs Checkov vs Trivy", "",
             "Generated by `bench/misconfig.py`; findings per rule family (keyword classification of each check's"
             " title, the same for every tool).", ""]  # fmt: skip
    for tname, r in results.items():
        assert isinstance(r, dict)
        if tname == "dockerfiles":
            lines += ["## dockerfiles (tests/misconfig/data/dockerfiles)", ""]
            lines += ["| tool | median s | ratio vs lockgate | findings | checks (count) |"]
            lines += ["| --- | --- | --- | --- | --- |"]
            for t in r["findings"]:
                ratio = r["ratios"].get(f"{t}/lockgate", 1.0)
                checks = ", ".join(f"{k} ({v})" for k, v in r["checks"][t].items())
                lines.append(f"| {t} | {r['median_seconds'][t]:.2f} | {ratio} | {r['findings'][t]} | {checks} |")
            lines.append("")
            continue
        tools = list(r["findings"])
        lines += [f"## {tname}", ""]
        lines.append("| tool | median s | ratio vs lockgate | failing findings |")
        lines.append("| --- | --- | --- | --- |")
        for t in tools:
            ratio = r["ratios"].get(f"{t}/lockgate", 1.0)
            lines.append(f"| {t} | {r['median_seconds'][t]:.2f} | {ratio} | {r['findings'][t]} |")
        lines += ["", "| family | " + " | ".join(tools) + " |", "| --- |" + " --- |" * len(tools)]
        fams = sorted({f for t in tools for f in r["families"][t]})
        for f in fams:
            lines.append(f"| {f} | " + " | ".join(str(r["families"][t].get(f, 0)) for t in tools) + " |")
        for tool, checks in r["peer_checks"].items():
            lines += ["", f"### {tool} checks that fired, and the lockgate rules of the same family", "",
                      "| check | title | family | lockgate rules |", "| --- | --- | --- | --- |"]  # fmt: skip
            for c in checks:
                lines.append(f"| {c['id']} | {c['title']} | {c['family']} | {', '.join(c['lockgate_rules'])} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args()
    results = bench(args.runs)
    results["dockerfiles"] = bench_dockerfiles(args.runs)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "misconfig-coverage.json").write_text(json.dumps(results, indent=2))
    (args.out / "misconfig-coverage.md").write_text(markdown(results))
    for tname, r in results.items():
        assert isinstance(r, dict)
        med = ", ".join(f"{k} {v:.2f}s" for k, v in r["median_seconds"].items())
        print(f"{tname}: {med}; ratios {r['ratios']}")


if __name__ == "__main__":
    main()
