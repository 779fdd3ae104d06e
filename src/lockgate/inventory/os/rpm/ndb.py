"""Header blobs from rpm's own NDB format (``Packages.db``, SUSE since rpm 4.16).

Layout (rpm ``lib/backend/ndb/rpmpkg.c``, little-endian): a 16-byte file header
(``RpmP`` magic, version, generation, number of slot pages) followed by 16-byte slots
(``Slot`` magic, package index, block offset, block count) filling the slot pages; each
slot points at a blob (``BlbS`` magic, package index, generation, length, header blob)
at ``block offset * 16``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from lockgate.errors import InputError

_FILE_MAGIC = b"RpmP"
_SLOT_MAGIC = b"Slot"
_BLOB_MAGIC = b"BlbS"
_PAGE = 4096
_BLOCK = 16
_MAX_SLOT_PAGES = 4096


def is_ndb(data: bytes) -> bool:
    """True when ``data`` starts with the NDB file magic."""
    return data[:4] == _FILE_MAGIC


def iter_blobs(data: bytes) -> Iterator[bytes]:
    """Yield every package header blob referenced by a used slot."""
    if not is_ndb(data) or len(data) < 32:
        raise InputError("not an rpm NDB database")
    version, _generation, slot_pages = struct.unpack_from("<III", data, 4)
    if version != 0:
        raise InputError(f"unsupported rpm NDB version {version}")
    if not 0 < slot_pages <= _MAX_SLOT_PAGES or slot_pages * _PAGE > len(data):
        raise InputError("rpm NDB slot table is truncated")
    for off in range(32, slot_pages * _PAGE, 16):  # the file header occupies the first two slots
        magic = data[off : off + 4]
        if magic != _SLOT_MAGIC:
            raise InputError(f"rpm NDB slot at offset {off} is corrupt")
        pkg_index, blk_offset, blk_count = struct.unpack_from("<III", data, off + 4)
        if pkg_index == 0:
            continue
        start = blk_offset * _BLOCK
        if start + 16 > len(data) or blk_count * _BLOCK > len(data) - start:
            raise InputError(f"rpm NDB package {pkg_index} points outside the file")
        if data[start : start + 4] != _BLOB_MAGIC:
            raise InputError(f"rpm NDB blob of package {pkg_index} is corrupt")
        blob_index, _gen, length = struct.unpack_from("<III", data, start + 4)
        if blob_index != pkg_index or start + 16 + length > len(data):
            raise InputError(f"rpm NDB blob of package {pkg_index} is corrupt")
        yield data[start + 16 : start + 16 + length]
