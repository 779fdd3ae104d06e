"""Image references (``registry/repository[:tag][@digest]``) per the distribution grammar.

Written by hand because no maintained Python library implements the grammar exactly:
it follows ``github.com/distribution/reference`` (``ParseNormalizedNamed``) — domains
with ports, IPv6 literals in brackets, ``localhost``, lowercase path components joined
by ``.``, ``_``, ``__`` or dashes, tags ``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}``, digests
``algo:hex`` — and normalises Docker Hub names (``alpine`` -> ``docker.io/library/alpine``).
"""

from __future__ import annotations

import functools
import re

import msgspec
from msgspec.structs import replace

from lockgate.errors import InputError

DEFAULT_REGISTRY = "docker.io"
LEGACY_DEFAULT_REGISTRY = "index.docker.io"
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_PATH = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_HOST = rf"(?:{_DOMAIN_NAME}|{_IPV6})"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH}"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

_REFERENCE = rf"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?"
_IDENTIFIER = r"[a-f0-9]{64}"


@functools.cache
def _rx(pattern: str) -> re.Pattern[str]:
    """The grammar's patterns, compiled on first use (~4 ms; scans of local layouts never need them)."""
    return re.compile(pattern, re.ASCII)


_DIGEST_HEX_LEN = {"sha256": 64, "sha384": 96, "sha512": 128}


def validate_tag(tag: str) -> str:
    """Return ``tag`` if it is a valid tag; raise :class:`InputError` otherwise."""
    if not _rx(_TAG).fullmatch(tag):
        raise InputError(f"invalid tag {tag!r}")
    return tag


def validate_repository(repository: str) -> str:
    """Return ``repository`` if it is a valid (normalised) repository path; raise otherwise."""
    if len(repository) > NAME_TOTAL_LENGTH_MAX or not _rx(_PATH).fullmatch(repository):
        raise InputError(f"invalid repository name {repository!r}")
    return repository


def validate_reference_digest(digest: str) -> str:
    """Return ``digest`` if it is ``sha256|sha384|sha512:<lowercase hex>`` of the right length."""
    algo, sep, hexpart = digest.partition(":")
    if not sep or not re.fullmatch(_DIGEST, digest, re.ASCII):
        raise InputError(f"invalid digest {digest!r}")
    n = _DIGEST_HEX_LEN.get(algo)
    if n is None:
        raise InputError(f"unsupported digest algorithm {algo!r} in {digest!r}")
    if len(hexpart) != n or not re.fullmatch(r"[a-f0-9]+", hexpart):
        raise InputError(f"invalid {algo} digest {digest!r} (want {n} lowercase hex characters)")
    return digest


def _split_domain(name: str) -> tuple[str, str]:
    """Split a name into registry and repository the way Docker does (``splitDockerDomain``)."""
    first, slash, rest = name.partition("/")
    if not slash or (not any(c in first for c in ".:") and first != "localhost" and first.lower() == first):
        domain, remainder = DEFAULT_REGISTRY, name
    else:
        domain, remainder = first, rest
    if domain == LEGACY_DEFAULT_REGISTRY:
        domain = DEFAULT_REGISTRY
    if domain == DEFAULT_REGISTRY and "/" not in remainder:
        remainder = OFFICIAL_PREFIX + remainder
    return domain, remainder


class Reference(msgspec.Struct, frozen=True):
    """A fully qualified image reference: registry, repository, optional tag and digest."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> Reference:
        """Parse and normalise ``text``; ``latest`` is assumed only when neither tag nor digest is given."""
        if not text:
            raise InputError("empty image reference")
        if len(text) > 4 * NAME_TOTAL_LENGTH_MAX:
            raise InputError(f"invalid reference {text[:64]!r}...: too long")
        if _rx(_IDENTIFIER).fullmatch(text):
            raise InputError(f"invalid reference {text!r}: cannot be a 64-character hexadecimal string")
        # Split off the digest, then the tag (a ':' after the last '/'), before normalising the name.
        rest, at, digest = text.partition("@")
        name, tag = rest, None
        colon = rest.rfind(":")
        if colon > rest.rfind("/") and not rest.endswith("]"):
            name, tag = rest[:colon], rest[colon + 1 :]
        domain, remainder = _split_domain(name)
        if remainder.lower() != remainder:
            raise InputError(f"invalid reference {text!r}: repository name must be lowercase")
        full = f"{domain}/{remainder}"
        canonical = full + (f":{tag}" if tag is not None else "") + (f"@{digest}" if at else "")
        m = _rx(_REFERENCE).fullmatch(canonical)
        if m is None or m.group(1) != full:
            raise InputError(f"invalid reference {text!r}: invalid reference format")
        if len(full) > NAME_TOTAL_LENGTH_MAX:
            raise InputError(f"invalid reference {text!r}: repository name is longer than {NAME_TOTAL_LENGTH_MAX}")
        if at:
            validate_reference_digest(digest)
        if tag is None and not at:
            tag = DEFAULT_TAG
        return cls(registry=domain, repository=remainder, tag=tag, digest=digest if at else None)

    def __post_init__(self) -> None:
        if not _rx(_DOMAIN).fullmatch(self.registry):
            raise InputError(f"invalid registry {self.registry!r}")
        if not _rx(_PATH).fullmatch(self.repository):
            raise InputError(f"invalid repository {self.repository!r}")
        if self.tag is not None:
            validate_tag(self.tag)
        if self.digest is not None:
            validate_reference_digest(self.digest)

    @property
    def name(self) -> str:
        """``registry/repository`` without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def identifier(self) -> str:
        """What to ask the registry for: the digest if set, else the tag (``latest`` if neither)."""
        return self.digest or self.tag or DEFAULT_TAG

    @property
    def familiar(self) -> str:
        """The short form users type (``alpine:3.20`` for ``docker.io/library/alpine:3.20``)."""
        name = self.name
        if self.registry == DEFAULT_REGISTRY:
            name = self.repository.removeprefix(OFFICIAL_PREFIX)
        return name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def with_tag(self, tag: str) -> Reference:
        """The same repository at ``tag`` (any digest is dropped, so the tag is what resolves)."""
        return replace(self, tag=validate_tag(tag), digest=None)

    def with_digest(self, digest: str) -> Reference:
        """The same repository pinned to ``digest`` (the tag is kept for display)."""
        return replace(self, digest=validate_reference_digest(digest))

    def __str__(self) -> str:
        return self.name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")
