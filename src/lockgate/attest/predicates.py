"""Predicate types: cosign's ``--type`` names and validation of each predicate on read and write.

The names and URIs are cosign's (``cmd/cosign/cli/options/predicate.go``): ``slsaprovenance`` and
``slsaprovenance02`` are SLSA v0.2, ``slsaprovenance1`` is SLSA v1, ``spdx``/``spdxjson`` share the SPDX
URI, ``custom`` wraps arbitrary text the way cosign does (``{"Data": ..., "Timestamp": ...}``).

Validation: CycloneDX against its official JSON schema (shipped in cyclonedx-python-lib); SPDX 2.x, SLSA
v0.2/v1, OpenVEX, cosign's vuln predicate and the in-toto Link predicate against hand-written models of
their specifications (SLSA and the in-toto predicates publish no JSON schema; the SPDX schema is not
shipped by any runtime dependency, so the SPDX model is checked against the official schema in the tests).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from lockgate.attest.statement import is_uri, validate_digest_set, validate_resource_descriptor
from lockgate.errors import InputError

SLSA_V02 = "https://slsa.dev/provenance/v0.2"
SLSA_V1 = "https://slsa.dev/provenance/v1"
SPDX = "https://spdx.dev/Document"
CYCLONEDX = "https://cyclonedx.org/bom"
LINK_V1 = "https://in-toto.io/Link/v1"
VULN = "https://cosign.sigstore.dev/attestation/vuln/v1"
OPENVEX = "https://openvex.dev/ns"
CUSTOM = "https://cosign.sigstore.dev/attestation/v1"

TYPE_NAMES: dict[str, str] = {
    "custom": CUSTOM,
    "slsaprovenance": SLSA_V02,
    "slsaprovenance02": SLSA_V02,
    "slsaprovenance1": SLSA_V1,
    "spdx": SPDX,
    "spdxjson": SPDX,
    "cyclonedx": CYCLONEDX,
    "link": LINK_V1,
    "vuln": VULN,
    "openvex": OPENVEX,
}

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def predicate_type_uri(name: str) -> str:
    """The predicate type URI for a cosign ``--type`` name or a URI; anything else is an InputError."""
    if name in TYPE_NAMES:
        return TYPE_NAMES[name]
    if is_uri(name):
        return name
    raise InputError(f"unknown predicate type {name!r} (use {', '.join(TYPE_NAMES)} or a URI)")


def _obj(value: Any, where: str, *, required: bool = True) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise InputError(f"{where} must be an object")
    return value


def _str(d: dict[str, Any], key: str, where: str, *, required: bool = False, uri: bool = False) -> None:
    if key not in d:
        if required:
            raise InputError(f"{where}.{key} missing")
        return
    v = d[key]
    if not isinstance(v, str) or (required and not v):
        raise InputError(f"{where}.{key} must be a non-empty string")
    if uri and not is_uri(v):
        raise InputError(f"{where}.{key} {v!r} is not a URI")


def _time(d: dict[str, Any], key: str, where: str) -> None:
    if key in d and (not isinstance(d[key], str) or not _RFC3339.match(d[key])):
        raise InputError(f"{where}.{key} is not an RFC 3339 timestamp")


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InputError(f"{where} must be a list")
    return value


def _reject_keys(p: dict[str, Any], keys: tuple[str, ...], what: str) -> None:
    for k in keys:
        if k in p:
            raise InputError(f"{what} predicate has {k!r}, a field of another SLSA version")


def validate_slsa_v02(p: dict[str, Any]) -> None:
    """SLSA provenance v0.2 (``builder``, ``buildType``, ``invocation``, ``metadata``, ``materials``)."""
    w = "SLSA v0.2"
    _reject_keys(p, ("buildDefinition", "runDetails"), w)
    builder = _obj(p.get("builder"), f"{w} builder")
    _str(builder, "id", f"{w} builder", required=True, uri=True)
    _str(p, "buildType", w, required=True, uri=True)
    inv = _obj(p.get("invocation"), f"{w} invocation", required=False)
    cs = _obj(inv.get("configSource"), f"{w} invocation.configSource", required=False)
    _str(cs, "uri", f"{w} configSource", uri=True)
    _str(cs, "entryPoint", f"{w} configSource")
    if "digest" in cs:
        validate_digest_set(cs["digest"], f"{w} configSource")
    md = _obj(p.get("metadata"), f"{w} metadata", required=False)
    _str(md, "buildInvocationId", f"{w} metadata")
    _time(md, "buildStartedOn", f"{w} metadata")
    _time(md, "buildFinishedOn", f"{w} metadata")
    comp = _obj(md.get("completeness"), f"{w} metadata.completeness", required=False)
    for k in ("parameters", "environment", "materials"):
        if k in comp and not isinstance(comp[k], bool):
            raise InputError(f"{w} metadata.completeness.{k} must be a boolean")
    if "reproducible" in md and not isinstance(md["reproducible"], bool):
        raise InputError(f"{w} metadata.reproducible must be a boolean")
    for i, mat in enumerate(_list(p.get("materials", []), f"{w} materials")):
        m = _obj(mat, f"{w} materials[{i}]")
        _str(m, "uri", f"{w} materials[{i}]", uri=True)
        if "digest" in m:
            validate_digest_set(m["digest"], f"{w} materials[{i}]")


def validate_slsa_v1(p: dict[str, Any]) -> None:
    """SLSA provenance v1 (``buildDefinition`` and ``runDetails``)."""
    w = "SLSA v1"
    _reject_keys(p, ("builder", "invocation", "materials", "buildType"), w)
    bd = _obj(p.get("buildDefinition"), f"{w} buildDefinition")
    _str(bd, "buildType", f"{w} buildDefinition", required=True, uri=True)
    _obj(bd.get("externalParameters"), f"{w} buildDefinition.externalParameters")
    _obj(bd.get("internalParameters"), f"{w} buildDefinition.internalParameters", required=False)
    for i, rd in enumerate(_list(bd.get("resolvedDependencies", []), f"{w} resolvedDependencies")):
        validate_resource_descriptor(rd, f"{w} resolvedDependencies[{i}]")
    rd_ = _obj(p.get("runDetails"), f"{w} runDetails")
    builder = _obj(rd_.get("builder"), f"{w} runDetails.builder")
    _str(builder, "id", f"{w} runDetails.builder", required=True, uri=True)
    if "version" in builder:
        _obj(builder["version"], f"{w} runDetails.builder.version")
    for i, d in enumerate(_list(builder.get("builderDependencies", []), f"{w} builderDependencies")):
        validate_resource_descriptor(d, f"{w} builderDependencies[{i}]")
    md = _obj(rd_.get("metadata"), f"{w} runDetails.metadata", required=False)
    _str(md, "invocationId", f"{w} runDetails.metadata")
    _time(md, "startedOn", f"{w} runDetails.metadata")
    _time(md, "finishedOn", f"{w} runDetails.metadata")
    for i, d in enumerate(_list(rd_.get("byproducts", []), f"{w} byproducts")):
        validate_resource_descriptor(d, f"{w} byproducts[{i}]")


def validate_cyclonedx(p: dict[str, Any]) -> None:
    """A CycloneDX JSON BOM, against the official schema for its ``specVersion``."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    if p.get("bomFormat") != "CycloneDX":
        raise InputError("CycloneDX predicate: bomFormat must be 'CycloneDX'")
    spec = p.get("specVersion")
    try:
        version = SchemaVersion.from_version(str(spec))
    except (ValueError, KeyError):
        raise InputError(f"CycloneDX predicate: unsupported specVersion {spec!r}") from None
    if version.to_version() in ("1.0", "1.1"):
        raise InputError(f"CycloneDX predicate: specVersion {spec} has no JSON form")
    err = JsonStrictValidator(version).validate_str(json.dumps(p))
    if err is not None:
        first = str(err).splitlines()[0]
        raise InputError(f"CycloneDX predicate does not match the {spec} schema: {first}")


_SPDX_ID = re.compile(r"^SPDXRef-[A-Za-z0-9.-]+$")


def validate_spdx(p: dict[str, Any]) -> None:
    """An SPDX 2.2/2.3 JSON document: the fields the SPDX JSON schema requires, with their types."""
    w = "SPDX predicate"
    version = p.get("spdxVersion")
    if not isinstance(version, str) or not re.match(r"^SPDX-2\.[0-3]$", version):
        raise InputError(f"{w}: spdxVersion {version!r} is not SPDX-2.x")
    if p.get("SPDXID") != "SPDXRef-DOCUMENT":
        raise InputError(f"{w}: SPDXID must be 'SPDXRef-DOCUMENT'")
    for k in ("name", "dataLicense", "documentNamespace"):
        _str(p, k, w, required=True)
    ci = _obj(p.get("creationInfo"), f"{w} creationInfo")
    creators = _list(ci.get("creators"), f"{w} creationInfo.creators")
    if not creators or not all(isinstance(c, str) for c in creators):
        raise InputError(f"{w}: creationInfo.creators must be a non-empty list of strings")
    if not isinstance(ci.get("created"), str):
        raise InputError(f"{w}: creationInfo.created missing")
    for i, pk in enumerate(_list(p.get("packages", []), f"{w} packages")):
        pkg = _obj(pk, f"{w} packages[{i}]")
        for k in ("SPDXID", "name", "downloadLocation"):
            _str(pkg, k, f"{w} packages[{i}]", required=True)
        if not _SPDX_ID.match(pkg["SPDXID"]):
            raise InputError(f"{w}: packages[{i}].SPDXID {pkg['SPDXID']!r} is malformed")
        for j, csum in enumerate(_list(pkg.get("checksums", []), f"{w} packages[{i}].checksums")):
            cs = _obj(csum, f"{w} packages[{i}].checksums[{j}]")
            _str(cs, "algorithm", f"{w} checksum", required=True)
            _str(cs, "checksumValue", f"{w} checksum", required=True)
    for i, fi in enumerate(_list(p.get("files", []), f"{w} files")):
        f = _obj(fi, f"{w} files[{i}]")
        for k in ("SPDXID", "fileName"):
            _str(f, k, f"{w} files[{i}]", required=True)
        if not _list(f.get("checksums"), f"{w} files[{i}].checksums"):
            raise InputError(f"{w}: files[{i}] needs checksums")
    for i, rel in enumerate(_list(p.get("relationships", []), f"{w} relationships")):
        r = _obj(rel, f"{w} relationships[{i}]")
        for k in ("spdxElementId", "relatedSpdxElement", "relationshipType"):
            _str(r, k, f"{w} relationships[{i}]", required=True)


_VEX_STATUS = frozenset({"not_affected", "affected", "fixed", "under_investigation"})


def validate_openvex(p: dict[str, Any]) -> None:
    """An OpenVEX document (``@context``, ``@id``, ``author``, ``timestamp``, ``statements``)."""
    w = "OpenVEX predicate"
    ctx = p.get("@context")
    if not isinstance(ctx, str) or not ctx.startswith(OPENVEX):
        raise InputError(f"{w}: @context must start with {OPENVEX}")
    for k in ("@id", "author"):
        _str(p, k, w, required=True)
    _time(p, "timestamp", w)
    for i, st in enumerate(_list(p.get("statements"), f"{w} statements")):
        s = _obj(st, f"{w} statements[{i}]")
        if s.get("status") not in _VEX_STATUS:
            raise InputError(f"{w}: statements[{i}].status {s.get('status')!r} is not a VEX status")
        vuln = s.get("vulnerability")
        if not isinstance(vuln, dict | str) or not vuln:
            raise InputError(f"{w}: statements[{i}].vulnerability missing")
        if s["status"] == "not_affected" and not (s.get("justification") or s.get("impact_statement")):
            raise InputError(f"{w}: statements[{i}] is not_affected without justification or impact_statement")
        if s["status"] == "affected" and not s.get("action_statement"):
            raise InputError(f"{w}: statements[{i}] is affected without action_statement")


def validate_vuln(p: dict[str, Any]) -> None:
    """cosign's vulnerability scan predicate (``scanner`` with ``uri``, ``version``, ``db``, ``result``)."""
    w = "vuln predicate"
    scanner = _obj(p.get("scanner"), f"{w} scanner")
    _str(scanner, "uri", f"{w} scanner")  # cosign writes empty strings when it knows nothing
    _str(scanner, "version", f"{w} scanner")
    if "db" in scanner:
        _obj(scanner["db"], f"{w} scanner.db")
    md = _obj(p.get("metadata"), f"{w} metadata", required=False)
    _time(md, "scanStartedOn", f"{w} metadata")
    _time(md, "scanFinishedOn", f"{w} metadata")


def validate_link(p: dict[str, Any]) -> None:
    """The in-toto Link v1 predicate (``name``, ``command``, ``materials``, ``byproducts``, ``environment``)."""
    w = "link predicate"
    _str(p, "name", w, required=True)
    if "command" in p and not (isinstance(p["command"], list) and all(isinstance(c, str) for c in p["command"])):
        raise InputError(f"{w}: command must be a list of strings")
    for i, m in enumerate(_list(p.get("materials", []), f"{w} materials")):
        validate_resource_descriptor(m, f"{w} materials[{i}]")
    for k in ("byproducts", "environment"):
        _obj(p.get(k), f"{w} {k}", required=False)


def validate_custom(p: dict[str, Any]) -> None:
    """cosign's custom predicate: ``Data`` and an RFC 3339 ``Timestamp`` (cosign's Go struct has no JSON tags,
    so the keys are capitalised)."""
    if "Data" not in p:
        raise InputError("custom predicate: Data missing")
    _time(p, "Timestamp", "custom predicate")


VALIDATORS: dict[str, Callable[[dict[str, Any]], None]] = {
    SLSA_V02: validate_slsa_v02,
    "https://slsa.dev/provenance/v0.1": validate_slsa_v02,
    SLSA_V1: validate_slsa_v1,
    CYCLONEDX: validate_cyclonedx,
    SPDX: validate_spdx,
    OPENVEX: validate_openvex,
    VULN: validate_vuln,
    LINK_V1: validate_link,
    CUSTOM: validate_custom,
}


def validate_predicate(predicate_type: str, predicate: Any) -> None:
    """Validate ``predicate`` for ``predicate_type``; types without a known model only need an object."""
    if not isinstance(predicate, dict):
        raise InputError(f"predicate for {predicate_type} must be a JSON object")
    check = VALIDATORS.get(predicate_type)
    if check is None and predicate_type.startswith(OPENVEX):
        check = validate_openvex
    if check is not None:
        check(predicate)


def load_predicate(data: bytes, type_name: str) -> tuple[str, dict[str, Any]]:
    """Turn a ``--predicate`` file into (predicate type URI, predicate), as cosign's ``attest`` does."""
    ptype = predicate_type_uri(type_name)
    if ptype == CUSTOM:
        try:
            text = data.decode()
        except UnicodeDecodeError:
            raise InputError("custom predicate must be UTF-8 text") from None
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return ptype, {"Data": text, "Timestamp": now}
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"predicate is not JSON: {e}") from None
    if not isinstance(doc, dict):
        raise InputError("predicate must be a JSON object")
    validate_predicate(ptype, doc)
    return ptype, doc
