"""Registry behaviour the real Debian registry cannot produce, against a local HTTP stand-in.

The stand-in (``standin.py``) is a stdlib HTTP server on 127.0.0.1 scripted per test; it is
used only for: 429/503 with ``Retry-After``, connections dropped mid-blob (resume with
``Range``), lying digests, tags pagination (registry 2.8 ignores ``?n=``) and retry bounds.
"""

from __future__ import annotations

import hashlib
import io
import json
import time

import pytest

from lockgate.errors import IntegrityError, UnavailableError
from lockgate.oci.model import OCI_MANIFEST, Descriptor
from lockgate.oci.registry.client import RegistryClient
from lockgate.oci.registry.links import next_link
from lockgate.oci.registry.options import RegistryOptions
from lockgate.oci.registry.transport import MAX_RETRY_AFTER, Transport, retry_after
from tests.registry.standin import Reply, Seen, standin

MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + "a" * 64, "size": 2},
        "layers": [],
    }
).encode()
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()


def _v2(req: Seen) -> Reply | None:
    if req.path == "/v2/":
        return Reply(200, b"{}")
    return None


def test_retry_after_then_success() -> None:
    script = [
        Reply(429, headers={"Retry-After": "1"}),
        Reply(503),
        Reply(200, MANIFEST, {"Content-Type": OCI_MANIFEST}),
    ]

    def handler(req: Seen) -> Reply:
        return _v2(req) or script.pop(0)

    with standin(handler) as s:
        start = time.monotonic()
        with RegistryClient(s.host, RegistryOptions(retries=3)) as c:
            raw, media_type, digest = c.get_manifest("app", "v1")
        elapsed = time.monotonic() - start
    assert (raw, media_type, digest) == (MANIFEST, OCI_MANIFEST, MANIFEST_DIGEST)
    assert elapsed >= 1.0  # Retry-After: 1 was honoured
    assert [r.path for r in s.requests].count("/v2/app/manifests/v1") == 3


def test_retries_exhausted_and_bounded_wait() -> None:
    waits: list[float] = []

    def handler(req: Seen) -> Reply:
        return _v2(req) or Reply(503, headers={"Retry-After": "3600"})

    with standin(handler) as s:
        c = RegistryClient(s.host, RegistryOptions(retries=2))
        c.transport._sleep = waits.append  # record instead of sleeping an hour
        with pytest.raises(UnavailableError, match=rf"registry {s.host}: manifest app:v1: HTTP 503"):
            c.get_manifest("app", "v1")
        c.close()
    assert waits == [MAX_RETRY_AFTER, MAX_RETRY_AFTER]
    assert retry_after("5") == 5.0
    assert retry_after("junk") is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    when = time.time() + 10
    got = retry_after(time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(when)))
    assert got is not None and 8 <= got <= 10


def test_connection_errors_are_retried_then_unavailable() -> None:
    from tests.fixtures.registry import free_port

    waits: list[float] = []
    t = Transport(f"example.invalid:{free_port()}", RegistryOptions(retries=3, timeout=2))
    t._sleep = waits.append
    t._scheme = "http"
    with pytest.raises(UnavailableError, match=r"example\.invalid"):
        t.send("GET", "/v2/", what="API check")
    assert waits == [0.25, 0.5, 1.0]


def test_registry_coming_up_during_retries() -> None:
    """Connection refused at first: the client backs off and succeeds once the server listens."""
    import threading

    from tests.fixtures.registry import free_port

    port = free_port()
    stop = threading.Event()
    started = threading.Event()

    def serve_later() -> None:
        time.sleep(0.4)

        def handler(req: Seen) -> Reply:
            return Reply(200, b"{}") if req.path == "/v2/" else Reply(200, MANIFEST, {"Content-Type": OCI_MANIFEST})

        with standin(handler, port=port):
            started.set()
            stop.wait(10)

    t = threading.Thread(target=serve_later, daemon=True)
    t.start()
    try:
        with RegistryClient(f"127.0.0.1:{port}", RegistryOptions(retries=4)) as c:
            assert c.get_manifest("app", "v1")[2] == MANIFEST_DIGEST
        assert started.is_set()
    finally:
        stop.set()
        t.join(5)


def test_blob_download_resumes_with_range() -> None:
    data = hashlib.sha512(b"resume").digest() * 4096  # 256 KiB
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    calls = {"n": 0}

    def handler(req: Seen) -> Reply:
        if (r := _v2(req)) is not None:
            return r
        calls["n"] += 1
        rng = req.headers.get("range")
        if rng is None:
            return Reply(200, data, cut_after=100_000)
        start = int(rng.removeprefix("bytes=").rstrip("-"))
        if calls["n"] == 2:
            return Reply(206, data[start:], {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}, 50_000)
        return Reply(206, data[start:], {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})

    with standin(handler) as s, RegistryClient(s.host, RegistryOptions(retries=3)) as c:
        with c.open_blob("app", Descriptor("application/octet-stream", digest, len(data))) as f:
            got = f.read()
        ranges = [r.headers.get("range") for r in s.requests if "/blobs/" in r.path]
    assert got == data
    assert ranges[0] is None
    assert ranges[1] == "bytes=100000-"
    assert ranges[2] == "bytes=150000-"


def test_blob_resume_when_server_ignores_range() -> None:
    data = bytes(range(256)) * 1000
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    first = {"done": False}

    def handler(req: Seen) -> Reply:
        if (r := _v2(req)) is not None:
            return r
        if not first["done"]:
            first["done"] = True
            return Reply(200, data, cut_after=70_000)
        return Reply(200, data)  # full body again: the client must skip what it has

    with (
        standin(handler) as s,
        RegistryClient(s.host, RegistryOptions(retries=2)) as c,
        c.open_blob("app", Descriptor("application/octet-stream", digest, len(data))) as f,
    ):
        assert f.read() == data


def test_lying_registry_is_an_integrity_error() -> None:
    data = b"the real blob"
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    wrong_header = "sha256:" + "b" * 64

    def handler(req: Seen) -> Reply:
        if (r := _v2(req)) is not None:
            return r
        if "/blobs/" in req.path:
            return Reply(200, b"the fake blob")
        if req.path.endswith("/v1"):
            return Reply(200, MANIFEST, {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": wrong_header})
        return Reply(200, MANIFEST + b" ", {"Content-Type": OCI_MANIFEST})

    with standin(handler) as s, RegistryClient(s.host, RegistryOptions(retries=0)) as c:
        with (
            pytest.raises(IntegrityError, match="digest mismatch for blob"),
            c.open_blob("app", Descriptor("application/octet-stream", digest, len(data))) as f,
        ):
            f.read()
        with pytest.raises(IntegrityError, match="manifest app:v1"):
            c.get_manifest("app", "v1")
        with pytest.raises(IntegrityError, match=f"manifest app@{MANIFEST_DIGEST}"):
            c.get_manifest("app", MANIFEST_DIGEST)


def test_tags_pagination_follows_link() -> None:
    tags = [f"t{i}" for i in range(5)]

    def handler(req: Seen) -> Reply:
        if (r := _v2(req)) is not None:
            return r
        from urllib.parse import parse_qs, urlsplit

        q = parse_qs(urlsplit(req.path).query)
        n = int(q.get("n", ["100"])[0])
        last = q.get("last", [""])[0]
        rest = [t for t in tags if t > last]
        page, more = rest[:n], rest[n:]
        headers = {"Content-Type": "application/json"}
        if more:
            headers["Link"] = f'</v2/app/tags/list?n={n}&last={page[-1]}>; rel="next"'
        return Reply(200, json.dumps({"name": "app", "tags": page}).encode(), headers)

    with standin(handler) as s, RegistryClient(s.host, RegistryOptions(retries=0)) as c:
        assert c.tags("app", page_size=1) == tags
        pages = [r.path for r in s.requests if "/tags/list" in r.path]
    assert pages == ["/v2/app/tags/list?n=1"] + [f"/v2/app/tags/list?n=1&last=t{i}" for i in range(4)]


def test_next_link_parsing() -> None:
    base = "https://r.example/v2/_catalog?n=1"
    assert next_link(['</v2/_catalog?last=a&n=1>; rel="next"'], base) == "https://r.example/v2/_catalog?last=a&n=1"
    assert next_link(['<https://r.example/x>; rel="prev", </y>; rel=next'], base) == "https://r.example/y"
    assert next_link(['<https://evil.example/v2/_catalog>; rel="next"'], base) is None
    assert next_link([], base) is None
    assert next_link(['</z>; rel="last"'], base) is None


def test_credentials_stay_with_the_registry() -> None:
    """An upload location on another host gets the data but never the registry credentials."""
    import base64

    expected = "Basic " + base64.b64encode(b"u:p").decode()
    data = b"blob data"
    desc = Descriptor("application/octet-stream", "sha256:" + hashlib.sha256(data).hexdigest(), len(data))

    def storage(req: Seen) -> Reply:
        return Reply(201, headers={"Docker-Content-Digest": desc.digest})

    with standin(storage) as store:

        def registry(req: Seen) -> Reply:
            if req.headers.get("authorization") != expected:
                return Reply(401, headers={"WWW-Authenticate": 'Basic realm="r"'})
            if req.method == "POST":
                return Reply(202, headers={"Location": f"{store.url}/upload/1?state=x"})
            return Reply(200, b"{}")

        with standin(registry) as reg, RegistryClient(reg.host, RegistryOptions(username="u", password="p")) as c:
            c.upload_blob("app", desc, io.BytesIO(data))
    (put,) = store.requests
    assert put.method == "PUT" and put.body == data
    assert put.path == f"/upload/1?state=x&digest={desc.digest.replace(':', '%3A')}"
    assert "authorization" not in put.headers
    assert all(r.headers.get("authorization") in (None, expected) for r in reg.requests)


def test_chunked_upload_resumes_after_a_dropped_patch() -> None:
    """The registry keeps part of a chunk, then the connection drops: the client asks for the
    upload status and sends only the missing bytes (a real registry cannot be made to drop)."""
    data = hashlib.sha512(b"upload").digest() * 2000  # 128 000 bytes
    desc = Descriptor("application/octet-stream", "sha256:" + hashlib.sha256(data).hexdigest(), len(data))
    stored = bytearray()
    state = {"patches": 0}

    def handler(req: Seen) -> Reply:
        loc = {"Location": "/v2/app/blobs/uploads/u1"}
        if req.path == "/v2/":
            return Reply(200, b"{}")
        if req.method == "POST":
            return Reply(202, headers=loc)
        if req.method == "PATCH":
            start = int(req.headers["content-range"].split("-")[0])
            if start != len(stored):
                return Reply(416, headers={"Range": f"0-{len(stored) - 1}"})
            state["patches"] += 1
            if state["patches"] == 2:
                stored.extend(req.body[: len(req.body) // 3])  # kept a third, then the line died
                return Reply(202, b"x" * 100, loc, cut_after=0)
            stored.extend(req.body)
            return Reply(202, headers={**loc, "Range": f"0-{len(stored) - 1}"})
        if req.method == "GET":
            return Reply(204, headers={**loc, "Range": f"0-{len(stored) - 1}"})
        if req.method == "PUT":
            ok = "sha256:" + hashlib.sha256(stored).hexdigest() in req.path.replace("%3A", ":")
            return Reply(201 if ok else 400, b"" if ok else b'{"errors":[{"code":"DIGEST_INVALID"}]}')
        return Reply(500)

    with standin(handler) as s, RegistryClient(s.host, RegistryOptions(retries=2)) as c:
        c.transport._sleep = lambda _: None
        c.upload_blob("app", desc, io.BytesIO(data), chunk_size=40_000, monolithic_max=1000)
        methods = [(r.method, r.headers.get("content-range")) for r in s.requests if r.path != "/v2/"]
    assert bytes(stored) == data
    resumed_from = 40_000 + 40_000 // 3
    assert ("GET", None) in methods
    assert ("PATCH", f"{resumed_from}-79999") in methods


def test_credentials_never_sent_to_plain_http_realm() -> None:
    """A registry naming a remote plain-HTTP token realm does not get our password sent there."""
    from lockgate.errors import AuthError

    realm = {"value": "http://auth.example.invalid/token"}

    def handler(req: Seen) -> Reply:
        return Reply(401, headers={"WWW-Authenticate": f'Bearer realm="{realm["value"]}",service="s"'})

    with standin(handler) as s:
        with (
            RegistryClient(s.host, RegistryOptions(username="u", password="p", retries=0)) as c,
            pytest.raises(AuthError, match="plain HTTP"),
        ):
            c.tags("app")
        realm["value"] = "file:///etc/passwd"
        with RegistryClient(s.host, RegistryOptions(retries=0)) as c, pytest.raises(AuthError, match="token realm"):
            c.tags("app")
