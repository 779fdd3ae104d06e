"""Hostile input: every OS analyser returns a result (packages and/or gaps) and never raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lockgate.fs.model import AnalysisResult, FileEntry
from lockgate.inventory.os.apk import ApkAnalyzer
from lockgate.inventory.os.dpkg import DpkgAnalyzer, OpkgAnalyzer
from lockgate.inventory.os.dpkg_copyright import DpkgCopyrightAnalyzer
from lockgate.inventory.os.release import OSReleaseAnalyzer
from lockgate.inventory.os.rpm.analyzer import RpmAnalyzer, read_rpmdb
from lockgate.inventory.os.rpm.header import parse_header
from lockgate.inventory.os.rpm.manifest import MANIFEST_PATH, RpmManifestAnalyzer
from tests.conftest import CORPUS

TARGETS = [
    (DpkgAnalyzer(), "var/lib/dpkg/status"),
    (DpkgAnalyzer(), "var/lib/dpkg/status.d/base"),
    (OpkgAnalyzer(), "usr/lib/opkg/status"),
    (ApkAnalyzer(), "lib/apk/db/installed"),
    (RpmAnalyzer(), "var/lib/rpm/Packages"),
    (RpmManifestAnalyzer(), MANIFEST_PATH),
    (DpkgCopyrightAnalyzer(), "usr/share/doc/x/copyright"),
    (OSReleaseAnalyzer(), "etc/os-release"),
    (OSReleaseAnalyzer(), "etc/redhat-release"),
]
CONTROL_TEXT = st.text(
    alphabet=st.sampled_from(list("PackgeStuVrsion:Lo \t\n\r#|,()=<>!-+.~01234ab\x00é")), max_size=400
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=600), CONTROL_TEXT.map(str.encode)))
def test_analyzers_never_raise(data: bytes) -> None:
    for analyzer, path in TARGETS:
        result = analyzer.analyze(FileEntry(path, len(data)), data)
        assert isinstance(result, AnalysisResult)
        for pkg in result.packages:
            assert pkg.name and (pkg.version or pkg.ecosystem == "deb")


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=8, max_size=300))
def test_rpm_header_rejects_or_parses(blob: bytes) -> None:
    try:
        parse_header(blob)
    except Exception as exc:  # only lockgate's InputError is allowed
        assert type(exc).__name__ == "InputError", repr(exc)


def _real_headers() -> list[bytes]:
    from lockgate.inventory.os.rpm.sqlite import iter_blobs

    return list(iter_blobs((CORPUS / "pkgdb/rpm/go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite").read_bytes()))[:5]


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_real_headers(data: st.DataObject) -> None:
    blob = bytearray(data.draw(st.sampled_from(_HEADERS)))
    for _ in range(data.draw(st.integers(1, 8))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    try:
        parse_header(bytes(blob[:cut]))
    except Exception as exc:
        assert type(exc).__name__ == "InputError", repr(exc)


_HEADERS = _real_headers()


def test_ndb_slot_pointing_outside_keeps_earlier_packages() -> None:
    data = bytearray((CORPUS / "pkgdb/rpm/go-rpmdb/sle15-bci/Packages.db").read_bytes())
    # slot 10 (offset 32 + 9*16): block offset far past the end of the file
    data[32 + 9 * 16 + 8 : 32 + 9 * 16 + 12] = (0x7FFFFFF0).to_bytes(4, "little")
    pkgs, gaps = read_rpmdb(bytes(data), "var/lib/rpm/Packages.db")
    assert len(pkgs) == 9
    assert gaps and "outside the file" in gaps[0].reason
