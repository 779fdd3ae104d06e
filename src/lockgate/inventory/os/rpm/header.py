"""Pure-Python reader of the rpm header blob stored in every rpm database.

Written here because no maintained Python library reads rpmdb blobs without linking
librpm. Layout (rpm's ``headerImport``; all integers big-endian)::

    il:int32  dl:int32  il x {tag:int32 type:uint32 offset:int32 count:uint32}  data[dl]

Only the tags an inventory needs are decoded; every offset and count is bounds-checked,
so hostile blobs raise :class:`~lockgate.errors.InputError` instead of reading past the end.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from lockgate.errors import InputError

# Tag numbers (rpmtag.h)
TAG_NAME = 1000
TAG_VERSION = 1001
TAG_RELEASE = 1002
TAG_EPOCH = 1003
TAG_SIZE = 1009
TAG_VENDOR = 1011
TAG_LICENSE = 1014
TAG_ARCH = 1022
TAG_SOURCERPM = 1044
TAG_MODULARITYLABEL = 5096

# Types (rpmtag.h rpmTagType)
_INT16 = 3
_INT32 = 4
_INT64 = 5
_STRING = 6
_STRING_ARRAY = 8
_I18NSTRING = 9

_WANTED = frozenset(
    {
        TAG_NAME,
        TAG_VERSION,
        TAG_RELEASE,
        TAG_EPOCH,
        TAG_SIZE,
        TAG_VENDOR,
        TAG_LICENSE,
        TAG_ARCH,
        TAG_SOURCERPM,
        TAG_MODULARITYLABEL,
    }
)
_MAX_INDEX = 0xFFFF
_MAX_DATA = 256 * 1024 * 1024
_ENTRY = struct.Struct(">iIiI")


@dataclass(frozen=True, slots=True)
class RpmHeader:
    """The package facts read from one header blob."""

    name: str
    version: str
    release: str
    epoch: int | None
    arch: str
    source_rpm: str
    license: str
    vendor: str
    size: int | None
    modularity_label: str

    @property
    def evr(self) -> str:
        """``[E:]V-R``; the epoch is shown only when it is non-zero, as rpm does."""
        vr = f"{self.version}-{self.release}" if self.release else self.version
        return f"{self.epoch}:{vr}" if self.epoch else vr


def _cstring(data: bytes, offset: int) -> str:
    end = data.find(b"\x00", offset)
    if end < 0:
        raise InputError("rpm header string is not terminated")
    return data[offset:end].decode("utf-8", "replace")


def parse_header(blob: bytes) -> RpmHeader:
    """Decode one header blob; raises :class:`InputError` when it is malformed."""
    if len(blob) < 8:
        raise InputError(f"rpm header blob too short ({len(blob)} bytes)")
    il, dl = struct.unpack_from(">ii", blob, 0)
    if not (0 < il <= _MAX_INDEX) or not (0 <= dl <= _MAX_DATA):
        raise InputError(f"rpm header has implausible sizes (index {il}, data {dl})")
    data_start = 8 + il * 16
    if data_start + dl > len(blob):
        raise InputError("rpm header blob is truncated")
    data = blob[data_start : data_start + dl]
    values: dict[int, str | int] = {}
    for i in range(il):
        tag, typ, offset, count = _ENTRY.unpack_from(blob, 8 + i * 16)
        if tag not in _WANTED or tag in values:
            continue
        if offset < 0 or offset >= dl or count < 1:
            raise InputError(f"rpm header tag {tag} points outside the data")
        if typ in (_STRING, _I18NSTRING, _STRING_ARRAY):
            values[tag] = _cstring(data, offset)
        elif typ == _INT32:
            if offset + 4 > dl:
                raise InputError(f"rpm header tag {tag} points outside the data")
            values[tag] = struct.unpack_from(">I", data, offset)[0]
        elif typ == _INT64:
            if offset + 8 > dl:
                raise InputError(f"rpm header tag {tag} points outside the data")
            values[tag] = struct.unpack_from(">Q", data, offset)[0]
        elif typ == _INT16:
            if offset + 2 > dl:
                raise InputError(f"rpm header tag {tag} points outside the data")
            values[tag] = struct.unpack_from(">H", data, offset)[0]

    def text(tag: int) -> str:
        v = values.get(tag, "")
        return v if isinstance(v, str) else str(v)

    def number(tag: int) -> int | None:
        v = values.get(tag)
        return v if isinstance(v, int) else None

    name = text(TAG_NAME)
    if not name:
        raise InputError("rpm header has no package name")
    return RpmHeader(
        name=name,
        version=text(TAG_VERSION),
        release=text(TAG_RELEASE),
        epoch=number(TAG_EPOCH),
        arch=text(TAG_ARCH),
        source_rpm=text(TAG_SOURCERPM),
        license=text(TAG_LICENSE),
        vendor=text(TAG_VENDOR),
        size=number(TAG_SIZE),
        modularity_label=text(TAG_MODULARITYLABEL),
    )


def split_source_rpm(filename: str) -> tuple[str, str, str]:
    """``util-linux-2.32.1-42.el8_8.src.rpm`` -> (``util-linux``, ``2.32.1``, ``42.el8_8``).

    Returns empty strings when the name does not have the ``N-V-R.src.rpm`` shape.
    """
    base = filename
    for suffix in (".src.rpm", ".nosrc.rpm"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    else:
        return "", "", ""
    name_version, sep, release = base.rpartition("-")
    if not sep:
        return "", "", ""
    name, sep, version = name_version.rpartition("-")
    if not sep or not name:
        return "", "", ""
    return name, version, release
