"""Header blobs from a BerkeleyDB hash database (``var/lib/rpm/Packages``, rpm < 4.16).

Only the on-disk hash format is needed (rpm never used btree for ``Packages``), so
this reads pages directly instead of linking libdb: every hash page's data items are
either stored on the page or, for blobs larger than a page, chained through overflow
pages. BerkeleyDB writes integers in the byte order of the machine that created the
file; the metadata magic tells which.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from lockgate.errors import InputError

HASH_MAGIC = 0x061561
_P_HASH_UNSORTED = 2
_P_OVERFLOW = 7
_P_HASH = 13
_H_KEYDATA = 1
_H_OFFPAGE = 3
_PAGE_HEADER = 26
_MIN_BLOB = 16
"""Smaller values are rpm's bookkeeping records (the next free record number), not headers."""


def is_bdb_hash(data: bytes) -> bool:
    """True when ``data`` starts with a BerkeleyDB hash metadata page."""
    if len(data) < 24:
        return False
    return HASH_MAGIC in (struct.unpack_from("<I", data, 12)[0], struct.unpack_from(">I", data, 12)[0])


def iter_blobs(data: bytes) -> Iterator[bytes]:
    """Yield every value stored in the hash database (rpm header blobs)."""
    if not is_bdb_hash(data):
        raise InputError("not a BerkeleyDB hash database")
    order = "<" if struct.unpack_from("<I", data, 12)[0] == HASH_MAGIC else ">"
    pagesize = struct.unpack_from(order + "I", data, 20)[0]
    if pagesize < 512 or pagesize > 65536 or pagesize & (pagesize - 1):
        raise InputError(f"BerkeleyDB page size {pagesize} is invalid")
    last_pgno = struct.unpack_from(order + "I", data, 32)[0]
    npages = min(last_pgno + 1, len(data) // pagesize)
    if npages < 1:
        raise InputError("BerkeleyDB file is truncated")
    truncated = npages < last_pgno + 1
    u16 = struct.Struct(order + "H")
    u32 = struct.Struct(order + "I")

    def overflow(pgno: int, total: int) -> bytes:
        out = bytearray()
        seen: set[int] = set()
        while pgno and len(out) < total:
            if pgno >= npages or pgno in seen:
                raise InputError(f"BerkeleyDB overflow chain is broken at page {pgno}")
            seen.add(pgno)
            base = pgno * pagesize
            if data[base + 25] != _P_OVERFLOW:
                raise InputError(f"BerkeleyDB page {pgno} is not an overflow page")
            length = u16.unpack_from(data, base + 22)[0]
            if length > pagesize - _PAGE_HEADER:
                raise InputError(f"BerkeleyDB overflow page {pgno} has a bad length")
            out += data[base + _PAGE_HEADER : base + _PAGE_HEADER + length]
            pgno = u32.unpack_from(data, base + 16)[0]
        if len(out) < total:
            raise InputError("BerkeleyDB overflow chain ends early")
        return bytes(out[:total])

    for pgno in range(1, npages):
        base = pgno * pagesize
        page_type = data[base + 25]
        if page_type not in (_P_HASH, _P_HASH_UNSORTED):
            continue
        entries = u16.unpack_from(data, base + 20)[0]
        if _PAGE_HEADER + entries * 2 > pagesize:
            raise InputError(f"BerkeleyDB page {pgno} has too many entries")
        offsets = [u16.unpack_from(data, base + _PAGE_HEADER + 2 * i)[0] for i in range(entries)]
        for i in range(1, entries, 2):  # items alternate key, value
            off = offsets[i]
            end = offsets[i - 1]
            if not (_PAGE_HEADER <= off < end <= pagesize):
                raise InputError(f"BerkeleyDB page {pgno} has a bad item offset")
            item = data[base + off : base + end]
            kind = item[0]
            if kind == _H_OFFPAGE:
                if len(item) < 12:
                    raise InputError(f"BerkeleyDB page {pgno} has a short off-page item")
                first, total = u32.unpack_from(item, 4)[0], u32.unpack_from(item, 8)[0]
                yield overflow(first, total)
            elif kind == _H_KEYDATA and len(item) - 1 >= _MIN_BLOB:
                yield item[1:]
    if truncated:
        raise InputError(f"BerkeleyDB file is truncated ({len(data)} bytes, {last_pgno + 1} pages expected)")
