"""Keyless attestations: a Sigstore bundle (v0.3) holding a DSSE in-toto attestation, as cosign v3 and
``cosign attest --new-bundle-format`` store them. Certificate chain, transparency-log and identity checks are
the trust package's (:func:`lockgate.trust.keyless.verify_dsse_bundle`, built on sigstore-python); this module
adds the attestation checks: the Statement (v0.1/v1) is validated, must name the image digest, and its
predicate must match the requested type and validate.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lockgate.attest.predicates import validate_predicate
from lockgate.attest.statement import Statement, parse_statement
from lockgate.errors import IntegrityError

if TYPE_CHECKING:
    from lockgate.attest.verify import PredicateCheck
    from lockgate.trust.keyless import IdentityMatcher


def verify_bundle_attestation(
    bundle: bytes,
    trusted_root: Path,
    matcher: IdentityMatcher,
    digest: str,
    *,
    predicate_type: str | None = None,
    checks: Sequence[PredicateCheck] = (),
) -> tuple[str, str, Statement]:
    """(certificate identity, issuer, statement) of a verified keyless attestation bundle for ``digest``.

    Raises IntegrityError (signature, certificate, log, identity, subject) or InputError (malformed bundle,
    statement or predicate) with a one-line reason.
    """
    from lockgate.trust.keyless import load_bundle, load_trusted_root, verify_dsse_bundle

    result = verify_dsse_bundle(load_bundle(bundle), load_trusted_root(trusted_root), matcher, digest, predicate_type)
    st = parse_statement(result.payload)
    if not st.names_digest(digest):
        raise IntegrityError(f"statement does not name {digest}")
    validate_predicate(st.predicate_type, st.predicate)
    doc = st.to_dict()
    for c in checks:
        why = c.evaluate(doc)
        if why:
            raise IntegrityError(why)
    return result.identity, result.issuer, st


__all__ = ["verify_bundle_attestation"]
