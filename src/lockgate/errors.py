"""One exception hierarchy for all of lockgate, grouped by who is at fault.

- :class:`InputError` — the data we were given is bad or hostile (never retried).
- :class:`IntegrityError` — a digest, signature or size check failed (never retried).
- :class:`UnavailableError` — a service could not be reached (retried with backoff).
- :class:`ConfigError` — the user asked for something impossible (misuse, configuration).
- :class:`PolicyFailure` — not an error: the gate said no (exit code 1).

The CLI turns each into one line on stderr and an exit code (see ``lockgate.cli.exitcodes``).
"""

from __future__ import annotations


class LockgateError(Exception):
    """Root of every error lockgate raises on purpose."""

    exit_code: int = 3

    def diagnostics(self) -> str:
        """A one-line message for users (the CLI prints this)."""
        return str(self)


class InputError(LockgateError):
    """Malformed or hostile input: manifests, archives, YAML, databases."""


class NotFoundError(InputError):
    """A named image, tag, blob, file or key does not exist."""


class IntegrityError(LockgateError):
    """A digest, size, or signature did not match what was promised."""


class LimitExceededError(InputError):
    """Input exceeded a configured safety limit (size, count, depth)."""


class UnavailableError(LockgateError):
    """A remote service or local tool could not be reached; retrying may help."""


class AuthError(UnavailableError):
    """Credentials were missing or rejected."""


class ConfigError(LockgateError):
    """Misuse: bad option combinations, invalid configuration or policy files."""

    exit_code = 2


class PolicyFailure(LockgateError):
    """The policy or threshold failed; carries the reasons. Exit code 1."""

    exit_code = 1
