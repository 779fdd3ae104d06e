"""HTTP transport to one registry host: TLS set-up, scheme selection and retries.

- TLS: system CAs plus ``ca_cert``; a client certificate for mutual TLS; ``insecure``
  turns verification off and allows plain HTTP, only when asked.
- On ``localhost`` and loopback addresses HTTPS is tried first and plain HTTP is used only
  when the server does not speak TLS at all — never when a CA or client certificate was given.
- Requests are retried with exponential backoff on 429, 5xx and connection errors,
  honouring ``Retry-After`` up to :data:`MAX_RETRY_AFTER` seconds.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import httpx

from lockgate import __version__
from lockgate.errors import ConfigError, UnavailableError
from lockgate.oci.registry.options import RegistryOptions

log = logging.getLogger(__name__)

USER_AGENT = f"lockgate/{__version__}"
MAX_RETRY_AFTER = 30.0
"""Longest ``Retry-After`` we honour; longer waits are cut to this."""
MAX_BACKOFF = 8.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

# OpenSSL reasons meaning "the peer answered, but not with TLS".
_NOT_TLS_REASONS = frozenset(
    {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "UNKNOWN_PROTOCOL", "HTTP_REQUEST"}
)


def registry_host(registry: str) -> str:
    """The API host for a registry name (Docker Hub's API lives on ``registry-1.docker.io``)."""
    return "registry-1.docker.io" if registry in ("docker.io", "index.docker.io") else registry


def hostname(registry: str) -> str:
    """``registry`` without port and IPv6 brackets."""
    if registry.startswith("["):
        return registry[1 : registry.index("]")]
    if registry.count(":") > 1:  # a bare IPv6 address
        return registry
    return registry.rsplit(":", 1)[0] if ":" in registry else registry


def is_loopback(registry: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1), with or without a port."""
    host = hostname(registry).lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ssl_context(options: RegistryOptions) -> ssl.SSLContext:
    """A TLS context for ``options``: system CAs + ``ca_cert``, client cert, or no verification."""
    ctx = ssl.create_default_context()
    try:
        if options.ca_cert is not None:
            ctx.load_verify_locations(cafile=str(options.ca_cert))
        if options.client_cert is not None:
            key = str(options.client_key) if options.client_key is not None else None
            ctx.load_cert_chain(str(options.client_cert), key)
        elif options.client_key is not None:
            raise ConfigError("--client-key needs --client-cert")
    except (OSError, ssl.SSLError) as e:
        raise ConfigError(f"cannot load TLS material: {e}") from None
    if options.insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _ssl_error(exc: BaseException) -> ssl.SSLError | None:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLError):
            return cur
        cur = cur.__cause__ or cur.__context__
    return None


def _not_tls(exc: BaseException) -> bool:
    err = _ssl_error(exc)
    return err is not None and not isinstance(err, ssl.SSLCertVerificationError) and err.reason in _NOT_TLS_REASONS


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP date), bounded."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, min(when.timestamp() - current, MAX_RETRY_AFTER))


def backoff(attempt: int) -> float:
    """Exponential backoff for retry ``attempt`` (0-based): 0.25, 0.5, 1, 2, ... capped."""
    return float(min(0.25 * (2**attempt), MAX_BACKOFF))


def describe_transport_error(exc: BaseException) -> str:
    """A one-line reason for a failed connection (TLS reasons made readable)."""
    err = _ssl_error(exc)
    if isinstance(err, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({err.verify_message or err.reason})"
    if err is not None:
        return f"TLS handshake failed ({err.reason or err})"
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0]


class Transport:
    """Sends requests to one registry host; owns one ``httpx.Client``."""

    def __init__(
        self,
        registry: str,
        options: RegistryOptions,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.registry = registry
        self.host = registry_host(registry)
        self.options = options
        self._sleep = sleep
        self._scheme: str | None = None
        self._scheme_lock = threading.Lock()
        self.client = httpx.Client(
            verify=ssl_context(options),
            timeout=httpx.Timeout(options.timeout),
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT},
        )

    @property
    def may_use_http(self) -> bool:
        """Plain HTTP is allowed when asked (insecure) or on loopback without TLS material."""
        if self.options.ca_cert is not None or self.options.client_cert is not None:
            return False
        return self.options.insecure or is_loopback(self.host)

    @property
    def base_url(self) -> str:
        """``https://host`` or, where allowed and the server does not speak TLS, ``http://host``."""
        if self._scheme is None:
            with self._scheme_lock:  # blob copies run in threads; probe once
                if self._scheme is None:
                    self._scheme = self._probe_scheme()
        return f"{self._scheme}://{self.host}"

    def _probe_scheme(self) -> str:
        if not self.may_use_http:
            return "https"
        attempts = max(0, self.options.retries) + 1
        for attempt in range(attempts):
            try:
                self._send_once("GET", f"https://{self.host}/v2/", {}, None, None, False).close()
                return "https"
            except httpx.TransportError as e:
                if _not_tls(e):
                    break
                if _ssl_error(e) is not None or attempt == attempts - 1:
                    raise UnavailableError(
                        f"cannot reach registry {self.registry}: {describe_transport_error(e)}"
                    ) from e
                self._sleep(backoff(attempt))
        try:
            resp = self._send_once("GET", f"http://{self.host}/v2/", {}, None, None, False)
        except httpx.TransportError as e:
            raise UnavailableError(f"cannot reach registry {self.registry}: {describe_transport_error(e)}") from e
        resp.close()
        log.debug("registry %s does not speak TLS; using plain HTTP", self.registry)
        return "http"

    def url(self, path: str) -> str:
        """Absolute URL for ``path`` (absolute URLs pass through, e.g. upload locations)."""
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + path

    def _send_once(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        content: bytes | None,
        params: Mapping[str, str | list[str]] | None,
        stream: bool,
    ) -> httpx.Response:
        # httpx replaces a URL's query when given params; upload locations carry state in theirs.
        target = httpx.URL(url).copy_merge_params(params) if params else httpx.URL(url)
        request = self.client.build_request(method, target, headers=dict(headers), content=content)
        return self.client.send(request, stream=stream)

    def send(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        params: Mapping[str, str | list[str]] | None = None,
        stream: bool = False,
        what: str = "",
        retries: int | None = None,
    ) -> httpx.Response:
        """Send with retries; returns the last response (callers map statuses to errors).

        Connection failures that survive every retry become :class:`UnavailableError`.
        TLS verification and handshake failures are not retried. ``retries`` overrides
        the option for requests that are not safe to repeat blindly (upload chunks).
        """
        url = self.url(path)
        attempts = max(0, self.options.retries if retries is None else retries) + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                resp = self._send_once(method, url, headers or {}, content, params, stream)
            except httpx.TransportError as e:
                if _ssl_error(e) is not None or last:
                    where = f" ({what})" if what else ""
                    raise UnavailableError(f"registry {self.registry}{where}: {describe_transport_error(e)}") from e
                log.debug("%s %s failed (%s); retrying", method, url, e)
                self._sleep(backoff(attempt))
                continue
            if resp.status_code in RETRY_STATUSES and not last:
                delay = retry_after(resp.headers.get("Retry-After"))
                resp.close()
                log.debug("%s %s: HTTP %d; retrying", method, url, resp.status_code)
                self._sleep(backoff(attempt) if delay is None else delay)
                continue
            return resp
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        self.client.close()
