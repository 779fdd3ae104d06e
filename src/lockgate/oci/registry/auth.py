"""Registry authentication: ``WWW-Authenticate`` challenges, Basic, and the bearer token flow.

Tokens are fetched per set of scopes (``repository:<name>:pull``, ``...:pull,push``,
``registry:catalog:*``) from the realm the registry names, with Basic credentials
(GET, Docker token spec) or an identity token (POST, OAuth2 refresh-token grant), and
cached until shortly before they expire.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import httpx

from lockgate.errors import AuthError, UnavailableError
from lockgate.oci.registry.credentials import Credentials
from lockgate.oci.registry.transport import Transport, describe_transport_error, is_loopback

DEFAULT_TOKEN_LIFETIME = 60.0
MAX_TOKEN_RESPONSE = 1024 * 1024
CLIENT_ID = "lockgate"

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM_RE = re.compile(rf'\s*({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))\s*')
_SCHEME_RE = re.compile(rf"\s*({_TOKEN})(?:\s+|$)")


@dataclass(frozen=True, slots=True)
class Challenge:
    """One authentication challenge: scheme (lowercase) and its parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)


def parse_challenges(header: str) -> list[Challenge]:
    """Parse a ``WWW-Authenticate`` value (RFC 7235), including several challenges in one header."""
    out: list[Challenge] = []
    pos, n = 0, len(header)
    while pos < n:
        while pos < n and header[pos] in " ,":
            pos += 1
        m = _SCHEME_RE.match(header, pos)
        if m is None:
            break
        scheme, pos = m.group(1).lower(), m.end()
        params: dict[str, str] = {}
        while pos < n:
            pm = _PARAM_RE.match(header, pos)
            if pm is None:
                break
            value = pm.group(2)
            value = re.sub(r"\\(.)", r"\1", value) if value is not None else pm.group(3)
            params[pm.group(1).lower()] = value
            pos = pm.end()
            if pos < n and header[pos] == ",":
                pos += 1
        out.append(Challenge(scheme, params))
    return out


def merge_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """Combine scopes on the same resource (``repository:a:pull`` + ``repository:a:push``), sorted."""
    actions: dict[str, list[str]] = {}
    for scope in scopes:
        resource, _, acts = scope.rpartition(":")
        if not resource:
            continue
        have = actions.setdefault(resource, [])
        for a in acts.split(","):
            if a and a not in have:
                have.append(a)
    return tuple(sorted(f"{r}:{','.join(sorted(a))}" for r, a in actions.items()))


@dataclass(slots=True)
class _Token:
    value: str
    expires: float
    realm: str


class Authenticator:
    """Answers challenges for one registry and remembers what worked."""

    def __init__(self, transport: Transport, credentials: Callable[[], Credentials | None]) -> None:
        self._transport = transport
        self._credentials_fn = credentials
        self._credentials: Credentials | None = None
        self._loaded = False
        self._tokens: dict[tuple[str, ...], _Token] = {}
        self._bearer: Challenge | None = None
        self._basic = False
        self._lock = threading.RLock()  # clients are shared by threads copying blobs

    @property
    def credentials(self) -> Credentials | None:
        with self._lock:
            if not self._loaded:
                self._credentials = self._credentials_fn()
                self._loaded = True
            return self._credentials

    def _basic_header(self) -> str:
        creds = self.credentials
        if creds is None or not (creds.username or creds.password):
            raise AuthError(
                f"registry {self._transport.registry} requires authentication "
                "(use --username/--password-stdin or docker login)"
            )
        raw = f"{creds.username}:{creds.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def headers(self, scopes: tuple[str, ...]) -> dict[str, str]:
        """Authorization headers to send pre-emptively for ``scopes`` (from earlier challenges)."""
        if self._basic:
            return {"Authorization": self._basic_header()}
        if self._bearer is not None:
            key = merge_scopes(scopes)
            tok = self._tokens.get(key)
            if tok is None or tok.expires <= time.monotonic():
                tok = self._fetch_token(self._bearer, key)
            return {"Authorization": f"Bearer {tok.value}"}
        return {}

    def answer(self, response: httpx.Response, scopes: tuple[str, ...], what: str) -> dict[str, str]:
        """Headers that answer the 401 ``response``; raises :class:`AuthError` when we cannot."""
        challenges = parse_challenges(", ".join(response.headers.get_list("WWW-Authenticate")))
        for ch in challenges:
            if ch.scheme == "bearer" and ch.params.get("realm"):
                self._bearer, self._basic = ch, False
                wanted = list(scopes)
                if "scope" in ch.params:
                    wanted.extend(ch.params["scope"].split(" "))
                key = merge_scopes(wanted)
                tok = self._fetch_token(ch, key, fresh=True)  # what we sent (if anything) was refused
                return {"Authorization": f"Bearer {tok.value}"}
        for ch in challenges:
            if ch.scheme == "basic":
                self._basic, self._bearer = True, None
                return {"Authorization": self._basic_header()}
        raise AuthError(
            f"registry {self._transport.registry} denied {what} with an unsupported authentication challenge"
        )

    def _fetch_token(self, ch: Challenge, scopes: tuple[str, ...], *, fresh: bool = False) -> _Token:
        with self._lock:
            tok = self._tokens.get(scopes)
            if not fresh and tok is not None and tok.expires > time.monotonic() and tok.realm == ch.params["realm"]:
                return tok
            return self._request_token(ch, scopes)

    def _request_token(self, ch: Challenge, scopes: tuple[str, ...]) -> _Token:
        realm = ch.params["realm"]
        service = ch.params.get("service", "")
        creds = self.credentials
        what = f"token service {realm}"
        url = httpx.URL(realm)
        if url.scheme not in ("http", "https"):
            raise AuthError(f"registry {self._transport.registry} names an unusable token realm {realm!r}")
        if (
            creds is not None
            and url.scheme == "http"
            and not (self._transport.options.insecure or is_loopback(url.host))
        ):
            raise AuthError(f"refusing to send credentials for {self._transport.registry} over plain HTTP to {realm}")
        try:
            if creds is not None and creds.identity_token:
                form = {
                    "grant_type": "refresh_token",
                    "refresh_token": creds.identity_token,
                    "service": service,
                    "client_id": CLIENT_ID,
                    "scope": " ".join(scopes),
                }
                resp = self._transport.client.post(realm, data=form)
            else:
                params: list[tuple[str, str | int | float | bool | None]] = [("service", service)] if service else []
                params += [("scope", s) for s in scopes]
                headers = {}
                if creds is not None and (creds.username or creds.password):
                    params.append(("account", creds.username))
                    headers["Authorization"] = self._basic_header()
                resp = self._transport.client.get(realm, params=params, headers=headers)
        except httpx.TransportError as e:
            raise UnavailableError(f"cannot reach {what}: {describe_transport_error(e)}") from e
        if resp.status_code in (401, 403):
            raise AuthError(
                f"{what} rejected the credentials for {self._transport.registry}"
                + ("" if creds else " (no credentials found; use --username/--password-stdin or docker login)")
            )
        if resp.status_code != 200:
            raise UnavailableError(f"{what} answered HTTP {resp.status_code}")
        if len(resp.content) > MAX_TOKEN_RESPONSE:
            raise AuthError(f"{what} sent an oversized response")
        try:
            body = resp.json()
        except ValueError:
            raise AuthError(f"{what} sent invalid JSON") from None
        value = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise AuthError(f"{what} sent no token")
        lifetime = body.get("expires_in")
        if not isinstance(lifetime, int | float) or isinstance(lifetime, bool) or lifetime <= 0:
            lifetime = DEFAULT_TOKEN_LIFETIME
        tok = _Token(value, time.monotonic() + max(1.0, float(lifetime) - 10.0), realm)
        self._tokens[scopes] = tok
        return tok
