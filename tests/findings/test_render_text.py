"""Small text helpers of the renderers against the regular expressions they replaced."""

from __future__ import annotations

import random
import re

from lockgate.findings.render.spdx import _id_safe


def test_spdx_id_text_is_the_regular_expressions() -> None:
    rnd = random.Random(17)
    alphabet = [*"aZ09.-_+/ :@()", "\t", "\n", "é", "€", "𝔘", "\u00a0", "\x00", "İ", "ß"]
    texts = [
        "",
        "GPL-2.0+",
        "BSD-3-clause",
        "public domain",
        *("".join(rnd.choices(alphabet, k=10)) for _ in range(5000)),
    ]
    for text in texts:
        assert _id_safe(text) == re.sub(r"[^A-Za-z0-9.-]", "-", text), repr(text)
