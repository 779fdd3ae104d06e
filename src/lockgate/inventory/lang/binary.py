"""Packages compiled into executables: Go module build info and cargo-auditable dependency lists.

- Go: the linker writes a 32-byte header starting ``\\xff Go buildinf:`` (in ELF the
  ``.go.buildinfo`` section), followed either by two length-prefixed strings (Go >= 1.18,
  flag bit 2) or by two pointers to Go string headers (older toolchains). The strings are
  the Go version and the module info text (``path``/``mod``/``dep``/``=>``/``build`` lines)
  that ``go version -m`` prints. ``=>`` replacements are applied; modules replaced by a
  local directory are left out (their code is not any published version, as with ``go.mod``).
  The toolchain is reported as module ``stdlib``, the way govulncheck and OSV name it.
- Rust: cargo-auditable stores zlib-compressed JSON in the ``.dep-v0`` ELF section.

``required`` sees only metadata, so the analyser takes executable regular files under a
size cap; ``analyze`` checks the magic bytes first and returns immediately for anything else.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from typing import Any

from lockgate.fs.model import AnalysisResult, FileEntry, FileType
from lockgate.inventory.lang._common import Collector, Format, ParseError, as_dict, as_str, run_format
from lockgate.inventory.lang.elf import ElfFile, is_elf, parse_elf

GO_MAGIC = b"\xff Go buildinf:"
MAX_BINARY_BYTES = 256 * 1024 * 1024
"""Executables are read into memory; bigger ones are skipped (the largest common Go binaries,
e.g. Trivy at 175 MB, fit; peak RSS stays near the file size)."""
MIN_BINARY_BYTES = 512
_NOT_BINARIES = (".sh", ".py", ".pl", ".rb", ".js", ".txt", ".so", ".json", ".h", ".c")
_MACHO = (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce")
_MAX_DEP_JSON = 64 * 1024 * 1024
_LDFLAGS_VERSION = re.compile(
    r"-X\s*=?['\"]?[\w./-]*?(?:main|version|cmd)[\w./-]*\.(?:[vV]ersion|VERSION|gitVersion)=['\"]?([^\s'\"]+)"
)


def _uvarint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ParseError("truncated varint in Go build info")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def _find_aligned(data: bytes, magic: bytes) -> int:
    pos = data.find(magic)
    while pos >= 0 and pos % 16:
        pos = data.find(magic, pos + 1)
    return pos


def read_go_buildinfo(data: bytes, elf: ElfFile | None = None) -> tuple[str, str] | None:
    """(Go version, module info text) from an executable, or None when it has no Go build info."""
    if elf is None and is_elf(data):
        elf = parse_elf(data)
    if elf is not None:
        sec = elf.section(".go.buildinfo")
        if sec is not None:
            blob = elf.section_bytes(sec)
            start = blob.find(GO_MAGIC)
            if start < 0:
                raise ParseError(".go.buildinfo section has no build-info header")
        elif elf.sections:
            return None  # a section table without .go.buildinfo: not built by Go
        else:
            blob = data
            start = _find_aligned(data, GO_MAGIC)
            if start < 0:
                return None
    elif data[:2] == b"MZ" or data[:4] in _MACHO:
        blob = data
        start = _find_aligned(data, GO_MAGIC)
        if start < 0:
            return None
    else:
        return None
    hdr = blob[start : start + 32]
    if len(hdr) < 32:
        raise ParseError("truncated Go build-info header")
    ptr_size, flags = hdr[14], hdr[15]
    if flags & 2:  # Go 1.18+: inline length-prefixed strings
        pos = start + 32
        n, pos = _uvarint(blob, pos)
        version = blob[pos : pos + n]
        pos += n
        n, pos = _uvarint(blob, pos)
        mod = blob[pos : pos + n]
        if pos + n > len(blob):
            raise ParseError("truncated Go build info")
    else:
        if elf is None or ptr_size not in (4, 8):
            raise ParseError("unsupported Go build-info layout")
        order = ">" if flags & 1 else "<"
        pfmt = order + ("Q" if ptr_size == 8 else "I")

        def read_string(ptr_pos: int) -> bytes:
            (addr,) = struct.unpack_from(pfmt, hdr, ptr_pos)
            header = elf.read_vaddr(addr, 2 * ptr_size)
            data_addr, length = struct.unpack(order + ("QQ" if ptr_size == 8 else "II"), header)
            if length > 16 * 1024 * 1024:
                raise ParseError("implausible Go build-info string length")
            return elf.read_vaddr(data_addr, length) if length else b""

        version = read_string(16)
        mod = read_string(16 + ptr_size)
    if len(mod) >= 33 and mod[-17] == 0x0A:
        mod = mod[16:-16]  # sentinel bytes around the module info
    return version.decode("utf-8", "replace"), mod.decode("utf-8", "replace")


def _go_version(v: str) -> str:
    return v.removeprefix("v")


def _stdlib_version(go: str) -> str:
    v = go.split(maxsplit=1)[0] if go.split() else ""
    v = v.removeprefix("go")
    m = re.match(r"^\d+(\.\d+)*((rc|beta)\d+)?", v)
    return m.group(0) if m else ""


def collect_go(go_version: str, modinfo: str, col: Collector) -> None:
    """Turn ``go version -m`` style module info into packages."""
    main: tuple[str, str] | None = None
    deps: list[list[str]] = []
    build: dict[str, str] = {}
    last: list[str] | None = None
    for line in modinfo.splitlines():
        parts = line.split("\t")
        kind = parts[0]
        if kind == "mod" and len(parts) >= 3:
            main = (parts[1], parts[2])
            last = None
        elif kind == "dep" and len(parts) >= 3:
            last = [parts[1], parts[2], parts[3] if len(parts) > 3 else "", "", ""]
            deps.append(last)
        elif kind == "=>" and len(parts) >= 2 and last is not None:
            last[3] = parts[1]
            last[4] = parts[2] if len(parts) > 2 else ""
        elif kind == "build" and len(parts) >= 2:
            k, _, v = parts[1].partition("=")
            build[k] = v
    dep_names: list[str] = []
    for path, version, h1, repl_path, repl_version in deps:
        meta: dict[str, str] = {}
        if h1:
            meta["h1"] = h1
        name, ver = path, version
        if repl_path:
            if repl_path.startswith((".", "/")):
                continue  # built from a local directory: no published module version to match
            meta["replaces"] = f"{path}@{version}"
            name, ver = repl_path, repl_version
        dep_names.append(name)
        col.add("Go", name, _go_version(ver), metadata=meta)
    std = _stdlib_version(go_version)
    if main is not None:
        main_path, main_version = main
        meta = {"main_module": "true"}
        if main_version == "(devel)" or not main_version:
            m = _LDFLAGS_VERSION.search(build.get("-ldflags", ""))
            main_version = m.group(1) if m else ""
            if main_version:
                meta["version_from"] = "ldflags"
        if main_version:
            col.add("Go", main_path, _go_version(main_version), dependencies=[*dep_names, "stdlib"], metadata=meta)
    if std:
        col.add("Go", "stdlib", std, metadata={"go_version": go_version.strip()})


def collect_cargo_auditable(elf: ElfFile, col: Collector) -> bool:
    """Packages from a cargo-auditable ``.dep-v0`` section; False when the binary has none."""
    sec = elf.section(".dep-v0")
    if sec is None:
        return False
    raw = elf.section_bytes(sec)
    d = zlib.decompressobj()
    text = d.decompress(raw, _MAX_DEP_JSON)
    if d.unconsumed_tail:
        raise ParseError("cargo-auditable data decompresses past the size limit")
    try:
        doc: Any = json.loads(text)
    except ValueError:
        raise ParseError("cargo-auditable data is not JSON") from None
    pkgs = [as_dict(p) for p in as_dict(doc).get("packages", []) or []]
    names = [as_str(p.get("name")) for p in pkgs]
    for p in pkgs:
        name, version = as_str(p.get("name")), as_str(p.get("version"))
        if not name or not version:
            continue
        deps = [names[i] for i in p.get("dependencies", []) or [] if isinstance(i, int) and 0 <= i < len(names)]
        meta = {"source": as_str(p.get("source"))} if p.get("source") else {}
        if p.get("kind") == "build":
            meta["kind"] = "build"
        if p.get("root") is True:
            meta["root"] = "true"
        col.add("crates.io", name, version, dependencies=deps, metadata=meta)
    return True


def is_executable_format(content: bytes) -> bool:
    """ELF, PE or Mach-O magic bytes."""
    return content[:4] == b"\x7fELF" or content[:2] == b"MZ" or content[:4] in _MACHO


def parse_binary(content: bytes, col: Collector) -> None:
    """An executable: Go build info and/or cargo-auditable data (nothing for other files)."""
    if not is_executable_format(content):
        return
    elf = parse_elf(content) if is_elf(content) else None
    info = read_go_buildinfo(content, elf)
    if info is not None:
        collect_go(info[0], info[1], col)
    if elf is not None:
        collect_cargo_auditable(elf, col)


FORMATS = (Format("binary", "", lambda p, n: False, parse_binary),)


class BinaryAnalyzer:
    """Executables: Go build info and cargo-auditable sections."""

    name = "lang-binary"
    version = 1
    needs_content = True
    squash = True
    max_size: int | None = MAX_BINARY_BYTES

    def required(self, entry: FileEntry) -> bool:
        """Regular files with an execute bit, between 512 bytes and the size cap."""
        return (
            entry.mode & 0o111 != 0
            and MIN_BINARY_BYTES <= entry.size <= MAX_BINARY_BYTES
            and entry.type is FileType.FILE
            and not entry.path.endswith(_NOT_BINARIES)
            and ".so." not in entry.path[entry.path.rfind("/") :]  # versioned shared libraries
        )

    def analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:
        """Parse the executable; anything that is not one returns an empty result at once."""
        if (
            content[:4] != b"\x7fELF"
            and content[:2] != b"MZ"
            and content[:4]
            not in (
                b"\xcf\xfa\xed\xfe",
                b"\xce\xfa\xed\xfe",
            )
        ):
            return AnalysisResult()
        return run_format(FORMATS[0], content, entry.path, entry.layer)


def analyzer() -> BinaryAnalyzer:
    """The executable analyser."""
    return BinaryAnalyzer()
