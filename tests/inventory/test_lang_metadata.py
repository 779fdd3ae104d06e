"""Core-metadata headers: the hand-written reader equals ``email.parser`` (compat32) on real and odd files.

``email`` replaces every non-ASCII byte with U+FFFD where lockgate decodes UTF-8, so values are
compared with each run of non-ASCII characters folded to one ``?`` on both sides.
"""

from __future__ import annotations

import re
import sys
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from lockgate.inventory.lang.python import metadata_headers

KEYS = ("Name", "Version", "License", "License-Expression", "Classifier", "Requires-Dist", "Summary", "Author")


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _email(content: bytes) -> dict[str, list[str]]:
    msg = BytesHeaderParser(policy=compat32).parsebytes(content)
    return {k.lower(): [_NON_ASCII.sub("?", str(v)) for v in msg.get_all(k) or []] for k in KEYS}


def _ours(content: bytes) -> dict[str, list[str]]:
    h = metadata_headers(content)
    return {k.lower(): [_NON_ASCII.sub("?", v) for v in h.get(k.lower(), [])] for k in KEYS}


def test_utf8_values_are_decoded() -> None:
    h = metadata_headers("Name: a\nVersion: 1\nLicense: Café License ©\nAuthor: bad \xff byte\n".encode("latin-1"))
    assert h["license"] == ["Caf\ufffd License \ufffd"]  # not UTF-8: replaced, never a lone surrogate
    assert h["author"] == ["bad \ufffd byte"]
    h = metadata_headers("Name: a\nLicense: Café License ©\n".encode())
    assert h["license"] == ["Café License ©"]


def _real_files() -> list[Path]:
    roots = {Path(p) for p in sys.path if p.endswith("site-packages")} | {Path("/usr/lib/python3/dist-packages")}
    files: list[Path] = []
    for root in sorted(roots):
        if root.is_dir():
            files += sorted(root.glob("*.dist-info/METADATA")) + sorted(root.glob("*.egg-info/PKG-INFO"))
    return files


def test_equal_on_every_installed_distribution() -> None:
    files = _real_files()
    assert len(files) > 50
    for path in files:
        data = path.read_bytes()
        assert _ours(data) == _email(data), path


ODD = [
    b"Name: a\r\nVersion: 1\r\nLicense: MIT\r\n and more\r\n\r\nbody",
    b"Name: a\rVersion: 1\rLicense: x\r\tcont\r\rbody: not a header",
    b"From someone\nName: a\nVersion: 1\n",
    b" leading continuation\nName: a\nVersion: 2\n",
    b"Name: a\n: no name\nVersion: 3\nbody line without colon\nLicense: hidden\n",
    b"Name: a\nVersion: 1\nClassifier: one\nClassifier: two\nname: dup\n",
    b"Name:a\nVersion:\t\t1.0  \nLicense: caf\xc3\xa9 \xff\n",
    b"Name: a\nVersion: 1\x0bLicense: vertical tab is not a line break\n",
    b"Name: a",
    b"",
]


def test_equal_on_odd_files() -> None:
    for data in ODD:
        assert _ours(data) == _email(data), data


_line = st.one_of(
    st.sampled_from([f"{k}: " for k in KEYS] + ["From x", " ", "\t", ":", "X-Y:", "no colon", ""]),
    st.text(alphabet=st.sampled_from("ab :\t-é\x0b"), max_size=6),
)


@given(st.lists(st.tuples(_line, st.text(alphabet="abc é:", max_size=8), st.sampled_from(["\n", "\r\n", "\r"]))))
def test_equal_on_generated_files(lines: list[tuple[str, str, str]]) -> None:
    data = "".join(a + b + c for a, b, c in lines).encode("utf-8")
    assert _ours(data) == _email(data)
