"""OCI Distribution API calls against one registry: manifests, blobs, uploads, tags, catalog, referrers.

Everything is verified on the way in: manifests fetched by digest must hash to it, a
``Docker-Content-Digest`` header must match the bytes served, and blobs stream through
:class:`~lockgate.oci.image.VerifyingReader`. Blob downloads resume with ``Range`` after a
dropped connection. Failures become lockgate errors naming registry and repository.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, BinaryIO, NoReturn

import httpx

from lockgate.errors import (
    AuthError,
    InputError,
    IntegrityError,
    LimitExceededError,
    LockgateError,
    NotFoundError,
    UnavailableError,
)
from lockgate.oci.image import VerifyingReader
from lockgate.oci.model import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    sniff_media_type,
    validate_digest,
    verify_bytes,
)
from lockgate.oci.reference import validate_reference_digest, validate_repository, validate_tag
from lockgate.oci.registry import credentials as creds_mod
from lockgate.oci.registry.auth import Authenticator
from lockgate.oci.registry.links import next_link
from lockgate.oci.registry.options import RegistryOptions
from lockgate.oci.registry.transport import Transport, backoff, describe_transport_error

log = logging.getLogger(__name__)

MANIFEST_ACCEPT = ", ".join((OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST))
DEFAULT_MAX_MANIFEST = 4 * 1024 * 1024
MONOLITHIC_MAX = 16 * 1024 * 1024
"""Blobs up to this size are uploaded with one PUT; larger ones in PATCH chunks."""
CHUNK_SIZE = 16 * 1024 * 1024
MAX_PAGES = 10_000
MAX_ERROR_BODY = 64 * 1024
MAX_LIST_PAGE = 16 * 1024 * 1024
"""Largest tags/catalog page we parse."""


def _media_type(resp: httpx.Response) -> str:
    return str(resp.headers.get("Content-Type", "")).split(";", 1)[0].strip()


def referrers_tag(digest: str) -> str:
    """The fallback tag for referrers of ``digest`` (``sha256:<hex>`` -> ``sha256-<hex>``)."""
    algo, _, hexpart = validate_digest(digest).partition(":")
    return f"{algo[:32]}-{hexpart[:64]}"


def _repo(repo: str) -> str:
    return validate_repository(repo)


def _ref(reference: str) -> str:
    """A tag or digest, validated before it goes into a URL path."""
    return validate_reference_digest(reference) if ":" in reference else validate_tag(reference)


def _read_capped(resp: httpx.Response, limit: int, what: str) -> bytes:
    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        resp.close()
        raise LimitExceededError(f"{what} is {declared} bytes (limit {limit})")
    buf = bytearray()
    try:
        for chunk in resp.iter_bytes():
            buf += chunk
            if len(buf) > limit:
                raise LimitExceededError(f"{what} is larger than {limit} bytes")
    except httpx.TransportError as e:
        raise UnavailableError(f"reading {what}: {describe_transport_error(e)}") from e
    finally:
        resp.close()
    return bytes(buf)


class RegistryClient:
    """Distribution API client for one registry host (``localhost:5000``, ``docker.io``, ...)."""

    def __init__(self, registry: str, options: RegistryOptions | None = None) -> None:
        self.registry = registry
        self.options = options or RegistryOptions()
        self.transport = Transport(registry, self.options)
        opts = self.options
        self.auth = Authenticator(self.transport, lambda: creds_mod.lookup(registry, opts))

    # -- plumbing ------------------------------------------------------------------------
    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    @staticmethod
    def scopes(repo: str, *, push: bool = False, extra: Sequence[str] = ()) -> tuple[str, ...]:
        """Token scopes for pulling (or pushing to) ``repo``, plus any ``extra`` scopes."""
        return (f"repository:{repo}:{'pull,push' if push else 'pull'}", *extra)

    def request(
        self,
        method: str,
        path: str,
        *,
        scopes: tuple[str, ...],
        what: str,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        params: Mapping[str, str | list[str]] | None = None,
        stream: bool = False,
        retries: int | None = None,
    ) -> httpx.Response:
        """Send one authenticated request (answering a 401 challenge once); no status checks.

        Credentials go only to the registry itself: an absolute URL on another host (an
        upload location handed out by the registry) is called without them.
        """
        if path.startswith(("http://", "https://")) and not self._same_origin(path):
            return self.transport.send(
                method, path, headers=headers, content=content, params=params, stream=stream, what=what, retries=retries
            )
        hdrs = {**self.auth.headers(scopes), **(headers or {})}
        resp = self.transport.send(
            method, path, headers=hdrs, content=content, params=params, stream=stream, what=what, retries=retries
        )
        if resp.status_code == 401:
            resp.read()
            resp.close()
            hdrs.update(self.auth.answer(resp, scopes, what))
            resp = self.transport.send(
                method, path, headers=hdrs, content=content, params=params, stream=stream, what=what, retries=retries
            )
            if resp.status_code == 401:
                resp.close()
                raise AuthError(f"registry {self.registry} denied {what}: authentication failed")
        return resp

    def _same_origin(self, url: str) -> bool:
        target, base = httpx.URL(url), httpx.URL(self.transport.base_url)
        return (target.host, target.port) == (base.host, base.port)

    def fail(self, resp: httpx.Response, what: str) -> NoReturn:
        """Raise the lockgate error that matches an unexpected response."""
        raise self.error(resp, what)

    def error(self, resp: httpx.Response, what: str) -> LockgateError:
        """The lockgate error that matches an unexpected response (the body is consumed)."""
        status = resp.status_code
        code, message = "", ""
        try:
            body = b""
            for chunk in resp.iter_bytes():
                body += chunk
                if len(body) > MAX_ERROR_BODY:
                    break
            errors = json.loads(body).get("errors") or []
            if errors and isinstance(errors[0], dict):
                code = str(errors[0].get("code") or "")
                message = str(errors[0].get("message") or "")
        except (ValueError, AttributeError, httpx.HTTPError, httpx.StreamError):
            pass
        finally:
            resp.close()
        detail = f" ({code}: {message})" if code or message else ""
        where = f"registry {self.registry}: {what}"
        if status in (401, 403):
            return AuthError(f"{where}: access denied (HTTP {status}){detail}")
        if status == 404:
            return NotFoundError(f"{where}: not found{detail}")
        if code in ("DIGEST_INVALID", "SIZE_INVALID"):
            return IntegrityError(f"{where}: rejected{detail}")
        if status == 429 or status >= 500:
            return UnavailableError(f"{where}: HTTP {status}{detail}")
        return InputError(f"{where}: HTTP {status}{detail}")

    def _pages(self, path: str, key: str, scopes: tuple[str, ...], what: str, page_size: int | None) -> list[str]:
        params: dict[str, str | list[str]] | None = {"n": str(page_size)} if page_size else None
        out: list[str] = []
        url: str | None = path
        for _ in range(MAX_PAGES):
            if url is None:
                return out
            resp = self.request("GET", url, scopes=scopes, what=what, params=params, stream=True)
            if resp.status_code != 200:
                self.fail(resp, what)
            body = _read_capped(resp, MAX_LIST_PAGE, what)
            try:
                items = json.loads(body).get(key) or []
            except (ValueError, AttributeError):
                raise InputError(f"registry {self.registry}: {what}: invalid JSON") from None
            if not isinstance(items, list):
                raise InputError(f"registry {self.registry}: {what}: '{key}' is not a list")
            out.extend(str(i) for i in items)
            url = next_link(resp.headers.get_list("Link"), str(resp.url))
            params = None  # the next link carries its own query
        raise LimitExceededError(f"registry {self.registry}: {what}: more than {MAX_PAGES} pages")

    # -- discovery -----------------------------------------------------------------------
    def ping(self) -> None:
        """Check that the registry speaks the v2 API (authenticating if it asks)."""
        resp = self.request("GET", "/v2/", scopes=(), what="API check")
        if resp.status_code != 200:
            self.fail(resp, "API check")
        resp.close()

    def tags(self, repo: str, page_size: int | None = None) -> list[str]:
        """All tags of ``repo``, following ``Link`` pagination (``page_size`` sets ``?n=``)."""
        _repo(repo)
        return self._pages(f"/v2/{repo}/tags/list", "tags", self.scopes(repo), f"tags of {repo}", page_size)

    def catalog(self, page_size: int | None = None) -> list[str]:
        """All repository names the registry lists (where the catalog is allowed)."""
        return self._pages("/v2/_catalog", "repositories", ("registry:catalog:*",), "catalog", page_size)

    # -- manifests -----------------------------------------------------------------------
    def head_manifest(self, repo: str, reference: str) -> Descriptor | None:
        """Descriptor of a manifest by tag or digest, or ``None`` when it does not exist."""
        _repo(repo)
        _ref(reference)
        what = f"manifest {repo}:{reference}" if ":" not in reference else f"manifest {repo}@{reference}"
        resp = self.request(
            "HEAD", f"/v2/{repo}/manifests/{reference}", scopes=self.scopes(repo), what=what,
            headers={"Accept": MANIFEST_ACCEPT},
        )  # fmt: skip
        if resp.status_code == 404:
            resp.close()
            return None
        if resp.status_code != 200:
            self.fail(resp, what)
        resp.close()
        digest = resp.headers.get("Docker-Content-Digest", "")
        length = resp.headers.get("Content-Length", "")
        if not digest or not length.isdigit():
            raw, media_type, digest = self.get_manifest(repo, reference)
            return Descriptor(media_type=media_type, digest=digest, size=len(raw))
        try:
            validate_digest(digest)
        except InputError:
            raise IntegrityError(f"registry {self.registry}: {what}: invalid digest header {digest!r}") from None
        if ":" in reference and digest != reference:
            raise IntegrityError(f"registry {self.registry}: {what}: served digest {digest}")
        return Descriptor(media_type=_media_type(resp), digest=digest, size=int(length))

    def get_manifest(
        self, repo: str, reference: str, *, max_bytes: int = DEFAULT_MAX_MANIFEST
    ) -> tuple[bytes, str, str]:
        """``(raw, media_type, digest)`` of a manifest or index by tag or digest, verified."""
        _repo(repo)
        _ref(reference)
        by_digest = ":" in reference
        what = f"manifest {repo}@{reference}" if by_digest else f"manifest {repo}:{reference}"
        resp = self.request(
            "GET", f"/v2/{repo}/manifests/{reference}", scopes=self.scopes(repo), what=what,
            headers={"Accept": MANIFEST_ACCEPT}, stream=True,
        )  # fmt: skip
        if resp.status_code != 200:
            self.fail(resp, what)
        raw = _read_capped(resp, max_bytes, what)
        media_type = sniff_media_type(raw, _media_type(resp))
        served = resp.headers.get("Docker-Content-Digest", "")
        if by_digest:
            verify_bytes(raw, reference, f"{what} from {self.registry}")
            digest = reference
        else:
            digest = "sha256:" + hashlib.sha256(raw).hexdigest()
            if served:
                try:
                    verify_bytes(raw, served, f"{what} from {self.registry}")
                except InputError:
                    raise IntegrityError(f"registry {self.registry}: {what}: invalid digest header") from None
                digest = served
        return raw, media_type, digest

    def put_manifest(self, repo: str, raw: bytes, media_type: str, reference: str | None = None) -> str:
        """Upload a manifest under a tag (or by its digest when ``reference`` is None); return its digest."""
        return self._put_manifest(repo, raw, media_type, reference)[0]

    def _put_manifest(self, repo: str, raw: bytes, media_type: str, reference: str | None) -> tuple[str, httpx.Headers]:
        _repo(repo)
        if reference is not None:
            _ref(reference)
        digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        if reference is not None and ":" in reference:
            verify_bytes(raw, reference, f"manifest for {repo}@{reference}")
            digest = reference
        ref = reference or digest
        what = f"push of manifest {repo}:{ref}" if ":" not in ref else f"push of manifest {repo}@{ref}"
        resp = self.request(
            "PUT", f"/v2/{repo}/manifests/{ref}", scopes=self.scopes(repo, push=True), what=what,
            headers={"Content-Type": media_type}, content=raw,
        )  # fmt: skip
        if resp.status_code not in (200, 201, 202):
            self.fail(resp, what)
        resp.close()
        served = resp.headers.get("Docker-Content-Digest")
        if served and served != digest and served.startswith("sha256:"):
            raise IntegrityError(f"registry {self.registry}: {what}: stored as {served}, expected {digest}")
        return digest, resp.headers

    def delete_manifest(self, repo: str, digest: str) -> None:
        """Delete a manifest by digest (the registry must allow deletes)."""
        _repo(repo)
        what = f"delete of manifest {repo}@{validate_digest(digest)}"
        resp = self.request("DELETE", f"/v2/{repo}/manifests/{digest}", scopes=self.scopes(repo, push=True), what=what)
        if resp.status_code not in (200, 202):
            self.fail(resp, what)
        resp.close()

    # -- blobs ---------------------------------------------------------------------------
    def has_blob(self, repo: str, digest: str) -> bool:
        """True when ``repo`` has the blob (HEAD)."""
        _repo(repo)
        what = f"blob {repo}@{validate_digest(digest)}"
        resp = self.request("HEAD", f"/v2/{repo}/blobs/{digest}", scopes=self.scopes(repo), what=what)
        resp.close()
        if resp.status_code == 200:
            return True
        if resp.status_code == 404:
            return False
        raise self.error(resp, what)

    def open_blob(self, repo: str, desc: Descriptor) -> BinaryIO:
        """Stream a blob; verified against ``desc`` as it is read, resumed with ``Range`` on drops."""
        _repo(repo)
        what = f"blob {repo}@{validate_digest(desc.digest)}"
        raw = _BlobStream(self, repo, desc.digest, what)
        return io.BufferedReader(VerifyingReader(raw, desc.digest, desc.size, f"{what} from {self.registry}"))  # type: ignore[arg-type]

    def mount_blob(self, repo: str, digest: str, from_repo: str) -> bool:
        """Ask the registry to link ``digest`` from ``from_repo`` into ``repo``; False when it will not."""
        _repo(repo)
        _repo(from_repo)
        what = f"mount of blob {digest} from {from_repo} into {repo}"
        scopes = self.scopes(repo, push=True, extra=(f"repository:{from_repo}:pull",))
        resp = self.request(
            "POST", f"/v2/{repo}/blobs/uploads/", scopes=scopes, what=what,
            params={"mount": validate_digest(digest), "from": from_repo},
        )  # fmt: skip
        resp.close()
        if resp.status_code == 201:
            return True
        if resp.status_code == 202:
            location = resp.headers.get("Location")
            if location:
                self._cancel_upload(repo, location)
            return False
        if resp.status_code in (401, 403, 404):
            return False
        raise self.error(resp, what)

    def _start_upload(self, repo: str, what: str) -> str:
        resp = self.request("POST", f"/v2/{repo}/blobs/uploads/", scopes=self.scopes(repo, push=True), what=what)
        if resp.status_code != 202:
            self.fail(resp, what)
        resp.close()
        location = resp.headers.get("Location")
        if not location:
            raise InputError(f"registry {self.registry}: {what}: no upload location")
        return str(resp.url.join(location))

    def _cancel_upload(self, repo: str, location: str) -> None:
        try:
            resp = self.request("DELETE", location, scopes=self.scopes(repo, push=True), what="upload cancel")
            resp.close()
        except (UnavailableError, InputError):
            log.debug("could not cancel upload %s", location)

    def upload_blob(
        self,
        repo: str,
        desc: Descriptor,
        stream: BinaryIO,
        *,
        chunk_size: int = CHUNK_SIZE,
        monolithic_max: int = MONOLITHIC_MAX,
    ) -> None:
        """Upload a blob: one PUT up to ``monolithic_max`` bytes, else PATCH chunks then PUT.

        The digest and size are checked locally before the upload is committed, so a
        stream that does not match ``desc`` never becomes visible in the registry.
        """
        _repo(repo)
        digest = validate_digest(desc.digest)
        what = f"upload of blob {digest} to {repo}"
        algo, _, expected = digest.partition(":")
        hasher = hashlib.new(algo)
        location = self._start_upload(repo, what)
        scopes = self.scopes(repo, push=True)
        try:
            if desc.size <= monolithic_max:
                data = stream.read(desc.size + 1)
                hasher.update(data)
                self._check(len(data), desc.size, hasher.hexdigest(), expected, what)
                resp = self.request(
                    "PUT", location, scopes=scopes, what=what, params={"digest": digest}, content=data,
                    headers={"Content-Type": "application/octet-stream"},
                )  # fmt: skip
            else:
                offset = 0
                while True:
                    chunk = stream.read(chunk_size)
                    if not chunk:
                        break
                    if offset + len(chunk) > desc.size:
                        raise IntegrityError(f"{what}: stream is larger than the declared {desc.size} bytes")
                    hasher.update(chunk)
                    location = self._patch_chunk(repo, location, chunk, offset, what)
                    offset += len(chunk)
                self._check(offset, desc.size, hasher.hexdigest(), expected, what)
                resp = self.request("PUT", location, scopes=scopes, what=what, params={"digest": digest})
        except BaseException:
            self._cancel_upload(repo, location)
            raise
        if resp.status_code not in (201, 204):
            self.fail(resp, what)
        resp.close()

    def _patch_chunk(self, repo: str, location: str, chunk: bytes, offset: int, what: str) -> str:
        """PATCH ``chunk`` at ``offset``; after a failure ask the registry how much it kept and
        send only the rest. Returns the next upload location."""
        scopes = self.scopes(repo, push=True)
        start = offset
        for attempt in range(max(0, self.options.retries) + 1):
            body = chunk[start - offset :]
            failure: LockgateError | None = None
            try:
                resp = self.request(
                    "PATCH", location, scopes=scopes, what=what, content=body, retries=0,
                    headers={
                        "Content-Type": "application/octet-stream",
                        "Content-Range": f"{start}-{start + len(body) - 1}",
                    },
                )  # fmt: skip
            except UnavailableError as e:
                failure = e
            else:
                if resp.status_code == 202:
                    resp.close()
                    return str(resp.url.join(resp.headers.get("Location") or location))
                if resp.status_code not in (416, 429) and resp.status_code < 500:
                    self.fail(resp, what)
                failure = self.error(resp, what)
            if attempt == max(0, self.options.retries):
                raise failure
            self.transport._sleep(backoff(attempt))
            location, stored = self._upload_status(repo, location, what)
            if not offset <= stored <= offset + len(chunk):
                raise failure
            if stored == offset + len(chunk):
                return location
            log.debug("%s: registry kept %d bytes; resending from there", what, stored)
            start = stored
        raise AssertionError("unreachable")  # pragma: no cover

    def _upload_status(self, repo: str, location: str, what: str) -> tuple[str, int]:
        """``(location, bytes stored)`` of an upload session (``Range: 0-<last>``)."""
        resp = self.request("GET", location, scopes=self.scopes(repo, push=True), what=what)
        if resp.status_code not in (202, 204):
            self.fail(resp, what)
        resp.close()
        rng = resp.headers.get("Range", "")
        _, _, last = rng.partition("-")
        stored = int(last) + 1 if last.strip().isdigit() else 0
        return str(resp.url.join(resp.headers.get("Location") or location)), stored

    @staticmethod
    def _check(size: int, want_size: int, got: str, want: str, what: str) -> None:
        if size != want_size:
            raise IntegrityError(f"{what}: stream has {size} bytes, descriptor says {want_size}")
        if got != want:
            raise IntegrityError(f"{what}: content does not match its digest")

    # -- referrers -----------------------------------------------------------------------
    def referrers(self, repo: str, digest: str, artifact_type: str | None = None) -> list[Descriptor]:
        """Manifests whose ``subject`` is ``digest``: OCI 1.1 API, else the ``sha256-<hex>`` tag index."""
        _repo(repo)
        what = f"referrers of {repo}@{validate_digest(digest)}"
        params: dict[str, str | list[str]] | None = {"artifactType": artifact_type} if artifact_type else None
        url: str | None = f"/v2/{repo}/referrers/{digest}"
        found: list[Descriptor] = []
        filtered = False
        for _ in range(MAX_PAGES):
            if url is None:
                break
            resp = self.request(
                "GET", url, scopes=self.scopes(repo), what=what, params=params,
                headers={"Accept": OCI_INDEX}, stream=True,
            )  # fmt: skip
            if resp.status_code == 404 and not found:
                resp.close()
                return self._fallback_referrers(repo, digest, artifact_type)
            if resp.status_code != 200:
                self.fail(resp, what)
            body = _read_capped(resp, DEFAULT_MAX_MANIFEST, what)
            found.extend(_index_descriptors(body, what))
            filtered = filtered or "artifactType" in resp.headers.get("OCI-Filters-Applied", "")
            url = next_link(resp.headers.get_list("Link"), str(resp.url))
            params = None
        if artifact_type and not filtered:
            found = [d for d in found if d.artifact_type == artifact_type]
        return found

    def _fallback_referrers(self, repo: str, digest: str, artifact_type: str | None) -> list[Descriptor]:
        tag = referrers_tag(digest)
        try:
            raw, _, _ = self.get_manifest(repo, tag)
        except NotFoundError:
            return []
        found = _index_descriptors(raw, f"referrers tag {repo}:{tag}")
        return [d for d in found if not artifact_type or d.artifact_type == artifact_type]

    def add_referrer(self, repo: str, raw: bytes, media_type: str) -> str:
        """Push a manifest that has a ``subject``; keep the fallback tag index current when needed.

        Returns the pushed manifest's digest. When the registry does not confirm the
        subject (no ``OCI-Subject`` header), the ``sha256-<hex>`` index is updated.
        """
        doc = _json_object(raw, "referrer manifest")
        subject = doc.get("subject")
        if not isinstance(subject, dict):
            raise InputError("referrer manifest has no subject")
        subject_digest = Descriptor.from_dict(subject).digest
        digest, headers = self._put_manifest(repo, raw, media_type, None)
        if headers.get("OCI-Subject") == subject_digest:
            return digest
        config = doc.get("config")
        artifact_type = str(doc.get("artifactType") or (config.get("mediaType") if isinstance(config, dict) else ""))
        annotations = doc.get("annotations")
        entry: dict[str, Any] = {"mediaType": media_type, "digest": digest, "size": len(raw)}
        if artifact_type:
            entry["artifactType"] = artifact_type
        if isinstance(annotations, dict) and annotations:
            entry["annotations"] = annotations
        tag = referrers_tag(subject_digest)
        try:
            current, _, _ = self.get_manifest(repo, tag)
            index = _json_object(current, f"referrers tag {repo}:{tag}")
        except NotFoundError:
            index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
        manifests = index.get("manifests")
        if not isinstance(manifests, list):
            raise InputError(f"referrers tag {repo}:{tag} is not an index")
        if any(isinstance(m, dict) and m.get("digest") == digest for m in manifests):
            return digest
        manifests.append(entry)
        index["manifests"] = manifests
        self.put_manifest(repo, json.dumps(index, separators=(",", ":")).encode(), OCI_INDEX, tag)
        return digest


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"{what} is not valid JSON") from None
    if not isinstance(obj, dict):
        raise InputError(f"{what} is not a JSON object")
    return obj


def _index_descriptors(raw: bytes, what: str) -> list[Descriptor]:
    manifests = _json_object(raw, what).get("manifests") or []
    if not isinstance(manifests, list):
        raise InputError(f"{what}: 'manifests' is not a list")
    return [Descriptor.from_dict(m) for m in manifests]


class _BlobStream(io.RawIOBase):
    """Raw bytes of a blob GET; reconnects with ``Range: bytes=N-`` when the connection drops."""

    def __init__(self, client: RegistryClient, repo: str, digest: str, what: str) -> None:
        super().__init__()
        self._client = client
        self._repo = repo
        self._digest = digest
        self._what = what
        self._offset = 0
        self._resumes = 0
        self._buf = memoryview(b"")  # a view, so handing out part of a chunk copies nothing
        self._resp: httpx.Response | None = None
        self._iter: Iterator[bytes] | None = None
        self._open()

    def readable(self) -> bool:
        return True

    def _open(self) -> None:
        headers = {"Range": f"bytes={self._offset}-"} if self._offset else {}
        resp = self._client.request(
            "GET", f"/v2/{self._repo}/blobs/{self._digest}", scopes=self._client.scopes(self._repo),
            what=self._what, headers=headers, stream=True,
        )  # fmt: skip
        if resp.status_code not in (200, 206):
            self._client.fail(resp, self._what)
        skip = 0
        if self._offset:
            if resp.status_code == 200:
                skip = self._offset  # server ignored Range: discard what we already have
            elif not resp.headers.get("Content-Range", "").startswith(f"bytes {self._offset}-"):
                resp.close()
                raise UnavailableError(f"registry {self._client.registry}: {self._what}: bad resume range")
        self._resp = resp
        self._iter = resp.iter_raw()  # no chunk_size: bytes are handed out as they arrive
        while skip:
            chunk = next(self._iter, b"")
            if not chunk:
                break
            if len(chunk) > skip:
                self._buf = memoryview(chunk)[skip:]
                skip = 0
            else:
                skip -= len(chunk)

    def readinto(self, b: memoryview | bytearray) -> int:  # type: ignore[override]
        while not self._buf:
            assert self._iter is not None
            try:
                chunk = next(self._iter, b"")
            except httpx.TransportError as e:
                if self._resumes >= max(0, self._client.options.retries):
                    raise UnavailableError(
                        f"registry {self._client.registry}: {self._what}: {describe_transport_error(e)}"
                    ) from e
                self._resumes += 1
                log.debug("%s: connection dropped at %d bytes; resuming", self._what, self._offset)
                self._close_resp()
                self._open()
                continue
            if not chunk:
                return 0
            self._buf = memoryview(chunk)
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        self._offset += n
        return n

    def _close_resp(self) -> None:
        if self._resp is not None:
            self._resp.close()
            self._resp = None

    def close(self) -> None:
        try:
            self._close_resp()
        finally:
            super().close()


# Re-exported here so callers import the whole registry API from one module.
from lockgate.oci.registry.images import RegistryDestination, RegistrySource  # noqa: E402

__all__ = ["RegistryClient", "RegistryDestination", "RegistrySource", "referrers_tag"]
