"""Keys: public-key wrapper and IDs, the signer plug-in interface, cosign's encrypted key format, PKCS#11.

Signers are named by URI, modelled on securesystemslib's signer URIs:

- a plain path or ``file:PATH`` — a cosign encrypted private key (``ENCRYPTED SIGSTORE/COSIGN PRIVATE KEY``)
  or an unencrypted PEM private key (PKCS#8, SEC1, PKCS#1);
- ``pkcs11:token=...;object=...?module-path=...&pin-value=...`` — a key in an HSM (RFC 7512);
- any other ``scheme:...`` — a plug-in registered with
  :func:`lockgate.trust.keys.resolve.register_signer_scheme` or through the ``lockgate.signers`` entry-point
  group (for example ``kms:`` backends). A plug-in is a callable ``factory(uri, password) -> Signer``.
"""

from lockgate.trust.keys.model import Algorithm, PublicKey, Signer, Verifier, intoto_keyid, key_id

__all__ = ["Algorithm", "PublicKey", "Signer", "Verifier", "intoto_keyid", "key_id"]
