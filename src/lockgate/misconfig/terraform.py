"""Terraform checks over HCL parsed by python-hcl2: exposure, IAM wildcards, public and unencrypted storage.

python-hcl2 gives block start/end lines (``with_meta``); attribute lines are found by looking
for ``name =`` inside the block's line range, so findings point at the offending attribute.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from lockgate.errors import InputError
from lockgate.findings.model import Severity
from lockgate.misconfig.model import Hit, Rule

C, H, M = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM
TFSEC = "https://aquasecurity.github.io/tfsec/"


def _rule(id_: str, sev: Severity, title: str, desc: str, fix: str) -> Rule:
    return Rule(id_, title, sev, "terraform", desc, fix, (TFSEC,), ())


RULES: tuple[Rule, ...] = (
    _rule(
        "LG-TF-001",
        C,
        "Sensitive port open to the internet",
        "A security group, firewall or network security rule allows inbound traffic from 0.0.0.0/0 or ::/0 to "
        "a remote-administration or database port (SSH, RDP, MySQL, PostgreSQL, Redis, Docker, kubelet ...).",
        "Restrict the source ranges to known networks, or reach the service through a bastion/VPN.",
    ),
    _rule(
        "LG-TF-002",
        H,
        "All ports open to the internet",
        "Inbound traffic on every port (or protocol -1/all) is allowed from 0.0.0.0/0 or ::/0.",
        "Allow only the ports the service needs, from the networks that need them.",
    ),
    _rule(
        "LG-TF-003",
        H,
        "IAM policy with wildcard actions",
        "An IAM policy statement allows Action * or service:*.",
        "List the specific actions needed (least privilege).",
    ),
    _rule(
        "LG-TF-004",
        M,
        "IAM policy with wildcard resources",
        "An IAM policy statement allows actions on Resource *.",
        "Scope the statement to the ARNs it needs.",
    ),
    _rule(
        "LG-TF-005",
        H,
        "Publicly accessible storage bucket",
        "A bucket or container is readable (or writable) by anyone: public ACL, allUsers IAM member, public "
        "access type, or public access block disabled.",
        "Remove public ACLs/members and enable the public access block.",
    ),
    _rule(
        "LG-TF-006",
        H,
        "Storage not encrypted at rest",
        "A disk, database, file system or cache is created without encryption at rest.",
        "Set encrypted/storage_encrypted (or the provider's equivalent) to true, ideally with a customer key.",
    ),
    _rule(
        "LG-TF-007",
        H,
        "Database publicly accessible",
        "A managed database instance has publicly_accessible = true.",
        "Keep databases in private subnets with publicly_accessible = false.",
    ),
)

SENSITIVE_PORTS = {
    21: "FTP", 22: "SSH", 23: "Telnet", 25: "SMTP", 445: "SMB", 1433: "MSSQL", 1521: "Oracle", 2375: "Docker",
    2376: "Docker TLS", 2379: "etcd", 3306: "MySQL", 3389: "RDP", 5432: "PostgreSQL", 5601: "Kibana",
    5900: "VNC", 5984: "CouchDB", 6379: "Redis", 6443: "Kubernetes API", 9042: "Cassandra", 9200: "Elasticsearch",
    10250: "kubelet", 11211: "memcached", 27017: "MongoDB",
}  # fmt: skip
WORLD = {"0.0.0.0/0", "::/0", "*", "internet", "any"}
_IGNORE = re.compile(r"#\s*lockgate:ignore=([A-Za-z0-9_,\-]+)\s*(.*)$")


def _world(values: Any) -> bool:
    vals = values if isinstance(values, list) else [values]
    return any(isinstance(v, str) and v.strip().lower() in WORLD for v in vals)


def _int(v: Any, default: int) -> int:
    try:
        return int(str(v).strip())
    except ValueError:
        return default


def _ports(from_port: Any, to_port: Any, protocol: Any = "tcp") -> tuple[int, int]:
    if str(protocol).lower() in ("-1", "all", "*"):
        return 0, 65535
    lo, hi = _int(from_port, 0), _int(to_port, 65535)
    return (0, 65535) if (lo, hi) in ((0, 0), (-1, -1)) else (lo, hi)


def _range_text(spec: Any) -> list[tuple[int, int]]:
    """GCP/Azure port specs: ``"22"``, ``"1000-2000"``, ``"*"``."""
    out = []
    for item in spec if isinstance(spec, list) else [spec]:
        s = str(item).strip()
        if s in ("*", ""):
            out.append((0, 65535))
        elif "-" in s:
            a, _, b = s.partition("-")
            out.append((_int(a, 0), _int(b, 65535)))
        else:
            out.append((_int(s, 0), _int(s, 65535)))
    return out


class _File:
    def __init__(self, text: str, where: str) -> None:
        self.lines = text.splitlines()
        self.where = where

    def attr_line(self, block: dict[str, Any], name: str) -> int:
        start, end = int(block.get("__start_line__", 0)), int(block.get("__end_line__", 0))
        pat = re.compile(rf"^\s*{re.escape(name)}\s*[=\{{]")
        for n in range(max(start, 1), min(end, len(self.lines)) + 1):
            if pat.match(self.lines[n - 1]):
                return n
        return start

    def suppressions(self, *lines: int) -> dict[str, str]:
        out: dict[str, str] = {}
        for ln in lines:
            for n in (ln - 1, ln):
                if 1 <= n <= len(self.lines):
                    m = _IGNORE.search(self.lines[n - 1])
                    if m:
                        for rid in m.group(1).split(","):
                            out[rid] = "inline # lockgate:ignore" + (f": {m.group(2)}" if m.group(2) else "")
        return out


def _exposure(
    f: _File, rtype: str, block: dict[str, Any], lo_hi: list[tuple[int, int]], line: int, what: str
) -> Iterator[tuple[str, int, str]]:
    for lo, hi in lo_hi:
        if lo <= 0 and hi >= 65535:
            yield "LG-TF-002", line, f"{what} allows all ports from the internet"
            return
        hits = [f"{p} ({n})" for p, n in SENSITIVE_PORTS.items() if lo <= p <= hi]
        if hits:
            yield "LG-TF-001", line, f"{what} allows {', '.join(hits)} from the internet"
            return


def _resource_hits(f: _File, rtype: str, name: str, b: dict[str, Any]) -> Iterator[tuple[str, int, str]]:
    addr = f"{rtype}.{name}"
    if rtype == "aws_security_group":
        for ing in b.get("ingress") or []:
            if isinstance(ing, dict) and (_world(ing.get("cidr_blocks")) or _world(ing.get("ipv6_cidr_blocks"))):
                rng = [_ports(ing.get("from_port"), ing.get("to_port"), ing.get("protocol"))]
                yield from _exposure(f, rtype, b, rng, int(ing.get("__start_line__", 0)), addr)
    elif rtype == "aws_security_group_rule":
        if b.get("type") == "ingress" and (_world(b.get("cidr_blocks")) or _world(b.get("ipv6_cidr_blocks"))):
            rng = [_ports(b.get("from_port"), b.get("to_port"), b.get("protocol"))]
            yield from _exposure(f, rtype, b, rng, f.attr_line(b, "cidr_blocks"), addr)
    elif rtype == "aws_vpc_security_group_ingress_rule":
        if _world(b.get("cidr_ipv4")) or _world(b.get("cidr_ipv6")):
            rng = [_ports(b.get("from_port"), b.get("to_port"), b.get("ip_protocol"))]
            yield from _exposure(f, rtype, b, rng, f.attr_line(b, "cidr_ipv4"), addr)
    elif rtype == "google_compute_firewall":
        if str(b.get("direction", "INGRESS")).upper() == "INGRESS" and _world(b.get("source_ranges")):
            for allow in b.get("allow") or []:
                if not isinstance(allow, dict):
                    continue
                proto = str(allow.get("protocol", "")).lower()
                rng = [(0, 65535)] if proto == "all" or "ports" not in allow else _range_text(allow["ports"])
                yield from _exposure(f, rtype, b, rng, int(allow.get("__start_line__", 0)), addr)
    elif rtype in ("azurerm_network_security_rule", "azurerm_network_security_group"):
        rules = [b] if rtype == "azurerm_network_security_rule" else list(b.get("security_rule") or [])
        for r in rules:
            if not isinstance(r, dict):
                continue
            if str(r.get("direction", "")).lower() != "inbound" or str(r.get("access", "")).lower() != "allow":
                continue
            src = r.get("source_address_prefix", r.get("source_address_prefixes"))
            if _world(src):
                ports = r.get("destination_port_range", r.get("destination_port_ranges", "*"))
                line = f.attr_line(r, "source_address_prefix") if r is b else int(r.get("__start_line__", 0))
                yield from _exposure(f, rtype, b, _range_text(ports), line, addr)
    if rtype in ("aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy"):
        yield from _policy_text(f, b, addr)
    if rtype in ("aws_s3_bucket", "aws_s3_bucket_acl") and str(b.get("acl", "")) in (
        "public-read",
        "public-read-write",
        "authenticated-read",
        "website",
    ):
        yield "LG-TF-005", f.attr_line(b, "acl"), f"{addr} has ACL {b['acl']}"
    if rtype == "aws_s3_bucket_public_access_block":
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
            if b.get(k) is False:
                yield "LG-TF-005", f.attr_line(b, k), f"{addr} sets {k} = false"
    if rtype.startswith("google_storage_bucket_iam"):
        members = b.get("members", b.get("member"))
        if any(
            str(m) in ("allUsers", "allAuthenticatedUsers")
            for m in (members if isinstance(members, list) else [members])
        ):
            yield "LG-TF-005", f.attr_line(b, "member" if "member" in b else "members"), f"{addr} grants public access"
    if rtype == "azurerm_storage_container" and str(b.get("container_access_type", "private")) in ("blob", "container"):
        yield "LG-TF-005", f.attr_line(b, "container_access_type"), f"{addr} allows anonymous access"
    if rtype == "azurerm_storage_account" and (
        b.get("allow_nested_items_to_be_public") is True or b.get("allow_blob_public_access") is True
    ):
        yield "LG-TF-005", int(b.get("__start_line__", 0)), f"{addr} allows public blob access"
    enc = {
        "aws_ebs_volume": "encrypted",
        "aws_efs_file_system": "encrypted",
        "aws_db_instance": "storage_encrypted",
        "aws_rds_cluster": "storage_encrypted",
        "aws_redshift_cluster": "encrypted",
        "aws_elasticache_replication_group": "at_rest_encryption_enabled",
        "aws_docdb_cluster": "storage_encrypted",
        "aws_neptune_cluster": "storage_encrypted",
    }
    if rtype in enc and b.get(enc[rtype]) is not True:
        key = enc[rtype]
        line = f.attr_line(b, key) if key in b else int(b.get("__start_line__", 0))
        yield "LG-TF-006", line, f"{addr} does not set {key} = true"
    if rtype in ("aws_db_instance", "aws_rds_cluster_instance") and b.get("publicly_accessible") is True:
        yield "LG-TF-007", f.attr_line(b, "publicly_accessible"), f"{addr} is publicly accessible"


_ACTION_STAR = re.compile(r'(?i)"?actions?"?\s*[:=]\s*\[?\s*"(\*|[a-z0-9-]+:\*)"')
_RESOURCE_STAR = re.compile(r'(?i)"?resources?"?\s*[:=]\s*\[?\s*"\*"')


def _policy_text(f: _File, b: dict[str, Any], addr: str) -> Iterator[tuple[str, int, str]]:
    policy = b.get("policy")
    if not isinstance(policy, str):
        return
    line = f.attr_line(b, "policy")
    statements: list[dict[str, Any]] = []
    try:
        doc = json.loads(policy)
        st = doc.get("Statement", []) if isinstance(doc, dict) else []
        statements = [s for s in (st if isinstance(st, list) else [st]) if isinstance(s, dict)]
    except ValueError:
        # jsonencode({...}) or interpolation: judge the expression text
        if _ACTION_STAR.search(policy):
            yield "LG-TF-003", line, f"{addr} allows wildcard actions"
        if _RESOURCE_STAR.search(policy):
            yield "LG-TF-004", line, f"{addr} applies to Resource *"
        return
    yield from _statements(statements, line, addr, "Action", "Resource", "Effect")


def _statements(
    statements: list[dict[str, Any]], line: int, addr: str, action: str, resource: str, effect: str
) -> Iterator[tuple[str, int, str]]:
    for s in statements:
        if str(s.get(effect, "Allow")).lower() != "allow":
            continue
        acts = s.get(action, [])
        acts = acts if isinstance(acts, list) else [acts]
        if any(str(a) == "*" or str(a).endswith(":*") for a in acts):
            yield "LG-TF-003", int(s.get("__start_line__", line)), f"{addr} allows wildcard actions"
        res = s.get(resource, [])
        res = res if isinstance(res, list) else [res]
        if "*" in [str(r) for r in res]:
            yield "LG-TF-004", int(s.get("__start_line__", line)), f"{addr} applies to Resource *"


def check_terraform(text: str, where: str) -> list[tuple[Hit, int, str, dict[str, str]]]:
    """(hit, end line, resource address, suppressions) for every problem in one ``.tf`` file."""
    from hcl2.api import loads  # python-hcl2; imported lazily (lark grammar load)

    try:
        doc = loads(text, with_meta=True)
    except Exception as e:  # lark raises many exception types for bad input
        first = " ".join(str(e).split())[:200]
        raise InputError(f"{where}: invalid HCL: {first}") from None
    f = _File(text, where)
    out: list[tuple[Hit, int, str, dict[str, str]]] = []

    def emit(rtype: str, name: str, block: dict[str, Any], hits: Iterator[tuple[str, int, str]]) -> None:
        start = int(block.get("__start_line__", 0))
        for rid, line, msg in hits:
            out.append((Hit(rid, msg, line=line), line, f"{rtype}.{name}", f.suppressions(start, line)))

    for group in doc.get("resource", []) or []:
        for rtype, named in (group or {}).items():
            for name, block in (named or {}).items():
                if isinstance(block, dict):
                    emit(rtype, name, block, _resource_hits(f, rtype, name, block))
    for group in doc.get("data", []) or []:
        for dtype, named in (group or {}).items():
            if dtype != "aws_iam_policy_document":
                continue
            for name, block in (named or {}).items():
                sts = [s for s in block.get("statement", []) if isinstance(s, dict)]
                emit(
                    "data." + dtype,
                    name,
                    block,
                    _statements(sts, 0, f"data.{dtype}.{name}", "actions", "resources", "effect"),
                )
    return out
