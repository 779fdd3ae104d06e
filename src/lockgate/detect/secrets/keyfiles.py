"""Binary credential stores that text rules cannot see: OpenPGP secret keys, gpg-agent keys, keystores.

The regex rules skip binary files (a NUL byte in the first 8 KiB), yet ``secring.gpg``, a
``gpg --export-secret-keys`` file, the agent's older ``private-keys-v1.d/*.key`` format, Java
keystores and PKCS#12 bundles are binary and hold private keys. The first byte of a binary file
picks at most one check, which verifies the format's structure (packet header, version and
algorithm; magic numbers and entry tags; ASN.1 prefix and bag types). An ordinary binary costs a
comparison, and public keys and certificate-only truststores (Java's ``cacerts``) never match.
Written here because no library reads these formats without a password or a full OpenPGP stack,
and the checks need only headers.
"""

from __future__ import annotations

from dataclasses import dataclass

from lockgate.findings.model import Severity

OPENPGP_ALGORITHMS = {
    1: "RSA",
    2: "RSA",
    3: "RSA",
    16: "Elgamal",
    17: "DSA",
    18: "ECDH",
    19: "ECDSA",
    20: "Elgamal",
    22: "EdDSA",
    25: "X25519",
    26: "X448",
    27: "Ed25519",
    28: "Ed448",
}
"""RFC 9580 §9.1 public-key algorithm ids."""

_PKCS7_DATA_OID = bytes.fromhex("06092a864886f70d010701")
"""DER of OID 1.2.840.113549.1.7.1 (pkcs7-data), the content type of a PKCS#12 ``authSafe``."""


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """A stable id and title for one kind of binary key file (listed with the text rules)."""

    id: str
    title: str
    severity: Severity


PGP_SECRET = KeyCheck("private-key-pgp-binary", "OpenPGP secret key (binary)", Severity.CRITICAL)
GPG_AGENT = KeyCheck("private-key-gpg-agent", "gpg-agent private key", Severity.CRITICAL)
"""Same id as the text rule for the agent's extended (text) key format."""
GPG_AGENT_PROTECTED = KeyCheck(
    "private-key-gpg-agent-protected", "gpg-agent private key (passphrase-protected)", Severity.HIGH
)
JAVA_KEYSTORE = KeyCheck("keystore-java", "Java keystore (JKS/JCEKS)", Severity.HIGH)
PKCS12 = KeyCheck("keystore-pkcs12", "PKCS#12 key bundle", Severity.HIGH)
KEY_CHECKS: tuple[KeyCheck, ...] = (PGP_SECRET, GPG_AGENT, GPG_AGENT_PROTECTED, JAVA_KEYSTORE, PKCS12)
KEY_CHECK_IDS = frozenset(c.id for c in KEY_CHECKS)


@dataclass(frozen=True, slots=True)
class KeyFileMatch:
    """One binary key file: which check, the severity, and a description without key material."""

    check: KeyCheck
    severity: Severity
    detail: str


def _openpgp_header(data: bytes) -> tuple[int, int, int] | None:
    """(tag, header length, body length) of the first OpenPGP packet; None when not a packet."""
    if len(data) < 2 or not data[0] & 0x80:
        return None
    first = data[0]
    if first & 0x40:  # new format (RFC 9580 §4.2.1)
        tag, o1 = first & 0x3F, data[1]
        if o1 < 192:
            return tag, 2, o1
        if o1 < 224 and len(data) >= 3:
            return tag, 3, ((o1 - 192) << 8) + data[2] + 192
        if o1 == 255 and len(data) >= 6:
            return tag, 6, int.from_bytes(data[2:6], "big")
        return None  # partial body lengths are not allowed for key packets
    tag, ltype = (first >> 2) & 0x0F, first & 0x03  # legacy format
    if ltype == 3:
        return None
    n = 1 << ltype
    if len(data) < 1 + n:
        return None
    return tag, 1 + n, int.from_bytes(data[1 : 1 + n], "big")


def _openpgp_secret(data: bytes, size: int) -> KeyFileMatch | None:
    header = _openpgp_header(data)
    if header is None:
        return None
    tag, hlen, blen = header
    if tag not in (5, 7) or blen < 12 or hlen + blen > size:  # Secret-Key / Secret-Subkey packets
        return None
    body = data[hlen : hlen + blen]
    version = body[0]
    if version not in (4, 5, 6) or len(body) < 6:
        return None
    algorithm = OPENPGP_ALGORITHMS.get(body[5])
    if algorithm is None:
        return None
    protected = _s2k_usage(body, version)
    if protected is None:
        return None
    if protected:
        return KeyFileMatch(PGP_SECRET, Severity.HIGH, f"v{version} {algorithm}, passphrase-protected")
    return KeyFileMatch(PGP_SECRET, Severity.CRITICAL, f"v{version} {algorithm}, not passphrase-protected")


def _mpi_end(body: bytes, pos: int) -> int | None:
    if pos + 2 > len(body):
        return None
    bits = int.from_bytes(body[pos : pos + 2], "big")
    end = pos + 2 + (bits + 7) // 8
    return end if end <= len(body) else None


def _s2k_usage(body: bytes, version: int) -> bool | None:
    """Whether the secret material is encrypted (S2K usage octet != 0); None when unparseable."""
    algorithm = body[5]
    pos = 6
    if version in (5, 6):
        pos += 4  # octet count of the public key material
        if len(body) < pos:
            return None
        pos += int.from_bytes(body[6:10], "big")
    else:
        counts = {1: 2, 2: 2, 3: 2, 16: 3, 20: 3, 17: 4}
        if algorithm in counts:
            for _ in range(counts[algorithm]):
                end = _mpi_end(body, pos)
                if end is None:
                    return None
                pos = end
        elif algorithm in (18, 19, 22):
            if pos >= len(body):
                return None
            pos += 1 + body[pos]  # curve OID
            end = _mpi_end(body, pos)  # public point
            if end is None:
                return None
            pos = end
            if algorithm == 18:  # KDF parameters
                if pos >= len(body):
                    return None
                pos += 1 + body[pos]
        else:
            pos += {25: 32, 26: 56, 27: 32, 28: 57}[algorithm]
    if pos >= len(body):
        return None
    return body[pos] != 0


_AGENT_PREFIXES = (b"(11:private-key", b"(21:protected-private-key")


def _gpg_agent(data: bytes, enabled: frozenset[str]) -> KeyFileMatch | None:
    """gpg-agent's canonical S-expression key files (shadowed smart-card stubs hold no key)."""
    if data.startswith(_AGENT_PREFIXES[0]) and GPG_AGENT.id in enabled:
        return KeyFileMatch(GPG_AGENT, Severity.CRITICAL, "canonical S-expression")
    if data.startswith(_AGENT_PREFIXES[1]) and GPG_AGENT_PROTECTED.id in enabled:
        return KeyFileMatch(GPG_AGENT_PROTECTED, Severity.HIGH, "canonical S-expression")
    return None


def _java_utf(data: bytes, pos: int) -> int | None:
    """Position after a Java modified-UTF-8 string (2-byte length prefix) at ``pos``."""
    if pos + 2 > len(data):
        return None
    end = pos + 2 + int.from_bytes(data[pos : pos + 2], "big")
    return end if end <= len(data) else None


def _u32(data: bytes, pos: int) -> int | None:
    return int.from_bytes(data[pos : pos + 4], "big") if pos + 4 <= len(data) else None


def _java_keystore(data: bytes) -> KeyFileMatch | None:
    """JKS/JCEKS holding a private or secret key entry; truststores (certificates only) are fine."""
    kind = {b"\xfe\xed\xfe\xed": "JKS", b"\xce\xce\xce\xce": "JCEKS"}.get(data[:4])
    version, count = _u32(data, 4), _u32(data, 8)
    if kind is None or version not in (1, 2) or not count:
        return None
    pos: int | None = 12
    keys = 0
    for _ in range(min(count, 100_000)):
        tag = _u32(data, pos) if pos is not None else None
        if tag not in (1, 2, 3) or pos is None:
            break
        pos = _java_utf(data, pos + 4)  # alias
        if pos is None:
            break
        pos += 8  # creation date
        if tag == 3:  # JCEKS secret key: a serialized Java object; no need to read further
            keys += 1
            break
        if tag == 1:  # private key: encrypted key bytes, then the certificate chain
            keys += 1
            n = _u32(data, pos)
            chain = _u32(data, pos + 4 + n) if n is not None else None
            if n is None or chain is None:
                break
            pos += 8 + n
            certs = chain
        else:
            certs = 1
        for _ in range(certs):
            pos = _java_utf(data, pos) if version == 2 else pos
            length = _u32(data, pos) if pos is not None else None
            if pos is None or length is None:
                break
            pos += 4 + length
        if pos is None or pos > len(data):
            break
    if not keys:
        return None
    return KeyFileMatch(JAVA_KEYSTORE, Severity.HIGH, f"{kind} v{version} with a private or secret key entry")


def _der_length(data: bytes, pos: int) -> int | None:
    """Position after a DER length field at ``pos``."""
    if pos >= len(data):
        return None
    first = data[pos]
    if first < 0x80:
        return pos + 1
    n = first & 0x7F
    return pos + 1 + n if 0 < n <= 4 else None


_SHROUDED_KEY_BAG_OID = bytes.fromhex("060b2a864886f70d010c0a0102")
_KEY_BAG_OID = bytes.fromhex("060b2a864886f70d010c0a0101")
"""DER of the PKCS#12 bag types that hold a private key (RFC 7292 §4.2). Their OIDs sit in a
plain ``data`` SafeContents even when the key itself is encrypted; certificate-only bundles
(Java's PKCS#12 ``cacerts`` truststore) have neither."""


def _pkcs12(data: bytes) -> KeyFileMatch | None:
    """PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo (pkcs7-data ...), ... } with a key bag."""
    if data[:1] != b"\x30":
        return None
    pos = _der_length(data, 1)
    if pos is None or data[pos : pos + 3] != b"\x02\x01\x03" or data[pos + 3 : pos + 4] != b"\x30":
        return None
    inner = _der_length(data, pos + 4)
    if inner is None or data[inner : inner + len(_PKCS7_DATA_OID)] != _PKCS7_DATA_OID:
        return None
    if _SHROUDED_KEY_BAG_OID in data:
        return KeyFileMatch(PKCS12, Severity.HIGH, "PFX v3 with a shrouded (encrypted) private key bag")
    if _KEY_BAG_OID in data:
        return KeyFileMatch(PKCS12, Severity.CRITICAL, "PFX v3 with an unencrypted private key bag")
    return None


def check_binary(data: bytes, enabled: frozenset[str]) -> KeyFileMatch | None:
    """The kind of key file ``data`` (a whole binary file) is, if any; one byte decides which check runs."""
    if not data:
        return None
    first = data[0]
    if first in (0xFE, 0xCE):
        return _java_keystore(data) if JAVA_KEYSTORE.id in enabled else None
    if first & 0x80:
        return _openpgp_secret(data, len(data)) if PGP_SECRET.id in enabled else None
    if first == 0x28:  # "("
        return _gpg_agent(data, enabled)
    if first == 0x30 and PKCS12.id in enabled:
        return _pkcs12(data)
    return None
