"""A tiny local HTTP stand-in for registry behaviour Debian's registry cannot show.

Used only where the real registry cannot produce the situation: 429/503 with
``Retry-After``, dropped connections mid-blob, lying digests, tags pagination (2.8 ignores
``?n=``) and the OCI 1.1 referrers API (2.8 has none). Each test scripts the replies.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cut_after: int | None = None
    """Send only this many body bytes (with the full Content-Length), then drop the connection."""


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Seen], Reply]


@dataclass
class StandIn:
    host: str
    requests: list[Seen]

    @property
    def url(self) -> str:
        return f"http://{self.host}"


@contextmanager
def standin(handler: Handler, port: int = 0) -> Iterator[StandIn]:
    """Serve ``handler`` on 127.0.0.1 (a random port unless given) for the duration of the block."""
    seen: list[Seen] = []

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            req = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            seen.append(req)
            reply = handler(req)
            self.send_response(reply.status)
            headers = {"Content-Length": str(len(reply.body)), **reply.headers}
            for k, v in headers.items():
                self.send_header(k, v)
            if reply.cut_after is not None:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command == "HEAD":
                return
            if reply.cut_after is not None:
                self.wfile.write(reply.body[: reply.cut_after])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(reply.body)

        do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _handle

    server = ThreadingHTTPServer(("127.0.0.1", port), H)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield StandIn(f"127.0.0.1:{server.server_address[1]}", seen)
    finally:
        server.shutdown()
        server.server_close()
