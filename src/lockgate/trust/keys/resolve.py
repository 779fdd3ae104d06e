"""Turn ``--key`` values into signers and verifiers; the signer plug-in registry.

Signer URIs (securesystemslib-style): a path or ``file:PATH``, ``pkcs11:...``, or ``SCHEME:...`` handled by a
plug-in. Plug-ins register in-process with :func:`register_signer_scheme` or as an entry point in the
``lockgate.signers`` group whose name is the scheme (``kms = "mypkg.kms:factory"``); a factory is called as
``factory(uri, password_provider)`` and returns a :class:`~lockgate.trust.keys.model.Signer`.

Verifier specs: a public-key file (PEM/DER SPKI, PKCS#1, certificate), a cosign private-key file's ``.pub``
neighbour is not guessed; ``pkcs11:`` URIs (the token's public key); or a key ID (lockgate or in-toto) of a key
in the keyring (:mod:`lockgate.trust.keys.keyring`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from lockgate.errors import ConfigError, NotFoundError
from lockgate.trust.keys.model import PublicKey, Signer

PasswordProvider = Callable[[], bytes]
SignerFactory = Callable[[str, PasswordProvider | None], Signer]

_SCHEMES: dict[str, SignerFactory] = {}
_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+.-]{1,30}):")
_HEX_ID = re.compile(r"^(sha256:)?[0-9a-fA-F]{16,64}$")


def register_signer_scheme(scheme: str, factory: SignerFactory) -> None:
    """Register ``factory`` for signer URIs ``scheme:...`` (for KMS and other plug-ins)."""
    _SCHEMES[scheme] = factory


def _plugin(scheme: str) -> SignerFactory | None:
    if scheme in _SCHEMES:
        return _SCHEMES[scheme]
    from importlib.metadata import entry_points

    for ep in entry_points(group="lockgate.signers"):
        if ep.name == scheme:
            factory = ep.load()
            _SCHEMES[scheme] = factory
            return factory  # type: ignore[no-any-return]
    return None


def load_signer(uri: str, password: PasswordProvider | None = None) -> Signer:
    """The signer a ``--key`` value names; ``password`` is asked for only when a key file is encrypted."""
    from lockgate.trust.keys.files import load_file_signer

    if uri.startswith("pkcs11:"):
        from lockgate.trust.keys.pkcs11 import Pkcs11Signer

        return Pkcs11Signer(uri)
    if uri.startswith("file:"):
        return load_file_signer(Path(uri[5:]), password)
    m = _SCHEME_RE.match(uri)
    if m and not Path(uri).exists():
        factory = _plugin(m.group(1))
        if factory is None:
            raise ConfigError(f"no signer plug-in for {m.group(1)}: URIs (install one or use a key file)")
        return factory(uri, password)
    return load_file_signer(Path(uri), password)


def load_verifier(spec: str) -> PublicKey:
    """The public key a verification ``--key`` value names (file, ``pkcs11:`` URI or keyring key ID)."""
    from lockgate.trust.keys.files import load_public_key

    if spec.startswith("pkcs11:"):
        from lockgate.trust.keys.pkcs11 import Pkcs11Signer

        return Pkcs11Signer(spec).public_key
    path = Path(spec.removeprefix("file:"))
    if path.exists():
        return load_public_key(path)
    if _HEX_ID.match(spec):
        from lockgate.trust.keys.keyring import find_key

        found = find_key(spec)
        if found is not None:
            return found
        raise NotFoundError(f"no key with ID {spec} in the keyring")
    raise NotFoundError(f"public key {spec} not found")
