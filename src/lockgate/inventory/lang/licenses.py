"""Map declared licence names (Python classifiers, free-text fields) to SPDX identifiers.

A small hand-kept table: the common names seen in package metadata. Anything not in the
table is kept as declared (trimmed), so nothing a package says about its licence is lost.
Bare "BSD"/"GPL"/"LGPL" map the way Trivy maps them (BSD-3-Clause, GPL-2.0-or-later,
LGPL-2.0-or-later), so reports compare with the peer; the OS extractors share this table.
"""

from __future__ import annotations

import re

_CLASSIFIERS = {
    "MIT License": "MIT",
    "MIT No Attribution License (MIT-0)": "MIT-0",
    "Apache Software License": "Apache-2.0",
    "BSD License": "BSD-3-Clause",
    "ISC License (ISCL)": "ISC",
    "Mozilla Public License 1.1 (MPL 1.1)": "MPL-1.1",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "Python Software Foundation License": "PSF-2.0",
    "GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0-only",
    "GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.0-or-later",
    "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "GNU Lesser General Public License v3 or later (LGPLv3+)": "LGPL-3.0-or-later",
    "GNU Library or Lesser General Public License (LGPL)": "LGPL-2.0-or-later",
    "GNU Affero General Public License v3": "AGPL-3.0-only",
    "GNU Affero General Public License v3 or later (AGPLv3+)": "AGPL-3.0-or-later",
    "Eclipse Public License 1.0 (EPL-1.0)": "EPL-1.0",
    "Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
    "The Unlicense (Unlicense)": "Unlicense",
    "Zope Public License": "ZPL-2.1",
    "Academic Free License (AFL)": "AFL-3.0",
    "Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
    "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
    "zlib/libpng License": "Zlib",
}

_NAMES = {
    "mit": "MIT",
    "mit license": "MIT",
    "the mit license": "MIT",
    "bsd": "BSD-3-Clause",
    "bsd license": "BSD-3-Clause",
    "new bsd license": "BSD-3-Clause",
    "3-clause bsd license": "BSD-3-Clause",
    "bsd-3-clause": "BSD-3-Clause",
    "bsd-2-clause": "BSD-2-Clause",
    "apache 2.0": "Apache-2.0",
    "apache-2.0": "Apache-2.0",
    "apache 2": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache license, version 2.0": "Apache-2.0",
    "apache software license": "Apache-2.0",
    "asl 2.0": "Apache-2.0",
    "isc": "ISC",
    "isc license": "ISC",
    "mpl-2.0": "MPL-2.0",
    "mpl 2.0": "MPL-2.0",
    "psf": "PSF-2.0",
    "psf license": "PSF-2.0",
    "python software foundation license": "PSF-2.0",
    "lgpl": "LGPL-2.0-or-later",
    "gpl": "GPL-2.0-or-later",
    "gplv2": "GPL-2.0-only",
    "gplv2+": "GPL-2.0-or-later",
    "gplv3": "GPL-3.0-only",
    "gplv3+": "GPL-3.0-or-later",
    "unlicense": "Unlicense",
    "public domain": "LicenseRef-public-domain",
    "eclipse public license v2.0": "EPL-2.0",
    "zlib": "Zlib",
}

_UNKNOWN = {"", "unknown", "none", "n/a", "license", "see license", "see license file", "other/proprietary license"}


def from_classifier(classifier: str) -> str:
    """SPDX id for a ``License :: ...`` trove classifier; ``""`` when it names no licence."""
    parts = [p.strip() for p in classifier.split("::")]
    if len(parts) < 2 or parts[0] != "License":
        return ""
    last = parts[-1]
    if last in ("OSI Approved", "Other/Proprietary License", "Public Domain", "DFSG approved", "Freely Distributable"):
        return "LicenseRef-public-domain" if last == "Public Domain" else ""
    return _CLASSIFIERS.get(last, last)


def normalize(text: str) -> str:
    """A declared licence string as SPDX where we know the name, else the text trimmed; ``""`` if empty."""
    t = re.sub(r"\s+", " ", text).strip()
    if len(t) > 200 or "\n" in text.strip():
        return ""  # a whole licence text pasted into the field, not a name
    if t.lower() in _UNKNOWN:
        return ""
    return _NAMES.get(t.lower(), t)
