"""Predicate validation with real documents: syft's SPDX 2.3 and CycloneDX output, cosign's SPDX test BOM, and
the official SPDX 2.3 JSON schema from the corpus as the oracle for the hand-written SPDX model (every
mutation the schema rejects, lockgate rejects too). OpenVEX, vuln, link and custom predicates by their specs."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lockgate.attest.predicates import (
    CUSTOM,
    CYCLONEDX,
    LINK_V1,
    OPENVEX,
    SPDX,
    VULN,
    load_predicate,
    predicate_type_uri,
    validate_predicate,
)
from lockgate.errors import InputError


@pytest.fixture(scope="module")
def syft_docs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    d = tmp_path_factory.mktemp("syft")
    (d / "src").mkdir()
    (d / "src/requirements.txt").write_text("requests==2.31.0\nurllib3==2.0.7\n")
    spdx, cdx = d / "s.spdx.json", d / "s.cdx.json"
    subprocess.run(["syft", "scan", f"dir:{d / 'src'}", "-q", "-o", f"spdx-json={spdx}", "-o", f"cyclonedx-json={cdx}"],
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    return json.loads(spdx.read_text()), json.loads(cdx.read_text())


def test_real_sboms_validate(syft_docs: tuple[dict[str, Any], dict[str, Any]], corpus: Path) -> None:
    spdx, cdx = syft_docs
    assert spdx["packages"], "syft found the requirements"
    validate_predicate(SPDX, spdx)
    validate_predicate(CYCLONEDX, cdx)
    validate_predicate(
        SPDX, json.loads((corpus / "cosign/sigstore-cosign/test-testdata/bom-go-mod.spdx.json").read_text())
    )
    with pytest.raises(InputError):
        validate_predicate(CYCLONEDX, spdx)
    with pytest.raises(InputError):
        validate_predicate(SPDX, cdx)


MUTATIONS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("no spdxVersion", lambda d: d.pop("spdxVersion")),
    ("no SPDXID", lambda d: d.pop("SPDXID")),
    ("no name", lambda d: d.pop("name")),
    ("no creationInfo", lambda d: d.pop("creationInfo")),
    ("creators not a list", lambda d: d["creationInfo"].update(creators="syft")),
    ("no created", lambda d: d["creationInfo"].pop("created")),
    ("no dataLicense", lambda d: d.pop("dataLicense")),
    ("no documentNamespace", lambda d: d.pop("documentNamespace")),
    ("package without name", lambda d: d["packages"][0].pop("name")),
    ("package without SPDXID", lambda d: d["packages"][0].pop("SPDXID")),
    ("package without downloadLocation", lambda d: d["packages"][0].pop("downloadLocation")),
    ("checksum without value", lambda d: d["packages"][0].setdefault("checksums", [{}])[0].pop("checksumValue", None)),
    ("relationship without type", lambda d: d["relationships"][0].pop("relationshipType")),
    ("packages not a list", lambda d: d.update(packages={})),
]


@pytest.mark.parametrize("name", [m[0] for m in MUTATIONS])
def test_spdx_model_rejects_what_the_schema_rejects(
    name: str, syft_docs: tuple[dict[str, Any], dict[str, Any]], corpus: Path
) -> None:
    schema = json.loads((corpus / "schemas/spdx-schema-2.3.json").read_text())
    doc = copy.deepcopy(syft_docs[0])
    jsonschema.validate(doc, schema)  # the unmodified document is valid for both
    dict(MUTATIONS)[name](doc)
    schema_rejects = not jsonschema.Draft7Validator(schema).is_valid(doc)
    try:
        validate_predicate(SPDX, doc)
        ours_rejects = False
    except InputError:
        ours_rejects = True
    assert schema_rejects, f"mutation {name!r} should be invalid per the schema"
    assert ours_rejects


def _vex() -> dict[str, Any]:
    return {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/1",
        "author": "lockgate tests",
        "timestamp": "2026-01-01T00:00:00Z",
        "version": 1,
        "statements": [
            {"vulnerability": {"name": "CVE-2024-0001"}, "products": [{"@id": "pkg:oci/app"}],
             "status": "not_affected", "justification": "vulnerable_code_not_present"},
        ],
    }  # fmt: skip


def test_openvex_vuln_link_custom() -> None:
    validate_predicate(OPENVEX, _vex())
    bad = _vex()
    del bad["statements"][0]["justification"]
    with pytest.raises(InputError, match="justification"):
        validate_predicate(OPENVEX, bad)
    bad = _vex()
    bad["statements"][0]["status"] = "fine"
    with pytest.raises(InputError, match="VEX status"):
        validate_predicate(OPENVEX, bad)
    vuln = {"invocation": {"uri": "", "event_id": ""}, "scanner": {"uri": "pkg:github/aquasecurity/trivy",
            "version": "0.50.0", "db": {"uri": "", "version": ""}, "result": {}},
            "metadata": {"scanStartedOn": "2026-01-01T00:00:00Z",
                         "scanFinishedOn": "2026-01-01T00:01:00Z"}}  # fmt: skip
    validate_predicate(VULN, vuln)
    vuln["metadata"]["scanStartedOn"] = "yesterday"
    with pytest.raises(InputError, match="RFC 3339"):
        validate_predicate(VULN, vuln)
    validate_predicate(
        LINK_V1, {"name": "build", "command": ["make"], "materials": [{"uri": "src", "digest": {"sha256": "a" * 64}}]}
    )
    with pytest.raises(InputError, match="command"):
        validate_predicate(LINK_V1, {"name": "build", "command": "make"})
    ptype, pred = load_predicate(b"free text", "custom")
    assert ptype == CUSTOM and pred["Data"] == "free text"
    validate_predicate(CUSTOM, pred)
    assert predicate_type_uri("https://example.com/my/v1") == "https://example.com/my/v1"
    with pytest.raises(InputError, match="unknown predicate type"):
        predicate_type_uri("sbom")


@pytest.mark.parametrize("kind", ["custom", "vuln"])
def test_cosign_attestation_envelopes(corpus: Path, kind: str) -> None:
    """Real cosign ``attest`` envelopes (Statement v0.1, empty keyid hint): valid ones read and validate,
    the malformed ones (predicateType without a scheme) are refused."""
    from lockgate.attest.dsse import parse_envelope
    from lockgate.attest.statement import STATEMENT_V01, parse_statement

    base = corpus / "cosign/sigstore-cosign/pkg-policy-testdata"
    env = parse_envelope((base / "valid" / kind).read_bytes())
    assert env.signatures[0].keyid == ""
    st = parse_statement(env.payload)
    assert st.type == STATEMENT_V01
    assert st.predicate_type == {"custom": CUSTOM, "vuln": VULN}[kind]
    validate_predicate(st.predicate_type, st.predicate)
    bad = parse_envelope((base / "malformed" / kind).read_bytes())
    with pytest.raises(InputError, match="not a URI"):
        parse_statement(bad.payload)
