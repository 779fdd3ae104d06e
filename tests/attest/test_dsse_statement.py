"""DSSE envelopes and in-toto Statements against the corpus vectors (DSSE reference vector, attestation spec
examples, real SLSA predicates); securesystemslib's DSSE implementation is the oracle for multi-signature
envelopes."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from lockgate.attest.dsse import Envelope, parse_envelope, sign_envelope, verify_envelope
from lockgate.attest.predicates import SLSA_V02, SLSA_V1, validate_predicate
from lockgate.attest.statement import STATEMENT_V01, make_statement, parse_statement, statement_from_dict
from lockgate.errors import InputError, IntegrityError
from lockgate.trust.keys.files import FileSigner, parse_public_key

DIGEST = "sha256:" + "ab" * 32


def _vector(corpus: Path) -> dict[str, Any]:
    v: dict[str, Any] = json.loads((corpus / "intoto/dsse/vectors.json").read_text())["vectors"][0]
    return v


def test_reference_vector_pae_and_signature(corpus: Path) -> None:
    v = _vector(corpus)
    env = parse_envelope(json.dumps(v["envelope"]))
    assert env.pae() == v["pae_utf8"].encode()
    key = parse_public_key(v["key"]["public_key_pem"].encode())
    assert verify_envelope(env, [key]) == [key]
    # RFC 6979: signing our PAE with d reproduces the reference signature byte for byte
    priv = ec.derive_private_key(int(v["key"]["d"]), ec.SECP256R1())
    der = priv.sign(env.pae(), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = utils.decode_dss_signature(der)
    assert (
        base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
        == v["envelope"]["signatures"][0]["sig"]
    )


@pytest.mark.parametrize("field", ["payload", "payloadType", "sig"])
def test_reference_vector_any_change_fails(corpus: Path, field: str) -> None:
    v = _vector(corpus)
    doc = json.loads(json.dumps(v["envelope"]))
    if field == "payload":
        doc["payload"] = base64.b64encode(b"hello worle").decode()
    elif field == "payloadType":
        doc["payloadType"] = "http://example.com/HelloWorlD"
    else:
        raw = bytearray(base64.b64decode(doc["signatures"][0]["sig"]))
        raw[10] ^= 1
        doc["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
    key = parse_public_key(v["key"]["public_key_pem"].encode())
    with pytest.raises(IntegrityError):
        verify_envelope(parse_envelope(json.dumps(doc)), [key])


def _signer(curve: ec.EllipticCurve = ec.SECP256R1()) -> FileSigner:
    return FileSigner(ec.generate_private_key(curve), "test")


def test_multi_signature_threshold_and_hints() -> None:
    a, b, c = _signer(), _signer(ec.SECP384R1()), _signer()
    env = sign_envelope("application/vnd.in-toto+json", b'{"x":1}', [a, b])
    assert [s.keyid for s in env.signatures] == [a.public_key.key_id, b.public_key.key_id]
    again = parse_envelope(env.to_json())
    assert again == env
    good = verify_envelope(again, [c.public_key, b.public_key, a.public_key], threshold=2)
    assert {k.key_id for k in good} == {a.public_key.key_id, b.public_key.key_id}
    with pytest.raises(IntegrityError, match="2 key"):
        verify_envelope(again, [a.public_key, b.public_key], threshold=3)
    with pytest.raises(IntegrityError, match="no DSSE signature"):
        verify_envelope(again, [c.public_key])
    # a duplicate signature by the same key counts once
    dup = Envelope(env.payload_type, env.payload, (env.signatures[0], env.signatures[0]))
    with pytest.raises(IntegrityError):
        verify_envelope(dup, [a.public_key, b.public_key], threshold=2)


def test_securesystemslib_verifies_our_envelope_and_we_verify_theirs() -> None:
    """securesystemslib (test dependency) is the oracle for the DSSE wire format both ways."""
    from securesystemslib.dsse import Envelope as SslEnvelope
    from securesystemslib.signer import CryptoSigner, SSlibKey

    ours = _signer()
    env = sign_envelope("application/vnd.in-toto+json", b"payload bytes", [ours])
    ssl_env = SslEnvelope.from_dict(json.loads(env.to_json()))
    pub = SSlibKey.from_crypto(ours.public_key.key, keyid=ours.public_key.key_id)
    assert pub.keyid in ssl_env.verify([pub], 1)
    theirs = CryptoSigner.generate_ecdsa()
    ssl_env2 = SslEnvelope(payload=b"theirs", payload_type="text/plain", signatures={})
    ssl_env2.sign(theirs)
    mine = parse_envelope(json.dumps(ssl_env2.to_dict()))
    theirs_pub = parse_public_key(theirs.public_key.keyval["public"].encode())
    assert verify_envelope(mine, [theirs_pub])[0].key_id == theirs_pub.key_id
    assert mine.signatures[0].keyid == theirs_pub.intoto_keyid


@pytest.mark.parametrize(
    "doc",
    [
        "[]",
        '{"payloadType":"x","signatures":[{"sig":"AA=="}]}',
        '{"payloadType":"x","payload":"@@","signatures":[]}',
        '{"payloadType":"","payload":"AA==","signatures":[{"sig":"AA=="}]}',
        "not json",
    ],
)
def test_malformed_envelopes_are_input_errors(doc: str) -> None:
    with pytest.raises(InputError):
        parse_envelope(doc)


def test_attestation_spec_examples_validate(corpus: Path) -> None:
    d = corpus / "intoto/attestation-spec-examples"
    index = json.loads((d / "index.json").read_text())
    statements = [e for e in index if e["kind"] == "statement"]
    assert len(statements) == 14
    for e in statements:
        # the spec examples use placeholder digests ("4faeb1b2..."), which only strict mode refuses
        st = parse_statement((d / e["file"]).read_bytes(), strict=False)
        assert st.predicate_type == e["predicateType"]
        assert st.subjects


def test_statement_v01_read_and_v1_written() -> None:
    doc = {
        "_type": STATEMENT_V01,
        "subject": [{"name": "x", "digest": {"sha256": "ab" * 32}}],
        "predicateType": "https://example.com/p",
        "predicate": {},
    }
    st = statement_from_dict(doc)
    assert st.names_digest(DIGEST) and not st.names_digest("sha256:" + "cd" * 32)
    raw = make_statement([("img", {"sha256": "ab" * 32})], "https://example.com/p", {"a": 1})
    st1 = parse_statement(raw)
    assert st1.type == "https://in-toto.io/Statement/v1" and st1.raw == raw


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"_type": "https://in-toto.io/Statement/v9"}, "unknown in-toto statement"),
        ({"subject": []}, "subject"),
        ({"subject": [{"name": "x", "digest": {"sha256": "XYZ"}}]}, "hex"),
        ({"subject": [{"name": "x", "digest": {}}]}, "digest"),
        ({"predicateType": "not a uri"}, "predicateType"),
        ({"predicate": [1]}, "predicate"),
    ],
)
def test_statement_validation_rejects(change: dict[str, Any], message: str) -> None:
    doc = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "x", "digest": {"sha256": "ab" * 32}}],
        "predicateType": "https://example.com/p",
        "predicate": {},
    }
    doc.update(change)
    with pytest.raises(InputError, match=message):
        statement_from_dict(doc)


def test_slsa_predicates_validate_for_their_version_only(corpus: Path) -> None:
    d = corpus / "intoto/slsa-predicates"
    v02 = json.loads((d / "slsa_predicate_v0_2.json").read_text())
    v1 = json.loads((d / "slsa_predicate_v1_0.json").read_text())
    validate_predicate(SLSA_V02, v02)
    validate_predicate(SLSA_V1, v1)
    with pytest.raises(InputError):
        validate_predicate(SLSA_V02, v1)
    with pytest.raises(InputError):
        validate_predicate(SLSA_V1, v02)
    broken = json.loads(json.dumps(v1))
    del broken["runDetails"]["builder"]["id"]
    with pytest.raises(InputError, match=r"builder\.id"):
        validate_predicate(SLSA_V1, broken)
