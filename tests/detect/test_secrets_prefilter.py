"""The keyword prefilter's two engines agree: ``bytes.find`` (small blobs) and YARA (everything else)."""

from __future__ import annotations

import os
from pathlib import Path

from lockgate.detect.secrets.prefilter import SMALL_CALLS, SMALL_CONTENT, KeywordIndex
from lockgate.detect.secrets.rules import BUILTIN_RULES
from tests.detect.samples import false_positives, true_positives
from tests.fixtures.images import ensure_debian_rootfs


def _blobs() -> list[bytes]:
    """Labelled secrets and near-misses, plus real text files from a Debian root file system."""
    blobs = [s.content.encode() if isinstance(s.content, str) else s.content for s in true_positives()]
    blobs += [s.content.encode() if isinstance(s.content, str) else s.content for s in false_positives()]
    blobs += [b.upper() for b in blobs[:40]]  # case-insensitive like YARA's nocase
    root: Path = ensure_debian_rootfs()
    for p in sorted((root / "etc").rglob("*"))[:800]:
        if p.is_file() and not p.is_symlink() and os.access(p, os.R_OK):
            blobs.append(p.read_bytes()[:200_000])
    return blobs


def test_python_and_yara_offsets_agree() -> None:
    index = KeywordIndex(BUILTIN_RULES)
    blobs = _blobs()
    assert len(blobs) > 100
    with_hits = 0
    for blob in blobs:
        py = index.hits_python(blob)
        index._small_calls = SMALL_CALLS  # force the YARA engine for the reference answer
        yr = index.hits(blob)
        assert py == yr, blob[:200]
        with_hits += bool(yr)
    assert with_hits > 50  # the comparison covered real keyword hits, not only empty answers


def test_small_blobs_skip_compiling_yara() -> None:
    index = KeywordIndex(BUILTIN_RULES)
    assert index.hits(b"AWS_SECRET_ACCESS_KEY=abc") != {}
    assert index._compiled is None
    index.hits(b"x" * (SMALL_CONTENT + 1))
    assert index._compiled is not None
