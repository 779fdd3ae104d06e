"""Trust: keys, cosign-compatible signatures on images and blobs, revocation and trust policy.

Public entry points:

- :mod:`lockgate.trust.keys` — :class:`~lockgate.trust.keys.model.PublicKey`, the ``Signer``/``Verifier``
  protocols, :func:`~lockgate.trust.keys.resolve.load_signer` / :func:`~lockgate.trust.keys.resolve.load_verifier`.
- :mod:`lockgate.trust.blob` — ``sign_blob`` / ``verify_blob`` (cosign ``sign-blob`` format).
- :mod:`lockgate.trust.image` — ``sign_image`` / ``verify_image`` (cosign ``.sig`` tag layout, OCI referrers).
- :mod:`lockgate.trust.bundle` — key-based Sigstore bundles (cosign v3 layout).
- :mod:`lockgate.trust.keyless` — offline verification of certificate-based Sigstore bundles.
- :mod:`lockgate.trust.timestamp` — RFC 3161 timestamps (trusted signing time).
- :mod:`lockgate.trust.x509chain` — X.509 signing certificates, chains and CRLs.
- :mod:`lockgate.trust.revocation` — the key revocation list.
- :mod:`lockgate.trust.policy` — the ``trust:`` section of the policy file and ``evaluate_trust``.

See ``README.md`` next to this file for formats and the cosign command that checks each one.
"""
