"""Registry credentials: explicit options, then Docker's ``config.json`` and credential helpers.

Lookup order follows the Docker CLI: ``credHelpers[<registry>]``, then a plain ``auths``
entry (``auth`` base64 ``user:password``, or ``username``/``password``, plus
``identitytoken``), then the global ``credsStore`` helper. Helpers are run as
``docker-credential-<name> get`` with the server address on stdin.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lockgate.errors import AuthError, ConfigError
from lockgate.oci.registry.options import RegistryOptions

HELPER_TIMEOUT = 30.0
MAX_CONFIG_BYTES = 4 * 1024 * 1024
DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")


@dataclass(frozen=True, slots=True)
class Credentials:
    """A username/password pair or an identity (refresh) token for the token service."""

    username: str = ""
    password: str = ""
    identity_token: str = ""

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password=***, identity_token=***)"


def docker_config_dir(options: RegistryOptions | None = None) -> Path:
    """Where ``config.json`` lives: the option, ``$DOCKER_CONFIG``, else ``~/.docker``."""
    if options is not None and options.docker_config is not None:
        return options.docker_config
    env = os.environ.get("DOCKER_CONFIG")
    return Path(env) if env else Path.home() / ".docker"


def _load_config(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path} is too large")
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise ConfigError(f"{path} is not a JSON object")
    return obj


def _keys_for(registry: str) -> tuple[str, ...]:
    if registry in DOCKER_HUB_KEYS:
        return DOCKER_HUB_KEYS
    return (registry, f"https://{registry}", f"http://{registry}")


def _key_host(key: str) -> str:
    if "://" in key:
        return urlsplit(key).netloc
    return key.split("/", 1)[0]


def _from_auth_entry(registry: str, entry: Any) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    user = str(entry.get("username") or "")
    password = str(entry.get("password") or "")
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            decoded = base64.b64decode(auth, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ConfigError(f"docker config: invalid 'auth' value for {registry}") from None
        user, sep, password = decoded.partition(":")
        if not sep:
            raise ConfigError(f"docker config: 'auth' for {registry} is not user:password")
    token = str(entry.get("identitytoken") or "")
    if not (user or password or token):
        return None
    return Credentials(username=user, password=password, identity_token=token)


def run_helper(helper: str, server: str) -> Credentials | None:
    """Ask ``docker-credential-<helper>`` for ``server``; ``None`` when it has nothing stored."""
    exe = shutil.which(f"docker-credential-{helper}")
    if exe is None:
        raise AuthError(f"credential helper docker-credential-{helper} not found on PATH (needed for {server})")
    try:
        proc = subprocess.run(
            [exe, "get"], input=server.encode(), capture_output=True, timeout=HELPER_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise AuthError(f"credential helper docker-credential-{helper} failed for {server}: {e}") from None
    out = proc.stdout.decode(errors="replace").strip()
    if proc.returncode != 0:
        if "credentials not found" in (out + proc.stderr.decode(errors="replace")).lower():
            return None
        first = (out or proc.stderr.decode(errors="replace")).strip().splitlines()[:1]
        msg = first[0] if first else f"exit code {proc.returncode}"
        raise AuthError(f"credential helper docker-credential-{helper} failed for {server}: {msg}")
    try:
        obj = json.loads(out)
    except ValueError:
        raise AuthError(f"credential helper docker-credential-{helper} returned invalid JSON") from None
    if not isinstance(obj, dict):
        raise AuthError(f"credential helper docker-credential-{helper} returned invalid JSON")
    user, secret = str(obj.get("Username") or ""), str(obj.get("Secret") or "")
    if user == "<token>":
        return Credentials(identity_token=secret)
    if not (user or secret):
        return None
    return Credentials(username=user, password=secret)


def lookup(registry: str, options: RegistryOptions | None = None) -> Credentials | None:
    """Credentials for ``registry`` (e.g. ``localhost:5000``, ``docker.io``) or ``None`` for anonymous."""
    options = options or RegistryOptions()
    if options.username is not None or options.password is not None:
        return Credentials(username=options.username or "", password=options.password or "")
    config = _load_config(docker_config_dir(options) / "config.json")
    keys = _keys_for(registry)
    helpers = config.get("credHelpers")
    if isinstance(helpers, dict):
        for key in keys:
            helper = helpers.get(key)
            if isinstance(helper, str) and helper:
                return run_helper(helper, key)
    auths = config.get("auths")
    if isinstance(auths, dict):
        for key in keys:
            if key in auths:
                found = _from_auth_entry(registry, auths[key])
                if found is not None:
                    return found
        for key, entry in auths.items():
            if _key_host(str(key)) in keys:
                found = _from_auth_entry(registry, entry)
                if found is not None:
                    return found
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        server = DOCKER_HUB_KEYS[0] if registry in DOCKER_HUB_KEYS else registry
        return run_helper(store, server)
    return None
