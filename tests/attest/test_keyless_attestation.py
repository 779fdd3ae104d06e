"""Keyless attestations: cosign's real Sigstore bundle (``cosign/.../oci-attestation.sigstore.json``, public-good
instance) verifies offline with its trusted root for the subject digest, and fails for a wrong identity, another
digest, another predicate type, or a CEL check that does not hold — each with a one-line reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ._helpers import lockgate, one_line_reason

DIGEST = "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4"


def _args(corpus: Path) -> list[str]:
    d = corpus / "cosign/sigstore-cosign/pkg-cosign-testdata"
    return ["--bundle", str(d / "oci-attestation.sigstore.json"), "--trusted-root", str(d / "trusted_root_pgi.json")]


def test_cosign_keyless_attestation_verifies(corpus: Path) -> None:
    r = lockgate("verify-attestation", DIGEST, *_args(corpus), "--certificate-identity", "cody@soyland.com",
                 "--certificate-oidc-issuer", "https://github.com/login/oauth", "--type", "custom",
                 "--cel", 'predicate.Data.contains("foo")', "--format", "json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["identity"] == "cody@soyland.com"
    assert doc["statement"]["_type"] == "https://in-toto.io/Statement/v0.1"
    assert doc["statement"]["predicate"]["Timestamp"] == "2025-02-28T19:18:11Z"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--certificate-identity-regexp", "wrong", "--certificate-oidc-issuer-regexp", ".*"], "identity"),
        (["--certificate-identity-regexp", ".*", "--certificate-oidc-issuer-regexp", ".*", "--type", "vuln"],
         "predicate type"),
        (["--certificate-identity-regexp", ".*", "--certificate-oidc-issuer-regexp", ".*",
          "--cel", 'predicate.Data.contains("bar-baz")'], "is false"),
    ],
)  # fmt: skip
def test_cosign_keyless_attestation_rejections(corpus: Path, extra: list[str], message: str) -> None:
    r = lockgate("verify-attestation", DIGEST, *_args(corpus), *extra)
    assert r.returncode == 1 and message in one_line_reason(r)


def test_other_digest_rejected(corpus: Path) -> None:
    other = "sha256:" + "0" * 64
    r = lockgate("verify-attestation", other, *_args(corpus), "--certificate-identity-regexp", ".*",
                 "--certificate-oidc-issuer-regexp", ".*")  # fmt: skip
    assert r.returncode == 1 and "does not name" in one_line_reason(r)
