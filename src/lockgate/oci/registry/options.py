"""Options for talking to a registry: credentials, TLS material, timeouts and retries."""

from __future__ import annotations

from pathlib import Path

import msgspec


class RegistryOptions(msgspec.Struct, frozen=True):
    """How to connect to and authenticate with registries (built from the common CLI flags)."""

    username: str | None = None
    password: str | None = None
    ca_cert: Path | None = None
    """Extra CA bundle (PEM) trusted in addition to the system CAs."""
    client_cert: Path | None = None
    """Client certificate (PEM) for mutual TLS."""
    client_key: Path | None = None
    """Private key (PEM) for ``client_cert``; may be omitted when the cert file holds it."""
    insecure: bool = False
    """Skip TLS verification and allow plain HTTP (only when the user asks)."""
    timeout: float = 30.0
    """Seconds per connect/read operation."""
    retries: int = 4
    """Retries on 429, 5xx and connection errors (with backoff)."""
    docker_config: Path | None = None
    """Directory holding ``config.json``; default ``$DOCKER_CONFIG`` or ``~/.docker``."""

    def __repr__(self) -> str:
        # Never print the password (options end up in debug logs and tracebacks).
        pw = "***" if self.password is not None else None
        return (
            f"RegistryOptions(username={self.username!r}, password={pw!r}, ca_cert={self.ca_cert!r}, "
            f"client_cert={self.client_cert!r}, client_key={self.client_key!r}, insecure={self.insecure!r}, "
            f"timeout={self.timeout!r}, retries={self.retries!r}, docker_config={self.docker_config!r})"
        )
