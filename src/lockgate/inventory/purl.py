"""Package URL helpers shared by the OS and language extractors.

Purls come out exactly as packageurl-python's ``PackageURL(...).to_string()`` writes them
(escaping, per-type case rules, qualifier order), but are formatted directly for the common
types: the library normalises every part twice through ``urllib`` (~25 µs a purl) and costs
~3 ms to import. Other types, and input the library would reject, go to the library itself;
tests hold :func:`make_purl` to it on the corpus's real package names and on odd input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packageurl import PackageURL

# Types whose rules are reproduced here; the others (cpan, mlflow, pub, oci, huggingface, ...) have
# special cases, and packageurl-python compares some types by substring ("cpan", "mlflow").
_DIRECT_TYPES = frozenset(
    {"alpm", "apk", "bitbucket", "bitnami", "cargo", "cocoapods", "composer", "conan", "conda", "cran", "deb"}
    | {"gem", "generic", "github", "gitlab", "golang", "hackage", "hex", "luarocks", "maven", "npm", "nuget"}
    | {"opkg", "pypi", "qpkg", "rpm", "swift"}
)
_LOWER_NAMESPACE = frozenset(
    {"bitbucket", "github", "pypi", "gitlab", "composer", "luarocks", "qpkg", "alpm", "apk", "hex"}
)
_LOWER_NAME = frozenset(  # (and oci, pub: not direct types)
    {"bitbucket", "github", "pypi", "gitlab", "composer", "luarocks", "npm", "alpm", "apk", "bitnami", "hex"}
)
_DIGITS = "0123456789"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_KEY_CHARS = _LETTERS + _DIGITS + ".-_"
_QUOTE_SAFE = _LETTERS + _DIGITS + "_.-~/"  # urllib.parse.quote's unreserved characters and its default safe "/"


def _quote(text: str) -> str:
    """packageurl's ``quote``: percent-encode UTF-8 except unreserved characters, ``/`` and ``:``."""
    if not text.strip(_QUOTE_SAFE):  # (all characters in the set)
        return text
    if not text.strip(_QUOTE_SAFE + "+:"):
        return text.replace("+", "%2B")
    from urllib.parse import quote

    return quote(text.encode("utf-8")).replace("%3A", ":")


def _namespace(namespace: str | None, ptype: str, encode: bool) -> str | None:
    if not namespace:
        return None
    text = namespace.strip().strip("/")
    if ptype in _LOWER_NAMESPACE:
        text = text.lower()
    segments = [_quote(seg) if encode else seg for seg in text.split("/") if seg.strip()]
    return "/".join(segments) or None


def _name(name: str, ptype: str, encode: bool) -> str:
    text = (_quote(name) if encode else name).strip().strip("/")
    if ptype in _LOWER_NAME:
        text = text.lower()
    if ptype in ("pypi", "hackage"):
        text = text.replace("_", "-")
    return text


def _qualifiers(qualifiers: Mapping[str, str], encode: bool) -> dict[str, str] | None:
    """The normalised map, ``None`` where the library raises (a malformed key)."""
    found = {
        k.strip().lower(): _quote(v) if encode else v
        for k, v in qualifiers.items()
        if k and k.strip() and v and v.strip()
    }
    for key in found:
        if key.strip(_KEY_CHARS) or key[0] in _DIGITS:  # (empty keys cannot occur: stripped keys are non-empty)
            return None
    return dict(sorted(found.items()))


def _subpath(subpath: str | None, encode: bool) -> str | None:
    if not subpath:
        return None
    segments = [_quote(s) if encode else s for s in subpath.split("/") if s.strip() and s not in (".", "..")]
    return "/".join(segments) or None


_PLAIN = _LETTERS + _DIGITS + "._~-_+:"  # characters both passes leave alone but for escaping "+"
_KEY_START = "abcdefghijklmnopqrstuvwxyz"
_PLAIN_KEY = _KEY_START + _DIGITS + ".-_"


def _plain_purl(type_: str, name: str, version: str, namespace: str, qualifiers: dict[str, str]) -> str | None:
    """The purl for plain parts (no white space, ``%``, empty segments or unusual keys), else ``None``.

    For such parts stripping changes nothing and escaping only turns ``+`` into ``%2B``, so the
    two passes reduce to the per-type case rules.
    """
    if not name or name.strip(_PLAIN) or version.strip(_PLAIN) or namespace.strip(_PLAIN + "/"):
        return None
    if namespace and (namespace[0] == "/" or namespace[-1] == "/" or "//" in namespace):
        return None
    pairs = sorted(qualifiers.items())
    for key, value in pairs:
        if not key or key.strip(_PLAIN_KEY) or key[0] not in _KEY_START or value.strip(_PLAIN):
            return None
    if type_ in _LOWER_NAME:
        name = name.lower()
    if type_ in ("pypi", "hackage"):
        name = name.replace("_", "-")
    if "+" in name:
        name = name.replace("+", "%2B").lower() if type_ in _LOWER_NAME else name.replace("+", "%2B")
    if type_ in _LOWER_NAMESPACE:
        namespace = namespace.lower()
    text = f"pkg:{type_}/{namespace.replace('+', '%2B')}/{name}" if namespace else f"pkg:{type_}/{name}"
    if version:
        text += "@" + version.replace("+", "%2B")
    if pairs:
        text += "?" + "&".join([f"{k}={v.replace('+', '%2B')}" for k, v in pairs])
    return text


def _library_purl(
    type_: str,
    namespace: str | None,
    name: str,
    version: str | None,
    qualifiers: dict[str, str] | None,
    subpath: str | None,
) -> str:
    from packageurl import PackageURL

    return str(PackageURL(type_, namespace, name, version, qualifiers, subpath).to_string())


def make_purl(
    type_: str,
    name: str,
    version: str = "",
    *,
    namespace: str = "",
    qualifiers: Mapping[str, str] | None = None,
    subpath: str = "",
) -> str:
    """Return the canonical purl string; empty qualifier values are dropped.

    Exactly ``PackageURL(type_, namespace or None, name, version or None, qualifiers or None,
    subpath or None).to_string()``: the library builds the object normalising each part without
    escaping, then normalises again with escaping; both passes are reproduced here.
    """
    quals = {k: v for k, v in (qualifiers or {}).items() if v}
    if type_ in _DIRECT_TYPES and not subpath:
        plain = _plain_purl(type_, name, version, namespace, quals)
        if plain is not None:
            return plain
    if type_ not in _DIRECT_TYPES or not name:
        return _library_purl(type_, namespace or None, name, version or None, quals or None, subpath or None)
    # The object's parts (normalised, not escaped) ...
    ns0 = _namespace(namespace, type_, encode=False)
    name0 = _name(name, type_, encode=False)
    version0 = version.strip() if version else ""
    quals0 = _qualifiers(quals, encode=False) if quals else {}
    if not name0 or quals0 is None:  # the library raises (or fails to join a missing name)
        return _library_purl(type_, namespace or None, name, version or None, quals or None, subpath or None)
    # ... and ``to_string``'s second pass over them, escaping.
    parts = ["pkg:", type_, "/"]
    ns1 = _namespace(ns0, type_, encode=True)
    if ns1:
        parts += (ns1, "/")
    parts.append(_name(name0, type_, encode=True))
    if version0:
        version1 = _quote(version0.strip())
        if version1:
            parts += ("@", version1)
    quals1 = _qualifiers(quals0, encode=True) if quals0 else None
    if quals1:
        parts += ("?", "&".join(f"{k}={v}" for k, v in quals1.items()))
    subpath1 = _subpath(_subpath(subpath, encode=False), encode=True)
    if subpath1:
        parts += ("#", subpath1)
    return "".join(parts)


def split_epoch(version: str) -> tuple[str, str]:
    """Split ``E:V-R`` into (epoch, rest); epoch is ``""`` when absent."""
    head, sep, rest = version.partition(":")
    if sep and head.isdigit():
        return head, rest
    return "", version


def os_purl(
    ecosystem: str,
    name: str,
    version: str,
    *,
    namespace: str,
    arch: str = "",
    distro: str = "",
    upstream: str = "",
) -> str:
    """Purl for an OS package, Trivy style: the epoch becomes a qualifier.

    ``ecosystem`` is the package manager (``deb``, ``apk``, ``rpm``, ``opkg``);
    ``namespace`` the distro family (``debian``, ``ubuntu``, ``alpine``, ``redhat`` ...).
    """
    epoch, rest = split_epoch(version)
    quals = {"arch": arch, "distro": distro, "epoch": epoch, "upstream": upstream}
    return make_purl(ecosystem, name, rest, namespace=namespace, qualifiers=quals)


def parse_purl(text: str) -> PackageURL:
    """Parse a purl; raises ``ValueError`` for malformed text."""
    from packageurl import PackageURL

    return PackageURL.from_string(text)
