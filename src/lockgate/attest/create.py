"""Create an attestation for an image: Statement v1 over the manifest digest, DSSE-signed, attached."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lockgate.attest.attach import attach_attestation, resolve_image
from lockgate.attest.dsse import IN_TOTO_PAYLOAD_TYPE, sign_envelope
from lockgate.attest.predicates import load_predicate
from lockgate.attest.statement import make_statement
from lockgate.config import Limits
from lockgate.oci.registry.options import RegistryOptions
from lockgate.oci.targets import parse_target
from lockgate.trust.image import default_identity
from lockgate.trust.keys.model import Signer


@dataclass(frozen=True, slots=True)
class AttestResult:
    """What ``attest_image`` wrote."""

    digest: str
    predicate_type: str
    key_ids: tuple[str, ...]
    stored_at: tuple[str, ...]


def attest_image(
    target_text: str,
    predicate: bytes,
    type_name: str,
    signers: Sequence[Signer],
    *,
    subject_name: str | None = None,
    tag_layout: bool = True,
    referrer: bool = False,
    replace: bool = False,
    options: RegistryOptions | None = None,
    limits: Limits | None = None,
) -> AttestResult:
    """Wrap ``predicate`` (validated for ``type_name``) in a Statement for the image and attach it.

    The subject is named like cosign names it (the repository, or the layout path) with the manifest's
    sha256 digest; every signer adds one signature to the single envelope.
    """
    limits = limits or Limits()
    if not signers:
        from lockgate.errors import ConfigError

        raise ConfigError("attest needs at least one --key")
    ptype, pred = load_predicate(predicate, type_name)
    target = parse_target(target_text)
    digest = resolve_image(target, options, limits)
    name = subject_name or default_identity(target)
    algo, _, hexpart = digest.partition(":")
    payload = make_statement([(name, {algo: hexpart})], ptype, pred)
    env = sign_envelope(IN_TOTO_PAYLOAD_TYPE, payload, signers)
    digest2, where = attach_attestation(
        target_text,
        env,
        ptype,
        tag_layout=tag_layout,
        referrer=referrer,
        replace=replace,
        options=options,
        limits=limits,
    )
    if digest2 != digest:
        from lockgate.errors import IntegrityError

        raise IntegrityError(f"image changed while attesting ({digest} -> {digest2})")
    return AttestResult(digest, ptype, tuple(s.public_key.key_id for s in signers), tuple(where))
