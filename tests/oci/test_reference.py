"""Table-driven tests for image reference parsing, after the distribution reference test suite.

Cases mirror the upstream ``reference_test.go``/``normalize_test.go`` scenarios (domains with
ports, IPv6, uppercase rules, length limit, digests), written here as expected normalised parts.
"""

from __future__ import annotations

import pytest

from lockgate.errors import InputError
from lockgate.oci.reference import Reference

H64 = "f" * 64
D256 = "sha256:" + H64
D512 = "sha512:" + "f" * 128

# text -> (registry, repository, tag, digest)
VALID: list[tuple[str, tuple[str, str, str | None, str | None]]] = [
    ("test_com", ("docker.io", "library/test_com", "latest", None)),
    ("test.com:tag", ("docker.io", "library/test.com", "tag", None)),
    ("test.com:5000", ("docker.io", "library/test.com", "5000", None)),
    ("test.com/repo:tag", ("test.com", "repo", "tag", None)),
    ("test:5000/repo", ("test:5000", "repo", "latest", None)),
    ("test:5000/repo:tag", ("test:5000", "repo", "tag", None)),
    (f"test:5000/repo@{D256}", ("test:5000", "repo", None, D256)),
    (f"test:5000/repo:tag@{D256}", ("test:5000", "repo", "tag", D256)),
    ("lowercase:Uppercase", ("docker.io", "library/lowercase", "Uppercase", None)),
    ("sub-dom1.foo.com/bar/baz/quux", ("sub-dom1.foo.com", "bar/baz/quux", "latest", None)),
    ("sub-dom1.foo.com/bar/baz/quux:some-long-tag", ("sub-dom1.foo.com", "bar/baz/quux", "some-long-tag", None)),
    (
        "b.gcr.io/test.example.com/my-app:test.example.com",
        ("b.gcr.io", "test.example.com/my-app", "test.example.com", None),
    ),
    ("xn--n3h.com/myimage:xn--n3h.com", ("xn--n3h.com", "myimage", "xn--n3h.com", None)),
    (f"xn--7o8h.com/myimage:xn--7o8h.com@{D512}", ("xn--7o8h.com", "myimage", "xn--7o8h.com", D512)),
    ("foo_bar.com:8080", ("docker.io", "library/foo_bar.com", "8080", None)),
    ("foo/foo_bar.com:8080", ("docker.io", "foo/foo_bar.com", "8080", None)),
    ("192.168.1.1", ("docker.io", "library/192.168.1.1", "latest", None)),
    ("192.168.1.1:tag", ("docker.io", "library/192.168.1.1", "tag", None)),
    ("192.168.1.1:5000", ("docker.io", "library/192.168.1.1", "5000", None)),
    ("192.168.1.1/repo", ("192.168.1.1", "repo", "latest", None)),
    ("192.168.1.1:5000/repo", ("192.168.1.1:5000", "repo", "latest", None)),
    ("[2001:db8::1]/repo", ("[2001:db8::1]", "repo", "latest", None)),
    ("[2001:db8:1:2:3:4:5:6]/repo:tag", ("[2001:db8:1:2:3:4:5:6]", "repo", "tag", None)),
    ("[2001:db8::1]:5000/repo", ("[2001:db8::1]:5000", "repo", "latest", None)),
    ("[2001:db8::1]:5000/repo:tag", ("[2001:db8::1]:5000", "repo", "tag", None)),
    (f"[2001:db8::1]:5000/repo@{D256}", ("[2001:db8::1]:5000", "repo", None, D256)),
    (f"[2001:db8::1]:5000/repo:tag@{D256}", ("[2001:db8::1]:5000", "repo", "tag", D256)),
    ("[2001:db8::]:5000/repo", ("[2001:db8::]:5000", "repo", "latest", None)),
    ("[::1]:5000/repo", ("[::1]:5000", "repo", "latest", None)),
    # normalisation (normalize_test.go)
    ("alpine", ("docker.io", "library/alpine", "latest", None)),
    ("ubuntu:24.04", ("docker.io", "library/ubuntu", "24.04", None)),
    ("docker.io/library/ubuntu", ("docker.io", "library/ubuntu", "latest", None)),
    ("docker.io/ubuntu", ("docker.io", "library/ubuntu", "latest", None)),
    ("index.docker.io/foo/bar", ("docker.io", "foo/bar", "latest", None)),
    ("index.docker.io/foo", ("docker.io", "library/foo", "latest", None)),
    ("library/foo", ("docker.io", "library/foo", "latest", None)),
    ("foo/bar", ("docker.io", "foo/bar", "latest", None)),
    ("localhost/foo", ("localhost", "foo", "latest", None)),
    ("localhost:5000/foo:v1", ("localhost:5000", "foo", "v1", None)),
    ("127.0.0.1:5000/a/b/c", ("127.0.0.1:5000", "a/b/c", "latest", None)),
    ("Foo/bar", ("Foo", "bar", "latest", None)),  # an uppercase first component can only be a domain
    ("example.com/a__b/c--d/e-f.g_h", ("example.com", "a__b/c--d/e-f.g_h", "latest", None)),
    ("example.com/a---b", ("example.com", "a---b", "latest", None)),
    ("example.com/repo:_tag", ("example.com", "repo", "_tag", None)),
    ("example.com/repo:" + "t" * 128, ("example.com", "repo", "t" * 128, None)),
]

INVALID: list[tuple[str, str]] = [
    ("", "empty"),
    (":justtag", "invalid reference format"),
    (f"@{D256}", "invalid reference format"),
    ("repo@sha256:" + "f" * 63, "digest"),
    ("repo@sha256:" + "F" * 64, "digest"),
    ("validname@invaliddigest:" + "ecc4c3" * 8, "unsupported digest algorithm"),
    ("Uppercase:tag", "lowercase"),
    ("test:5000/Uppercase/lowercase:tag", "lowercase"),
    ("aa/asdf$$^/aa", "invalid reference format"),
    ("[2001:db8::1]", "invalid reference format"),
    ("[2001:db8::1]:5000", "invalid reference format"),
    ("[2001:db8::1]:tag", "invalid reference format"),
    ("[fe80::1%eth0]:5000/repo", "invalid reference format"),
    ("[fe80::1%@invalidzone]:5000/repo", "invalid reference format"),
    (H64, "hexadecimal"),
    ("example.com/repo:" + "t" * 129, "invalid reference format"),
    ("example.com/repo:-tag", "invalid reference format"),
    ("example.com/repo:.tag", "invalid reference format"),
    ("example.com/repo/", "invalid reference format"),
    ("example.com//repo", "invalid reference format"),
    ("example.com/-repo", "invalid reference format"),
    ("example.com/repo-", "invalid reference format"),
    ("example.com/re..po", "invalid reference format"),
    ("example.com/re___po", "invalid reference format"),
    ("-example.com/repo", "invalid reference format"),
    ("example.com:port/repo", "invalid reference format"),
    ("example.com/repo:tag:tag", "invalid reference format"),
    (f"example.com/repo@{D256}@{D256}", "invalid"),
    ("repo with space", "invalid reference format"),
    ("x" * 5000, "too long"),
]


@pytest.mark.parametrize(("text", "parts"), VALID, ids=[t[:60] for t, _ in VALID])
def test_valid_references(text: str, parts: tuple[str, str, str | None, str | None]) -> None:
    ref = Reference.parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == parts
    # The canonical string parses back to the same reference.
    assert Reference.parse(str(ref)) == ref
    # And so does the familiar form.
    assert Reference.parse(ref.familiar) == ref


@pytest.mark.parametrize(("text", "message"), INVALID, ids=[t[:40] or "empty" for t, _ in INVALID])
def test_invalid_references(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        Reference.parse(text)


def test_name_length_limit() -> None:
    # 255 characters for registry/repository is the upstream maximum.
    domain = "example.com/"
    path_ok = "/".join(["a"] * ((255 - len(domain) + 1) // 2))
    assert len(domain + path_ok) == 255
    ref = Reference.parse(domain + path_ok + ":tag-puts-this-over-max")
    assert len(ref.name) == 255
    with pytest.raises(InputError, match="longer than 255"):
        Reference.parse(domain + path_ok + "b:tag")
    # Normalisation counts: 'a/'*127+'a' is 255 characters but docker.io/ pushes it over.
    with pytest.raises(InputError, match="longer than 255"):
        Reference.parse("a/" * 127 + "a")


def test_canonical_string_and_properties() -> None:
    ref = Reference.parse(f"localhost:5000/team/app:v1@{D256}")
    assert str(ref) == f"localhost:5000/team/app:v1@{D256}"
    assert ref.name == "localhost:5000/team/app"
    assert ref.identifier == D256
    assert str(Reference.parse("alpine")) == "docker.io/library/alpine:latest"
    assert Reference.parse("alpine").familiar == "alpine:latest"
    assert Reference.parse("alpine").identifier == "latest"
    assert str(Reference.parse(f"alpine@{D256}")) == f"docker.io/library/alpine@{D256}"


def test_with_tag_and_digest() -> None:
    ref = Reference.parse(f"example.com/repo:v1@{D256}")
    tagged = ref.with_tag("sha256-" + H64)
    assert tagged.digest is None
    assert tagged.identifier == "sha256-" + H64
    pinned = Reference.parse("example.com/repo:v1").with_digest(D512)
    assert (pinned.tag, pinned.digest, pinned.identifier) == ("v1", D512, D512)
    with pytest.raises(InputError):
        ref.with_tag("bad tag")
    with pytest.raises(InputError):
        ref.with_digest("sha256:abc")


def test_direct_construction_is_validated() -> None:
    with pytest.raises(InputError):
        Reference(registry="example.com", repository="UPPER")
    with pytest.raises(InputError):
        Reference(registry="bad host", repository="repo")
    assert Reference("example.com", "repo", "v1").identifier == "v1"


def test_pathological_input_is_fast() -> None:
    import time

    start = time.monotonic()
    for text in ("a" + "-" * 2000 + "!", "a." * 400 + "-", "a" * 1000 + "/" + "b_" * 400 + "$"):
        with pytest.raises(InputError):
            Reference.parse(text)
    assert time.monotonic() - start < 1.0
