"""A minimal DER/BER reader (and writer) for what cryptography cannot do with ocicrypt's PKCS#7.

ocicrypt (smallstep/pkcs7) writes EnvelopedData whose content cipher is ``id-aes128-GCM`` with
``GCMParameters`` and a constructed ``[0]`` encryptedContent holding ciphertext||tag. OpenSSL's PKCS#7
code has no GCM support, and no small, well-kept library reads this non-standard layout, so the few
fields needed are walked here with bounds checks on every length (definite lengths only). Removing a
recipient rewrites only the RecipientInfos SET and its ancestors; every other element keeps its bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from lockgate.errors import InputError


@dataclass(frozen=True, slots=True)
class Node:
    tag: int
    constructed: bool
    data: bytes

    def children(self, lenient: bool = False) -> list[Node]:
        """Elements inside; ``lenient`` also reads a SEQUENCE mis-tagged as primitive (smallstep's GCM params)."""
        if not self.constructed and not lenient:
            raise InputError("PKCS#7: expected a constructed ASN.1 element")
        out, pos = [], 0
        while pos < len(self.data):
            node, pos = read(self.data, pos)
            out.append(node)
        return out

    def octets(self) -> bytes:
        """Content of an OCTET STRING, primitive or constructed (BER segments concatenated)."""
        if not self.constructed:
            return self.data
        return b"".join(c.octets() for c in self.children())


def read(buf: bytes, pos: int = 0) -> tuple[Node, int]:
    """The element starting at ``pos`` and the offset after it."""
    if pos + 2 > len(buf):
        raise InputError("PKCS#7: truncated ASN.1")
    first = buf[pos]
    if first & 0x1F == 0x1F:
        raise InputError("PKCS#7: multi-byte ASN.1 tags are not supported")
    length = buf[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or pos + n > len(buf):
            raise InputError("PKCS#7: unsupported or truncated ASN.1 length")
        length = int.from_bytes(buf[pos : pos + n], "big")
        pos += n
    end = pos + length
    if end > len(buf):
        raise InputError("PKCS#7: ASN.1 element runs past its container")
    return Node(first & 0xDF, bool(first & 0x20), buf[pos:end]), end


def oid(node: Node) -> str:
    """Dotted text of an OBJECT IDENTIFIER."""
    if node.tag != 0x06 or not node.data:
        raise InputError("PKCS#7: expected an OBJECT IDENTIFIER")
    parts = [node.data[0] // 40, node.data[0] % 40]
    value = 0
    for b in node.data[1:]:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(p) for p in parts)


def elements(buf: bytes) -> list[tuple[Node, bytes]]:
    """The elements of ``buf`` (a constructed element's content) with their exact original encodings."""
    out, pos = [], 0
    while pos < len(buf):
        node, end = read(buf, pos)
        out.append((node, buf[pos:end]))
        pos = end
    return out


def encode(tag: int, constructed: bool, content: bytes) -> bytes:
    """DER encoding (definite, minimal length) of one element; ``tag`` as :class:`Node` stores it."""
    n = len(content)
    size = (n.bit_length() + 7) // 8
    length = bytes([n]) if n < 0x80 else bytes([0x80 | size]) + n.to_bytes(size, "big")
    return bytes([tag | (0x20 if constructed else 0)]) + length + content
