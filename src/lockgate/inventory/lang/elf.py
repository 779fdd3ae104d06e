"""A minimal, bounds-checked ELF section reader (32/64-bit, either byte order).

Hand-written rather than pyelftools: we need only the section table and section bytes of
an in-memory file, every offset must be checked against hostile input, and a few dozen
lines avoid a dependency on the scan hot path.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from lockgate.inventory.lang._common import ParseError

ELF_MAGIC = b"\x7fELF"
_MAX_SECTIONS = 65535


@dataclass(frozen=True, slots=True)
class Section:
    """One ELF section header."""

    name: str
    type: int
    addr: int
    offset: int
    size: int


@dataclass(frozen=True, slots=True)
class ElfFile:
    """Parsed section table of an ELF image held in memory."""

    data: bytes
    is64: bool
    little: bool
    sections: tuple[Section, ...]

    def section(self, name: str) -> Section | None:
        """The first section called ``name``."""
        for s in self.sections:
            if s.name == name:
                return s
        return None

    def section_bytes(self, sec: Section) -> bytes:
        """Contents of a section (``SHT_NOBITS`` sections are empty)."""
        if sec.type == 8:  # SHT_NOBITS
            return b""
        end = sec.offset + sec.size
        if sec.offset < 0 or end > len(self.data):
            raise ParseError(f"section {sec.name} extends past end of file")
        return self.data[sec.offset : end]

    def read_vaddr(self, addr: int, size: int) -> bytes:
        """Bytes at virtual address ``addr`` (via the section that maps it)."""
        for s in self.sections:
            if s.addr and s.type != 8 and s.addr <= addr and addr + size <= s.addr + s.size:
                off = s.offset + (addr - s.addr)
                if off + size > len(self.data):
                    break
                return self.data[off : off + size]
        raise ParseError(f"virtual address {addr:#x} is not mapped by any section")


def is_elf(data: bytes) -> bool:
    """True when ``data`` starts with the ELF magic."""
    return data[:4] == ELF_MAGIC


def parse_elf(data: bytes) -> ElfFile:
    """Parse the ELF header and section table; ParseError for truncated or corrupt files."""
    if len(data) < 52 or not is_elf(data):
        raise ParseError("not an ELF file or truncated header")
    cls, enc = data[4], data[5]
    if cls not in (1, 2) or enc not in (1, 2):
        raise ParseError("bad ELF class or byte order")
    is64, little = cls == 2, enc == 1
    end = "<" if little else ">"
    try:
        if is64:
            (shoff,) = struct.unpack_from(end + "Q", data, 0x28)
            shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x3A)
        else:
            (shoff,) = struct.unpack_from(end + "I", data, 0x20)
            shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x2E)
    except struct.error:
        raise ParseError("truncated ELF header") from None
    fmt = end + ("IIQQQQIIQQ" if is64 else "IIIIIIIIII")
    need = struct.calcsize(fmt)
    if shoff == 0:
        return ElfFile(data, is64, little, ())
    if shentsize < need or shoff + shentsize > len(data):
        raise ParseError("section header table outside the file")
    raw: list[tuple[int, int, int, int, int]] = []

    def header(i: int) -> tuple[int, ...]:
        pos = shoff + i * shentsize
        if pos + need > len(data):
            raise ParseError("section header table truncated")
        return struct.unpack_from(fmt, data, pos)

    if shnum == 0:  # extended numbering: real count in section 0's sh_size
        shnum = int(header(0)[5])
    if shnum > _MAX_SECTIONS:
        raise ParseError("too many ELF sections")
    if shstrndx == 0xFFFF:
        shstrndx = int(header(0)[6])
    for i in range(shnum):
        h = header(i)
        name_off, typ = int(h[0]), int(h[1])
        addr, offset, size = int(h[3]), int(h[4]), int(h[5])
        raw.append((name_off, typ, addr, offset, size))
    names = b""
    if 0 < shstrndx < len(raw):
        _n, _t, _a, off, size = raw[shstrndx]
        if off + size > len(data):
            raise ParseError("section name table outside the file")
        names = data[off : off + size]
    sections = []
    for name_off, typ, addr, offset, size in raw:
        nm = ""
        if names and name_off < len(names):
            stop = names.find(b"\0", name_off)
            nm = names[name_off : stop if stop >= 0 else len(names)].decode("latin-1")
        sections.append(Section(nm, typ, addr, offset, size))
    return ElfFile(data, is64, little, tuple(sections))
