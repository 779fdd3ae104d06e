"""in-toto Statements: read v0.1 and v1, write v1, validate both.

There is no official JSON schema for the Statement, so the checks follow the in-toto/attestation spec
(``spec/v1/statement.md``, ``resource_descriptor.md``, ``digest_set.md``): ``_type`` is a known Statement
URI, ``subject`` is a non-empty list of resource descriptors each with a non-empty digest set whose
well-known algorithms carry lowercase hex of the right length, ``predicateType`` is a URI and ``predicate``
(when present) is an object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lockgate.errors import InputError

STATEMENT_V1 = "https://in-toto.io/Statement/v1"
STATEMENT_V01 = "https://in-toto.io/Statement/v0.1"
STATEMENT_TYPES = (STATEMENT_V1, STATEMENT_V01)
MAX_SUBJECTS = 4096

# digest_set.md: lengths of the well-known hex algorithms
_HEX_LENGTHS: dict[str, tuple[int, ...]] = {
    "sha224": (56,),
    "sha256": (64,),
    "sha384": (96,),
    "sha512": (128,),
    "sha512_224": (56,),
    "sha512_256": (64,),
    "sha3_224": (56,),
    "sha3_256": (64,),
    "sha3_384": (96,),
    "sha3_512": (128,),
    "shake128": (64,),
    "shake256": (128,),
    "blake2b": (128,),
    "blake2s": (64,),
    "ripemd160": (40,),
    "sm3": (64,),
    "gost": (64,),
    "sha1": (40,),
    "md5": (32,),
    "gitCommit": (40, 64),
    "gitTree": (40, 64),
    "gitBlob": (40, 64),
    "gitTag": (40, 64),
    "dirHash": (64,),
}
_HEX = re.compile(r"^[0-9a-f]+$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


@dataclass(frozen=True, slots=True)
class Subject:
    """A statement subject: a name and its digest set (``{"sha256": "<hex>"}``)."""

    name: str
    digest: tuple[tuple[str, str], ...]

    def digest_map(self) -> dict[str, str]:
        return dict(self.digest)

    def matches(self, digest: str) -> bool:
        """True when ``digest`` (``algo:hex``) is in this subject's digest set."""
        algo, _, hexpart = digest.partition(":")
        return self.digest_map().get(algo) == hexpart.lower()


@dataclass(frozen=True, slots=True)
class Statement:
    """A validated in-toto Statement; ``raw`` is the exact payload it was read from."""

    type: str
    subjects: tuple[Subject, ...]
    predicate_type: str
    predicate: Any
    raw: bytes = b""

    def names_digest(self, digest: str) -> bool:
        """True when a subject carries ``digest`` (``sha256:<hex>``)."""
        return any(s.matches(digest) for s in self.subjects)

    def to_dict(self) -> dict[str, Any]:
        return {
            "_type": self.type,
            "subject": [{"name": s.name, "digest": s.digest_map()} for s in self.subjects],
            "predicateType": self.predicate_type,
            "predicate": self.predicate,
        }


def is_uri(text: object) -> bool:
    """A TypeURI: ``scheme:rest`` without spaces."""
    return isinstance(text, str) and bool(_URI.match(text))


def validate_digest_set(digest: Any, where: str, *, strict: bool = True) -> tuple[tuple[str, str], ...]:
    """Check a DigestSet and return it as sorted pairs; ``strict`` checks hex lengths of well-known algorithms."""
    if not isinstance(digest, dict) or not digest:
        raise InputError(f"{where}: digest must be a non-empty object")
    out = []
    for algo, value in digest.items():
        if not isinstance(algo, str) or not algo or not isinstance(value, str) or not value:
            raise InputError(f"{where}: digest entries must be non-empty strings")
        lengths = _HEX_LENGTHS.get(algo)
        if strict and lengths is not None and (len(value) not in lengths or not _HEX.match(value)):
            raise InputError(f"{where}: {algo} digest is not {lengths[0]} lowercase hex characters")
        out.append((algo, value))
    return tuple(sorted(out))


def validate_resource_descriptor(rd: Any, where: str, *, need_digest: bool = False, strict: bool = True) -> None:
    """A v1 ResourceDescriptor: an object with at least one of uri, digest, content."""
    if not isinstance(rd, dict):
        raise InputError(f"{where}: must be an object")
    if not any(k in rd for k in ("uri", "digest", "content")):
        raise InputError(f"{where}: needs uri, digest or content")
    if need_digest and "digest" not in rd:
        raise InputError(f"{where}: digest missing")
    if "digest" in rd:
        validate_digest_set(rd["digest"], where, strict=strict)
    for k in ("name", "uri", "mediaType", "downloadLocation", "content"):
        if k in rd and not isinstance(rd[k], str):
            raise InputError(f"{where}: {k} must be a string")
    if "annotations" in rd and not isinstance(rd["annotations"], dict):
        raise InputError(f"{where}: annotations must be an object")


def statement_from_dict(doc: Any, raw: bytes = b"", *, strict: bool = True) -> Statement:
    """Validate a decoded Statement (v0.1 or v1).

    ``strict=False`` accepts placeholder digests (specification examples); verification always matches the
    image digest exactly, so a malformed digest can never match.
    """
    if not isinstance(doc, dict):
        raise InputError("in-toto statement must be a JSON object")
    stype = doc.get("_type")
    if stype not in STATEMENT_TYPES:
        raise InputError(f"unknown in-toto statement type {stype!r}")
    subjects_raw = doc.get("subject")
    if not isinstance(subjects_raw, list) or not subjects_raw:
        raise InputError("in-toto statement: subject must be a non-empty list")
    if len(subjects_raw) > MAX_SUBJECTS:
        raise InputError(f"in-toto statement: more than {MAX_SUBJECTS} subjects")
    subjects = []
    for i, s in enumerate(subjects_raw):
        where = f"subject[{i}]"
        validate_resource_descriptor(s, where, need_digest=True, strict=strict)
        name = s.get("name", "")
        subjects.append(Subject(str(name), validate_digest_set(s["digest"], where, strict=strict)))
    ptype = doc.get("predicateType")
    if not is_uri(ptype):
        raise InputError(f"in-toto statement: predicateType {ptype!r} is not a URI")
    predicate = doc.get("predicate", {})
    if not isinstance(predicate, dict):
        raise InputError("in-toto statement: predicate must be an object")
    assert isinstance(stype, str) and isinstance(ptype, str)
    return Statement(stype, tuple(subjects), ptype, predicate, raw)


def parse_statement(raw: bytes, *, strict: bool = True) -> Statement:
    """Parse and validate a Statement from its exact payload bytes."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"in-toto statement is not JSON: {e}") from None
    return statement_from_dict(doc, raw, strict=strict)


def make_statement(
    subjects: Sequence[tuple[str, Mapping[str, str]]], predicate_type: str, predicate: Mapping[str, Any]
) -> bytes:
    """Serialise a v1 Statement (validated) to compact JSON bytes."""
    doc = {
        "_type": STATEMENT_V1,
        "subject": [{"name": n, "digest": dict(d)} for n, d in subjects],
        "predicateType": predicate_type,
        "predicate": dict(predicate),
    }
    statement_from_dict(doc)
    return json.dumps(doc, separators=(",", ":"), sort_keys=False).encode()
