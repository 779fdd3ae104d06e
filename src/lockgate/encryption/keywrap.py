"""Wrap a layer's private options for recipients and unwrap them with decryption keys, per scheme.

Each scheme owns one annotation (``…enc.keys.<scheme>``) holding a comma-separated list of blobs; new
wrappings are appended (as ocicrypt does when recipients are added), and unwrapping tries every blob
with every compatible key until one yields the options.
"""

from __future__ import annotations

from collections.abc import Sequence

from lockgate.encryption import annotations as ann
from lockgate.encryption.cipher import PrivateOptions
from lockgate.encryption.keys import (
    DecryptionKey,
    JweRecipient,
    PgpKey,
    PgpRecipient,
    Pkcs7Recipient,
    Pkcs11Key,
    Pkcs11Recipient,
    PrivateKeyFile,
    ProviderKey,
    ProviderRecipient,
    Recipient,
)
from lockgate.errors import ConfigError, InputError, IntegrityError, LockgateError


def wrap(recipients: Sequence[Recipient], opts: PrivateOptions) -> dict[str, list[bytes]]:
    """New wrapped-key blobs per annotation for ``recipients``."""
    data = opts.to_json()
    out: dict[str, list[bytes]] = {}
    jwe_keys = [r.key for r in recipients if isinstance(r, JweRecipient)]
    if jwe_keys:
        from lockgate.encryption import jwe

        out[ann.JWE] = [jwe.wrap(jwe_keys, data)]
    certs = [r.cert for r in recipients if isinstance(r, Pkcs7Recipient)]
    if certs:
        from lockgate.encryption import pkcs7

        out[ann.PKCS7] = [pkcs7.wrap(certs, data)]
    pgp_ids = [r.key_id for r in recipients if isinstance(r, PgpRecipient)]
    if pgp_ids:
        from lockgate.encryption import pgp

        out[ann.PGP] = [pgp.wrap(pgp_ids, data)]
    p11 = [r.uri for r in recipients if isinstance(r, Pkcs11Recipient)]
    if p11:
        from lockgate.encryption import pkcs11

        out[ann.PKCS11] = [pkcs11.wrap(p11, data)]
    for r in recipients:
        if isinstance(r, ProviderRecipient):
            from lockgate.encryption import keyprovider

            out.setdefault(ann.provider_annotation(r.name), []).append(keyprovider.wrap(r.name, r.arg, data))
    if not out:
        raise ConfigError("no recipients given")
    return out


def _try(annotation: str, blob: bytes, keys: Sequence[DecryptionKey]) -> bytes | None:
    files = [k for k in keys if isinstance(k, PrivateKeyFile)]
    if annotation == ann.JWE and files:
        from lockgate.encryption import jwe

        return jwe.unwrap(blob, [k.key for k in files])
    if annotation == ann.PKCS7 and any(k.cert is not None for k in files):
        from lockgate.encryption import pkcs7

        return pkcs7.unwrap(blob, [k for k in files if k.cert is not None])
    pgp_keys = [k for k in keys if isinstance(k, PgpKey)]
    if annotation == ann.PGP and pgp_keys:
        from lockgate.encryption import pgp

        return pgp.unwrap(blob, [k.key_file for k in pgp_keys if k.key_file])
    p11 = [k.uri for k in keys if isinstance(k, Pkcs11Key)]
    if annotation == ann.PKCS11 and p11:
        from lockgate.encryption import pkcs11

        return pkcs11.unwrap(blob, p11)
    if annotation.startswith(ann.PROVIDER_PREFIX):
        name = annotation.removeprefix(ann.PROVIDER_PREFIX)
        for k in keys:
            if isinstance(k, ProviderKey) and k.name == name:
                from lockgate.encryption import keyprovider

                return keyprovider.unwrap(name, k.arg, blob)
    return None


def unwrap(annotations: dict[str, str], keys: Sequence[DecryptionKey], what: str) -> PrivateOptions:
    """The layer's private options, unwrapped with the first key that works.

    Raises :class:`IntegrityError` when no key is a recipient (or the wrapped keys were altered).
    """
    wrapped = ann.key_annotations(annotations)
    if not wrapped:
        raise InputError(f"{what} is marked encrypted but has no wrapped-key annotations")
    failures: list[str] = []
    for annotation, value in sorted(wrapped.items()):
        for blob in ann.split_blobs(value, annotation):
            try:
                data = _try(annotation, blob, keys)
            except LockgateError as e:
                failures.append(f"{annotation.removeprefix(ann.KEYS_PREFIX)}: {e}")
                continue
            if data is not None:
                return PrivateOptions.from_json(data)
    schemes = ", ".join(sorted(a.removeprefix(ann.KEYS_PREFIX) for a in wrapped))
    detail = f" ({'; '.join(failures)})" if failures else ""
    raise IntegrityError(f"none of the given keys can decrypt {what} (wrapped for: {schemes}){detail}")
