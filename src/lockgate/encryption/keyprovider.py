"""ocicrypt's key-provider protocol: lockgate as a client, and a reference provider that releases keys
only against signed, nonce-bound evidence of the caller's platform.

Client: providers are configured as ocicrypt does, in the JSON file named by ``OCICRYPT_KEYPROVIDER_CONFIG``
(``{"key-providers": {"NAME": {"cmd": {"path": ..., "args": [...]}}}}``); the request is ocicrypt's
``KeyProviderKeyWrapProtocolInput`` JSON on the command's stdin, the answer its ``…Output`` JSON on stdout
(``[]byte`` fields as base64, as Go's ``encoding/json`` writes them). gRPC providers are not supported.

Reference provider (``lockgate keyprovider --provider-config FILE``): wraps layer options with AES-256-GCM
under a key-encryption key it holds; unwraps only when the decrypt parameters carry evidence signed by the
configured verifier key (an attestation service): a JWT, or a DSSE envelope whose JSON payload (or in-toto
predicate) holds the claims. Its ``nonce`` must have been issued by ``lockgate keyprovider --issue-nonce``
and be unexpired, its ``exp`` in the future, its ``iss`` and claims equal to the policy's. A nonce binds to
the first evidence that names it (one decryption session, one unwrap per layer) until it expires; other
evidence naming it is refused. A host name or any other unsigned claim is never enough.
This is how decryption is bound to attested platforms (e.g. a confidential-computing key broker).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lockgate.errors import ConfigError, InputError, IntegrityError, NotFoundError, UnavailableError

CONFIG_ENV = "OCICRYPT_KEYPROVIDER_CONFIG"
TIMEOUT = 60
MAX_OUTPUT = 1 << 20
_AAD = b"lockgate-keyprovider-v1"
_NONCE_RE = re.compile(r"[A-Za-z0-9_-]{16,128}")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(value: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{what} is not valid base64") from None


# -- client ------------------------------------------------------------------------------------
def provider_command(name: str) -> list[str]:
    """argv of provider ``name`` from ``$OCICRYPT_KEYPROVIDER_CONFIG``."""
    path = os.environ.get(CONFIG_ENV)
    if not path:
        raise ConfigError(f"key provider {name!r}: set {CONFIG_ENV} to an ocicrypt key-provider config file")
    try:
        conf = json.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise NotFoundError(f"key-provider config {path} not found") from None
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot read key-provider config {path}: {e}") from None
    entry = (conf.get("key-providers") or {}).get(name) if isinstance(conf, dict) else None
    if not isinstance(entry, dict):
        raise ConfigError(f"key provider {name!r} is not configured in {path}")
    cmd = entry.get("cmd")
    if not isinstance(cmd, dict) or not isinstance(cmd.get("path"), str):
        raise ConfigError(f"key provider {name!r}: only command providers ('cmd') are supported")
    args = cmd.get("args") or []
    return [cmd["path"], *(str(a) for a in args)]


def _call(name: str, request: dict[str, Any]) -> dict[str, Any]:
    argv = provider_command(name)
    try:
        proc = subprocess.run(
            argv, input=json.dumps(request).encode(), capture_output=True, timeout=TIMEOUT, check=False
        )
    except FileNotFoundError:
        raise UnavailableError(f"key provider {name!r}: command {argv[0]} not found") from None
    except subprocess.TimeoutExpired:
        raise UnavailableError(f"key provider {name!r} did not answer within {TIMEOUT}s") from None
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        raise IntegrityError(f"key provider {name!r} refused: {lines[-1] if lines else f'exit {proc.returncode}'}")
    if len(proc.stdout) > MAX_OUTPUT:
        raise InputError(f"key provider {name!r} answered with too much data")
    try:
        out = json.loads(proc.stdout)
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"key provider {name!r} did not answer with JSON") from None
    if not isinstance(out, dict):
        raise InputError(f"key provider {name!r} answered with a non-object")
    return out


def _params(name: str, arg: str) -> dict[str, list[str]]:
    return {name: [_b64((arg or "Enabled").encode())]}


def wrap(name: str, arg: str, optsdata: bytes) -> bytes:
    """Ask provider ``name`` to wrap ``optsdata``; returns the annotation blob."""
    request = {
        "op": "keywrap",
        "keywrapparams": {
            "ec": {"Parameters": _params(name, arg), "DecryptConfig": {"Parameters": {}}},
            "optsdata": _b64(optsdata),
        },
        "keyunwrapparams": {"dc": None, "annotation": None},
    }
    result = _call(name, request).get("keywrapresults") or {}
    if not isinstance(result, dict) or not result.get("annotation"):
        raise InputError(f"key provider {name!r} returned no wrapped key")
    return _unb64(result["annotation"], f"key provider {name!r} annotation")


def unwrap(name: str, arg: str, annotation: bytes) -> bytes | None:
    """Ask provider ``name`` to unwrap ``annotation``; refusals raise :class:`IntegrityError`."""
    request = {
        "op": "keyunwrap",
        "keywrapparams": {"ec": None, "optsdata": None},
        "keyunwrapparams": {"dc": {"Parameters": _params(name, arg)}, "annotation": _b64(annotation)},
    }
    result = _call(name, request).get("keyunwrapresults") or {}
    if not isinstance(result, dict) or not result.get("optsdata"):
        return None
    return _unb64(result["optsdata"], f"key provider {name!r} optsdata")


# -- reference provider ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """Reference provider settings (a JSON or YAML file)."""

    kek: bytes
    verifier_pem: bytes
    nonce_dir: Path
    claims: dict[str, Any] = field(default_factory=dict)
    nonce_ttl: int = 300
    issuer: str = ""

    @classmethod
    def load(cls, path: Path) -> ProviderConfig:
        from lockgate._internal.yamlsafe import load_all, read_text

        docs = load_all(read_text(path, 1 << 20), what=str(path))
        obj = docs[0] if docs else None
        if not isinstance(obj, dict):
            raise ConfigError(f"{path}: expected a mapping")
        base = path.parent

        def rel(key: str) -> Path:
            v = obj.get(key)
            if not isinstance(v, str):
                raise ConfigError(f"{path}: {key} must be a path")
            return base / v

        try:
            kek = rel("kek_file").read_bytes()
            verifier = rel("verifier_key").read_bytes()
        except OSError as e:
            raise ConfigError(f"{path}: {e}") from None
        if len(kek) != 32:  # raw 32 bytes, else base64 text
            try:
                kek = _unb64(kek.decode("ascii").strip(), "kek_file")
            except (InputError, UnicodeDecodeError):
                raise ConfigError(f"{path}: kek_file must hold a 32-byte key (raw or base64)") from None
        if len(kek) != 32:
            raise ConfigError(f"{path}: kek_file must hold a 32-byte key (raw or base64)")
        claims = obj.get("claims") or {}
        if not isinstance(claims, dict):
            raise ConfigError(f"{path}: claims must be a mapping")
        return cls(
            kek=kek,
            verifier_pem=verifier,
            nonce_dir=rel("nonce_dir"),
            claims=claims,
            nonce_ttl=int(obj.get("nonce_ttl", 300)),
            issuer=str(obj.get("issuer", "")),
        )


def issue_nonce(cfg: ProviderConfig) -> str:
    """A fresh nonce, recorded in the nonce directory; it binds to the first evidence that names it."""
    cfg.nonce_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    nonce = secrets.token_urlsafe(32)
    (cfg.nonce_dir / nonce).write_text(str(int(time.time())))
    return nonce


def _bind_nonce(cfg: ProviderConfig, nonce: Any, token: str) -> None:
    """Bind the nonce to this evidence on first use; later calls must present the same evidence.

    One decryption session unwraps one key per layer, so the bound evidence stays valid until the nonce
    expires; any other evidence naming the same nonce is refused (no replay into another session).
    """
    if not isinstance(nonce, str) or not _NONCE_RE.fullmatch(nonce):
        raise IntegrityError("evidence has no valid nonce")
    path = cfg.nonce_dir / nonce
    bound = hashlib.sha256(token.encode()).hexdigest()
    try:
        fields = path.read_text().split()
        issued = int(fields[0])
    except (FileNotFoundError, ValueError, IndexError):
        raise IntegrityError("evidence nonce was not issued by this provider") from None
    if time.time() - issued > cfg.nonce_ttl:
        path.unlink(missing_ok=True)
        raise IntegrityError("evidence nonce has expired")
    if len(fields) > 1:
        if fields[1] != bound:
            raise IntegrityError("evidence nonce was already used by other evidence")
        return
    tmp = path.with_name(f".{nonce}.tmp")
    tmp.write_text(f"{issued} {bound}")
    tmp.replace(path)


def _jwt_claims(cfg: ProviderConfig, token: str) -> Any:
    from jwcrypto.common import JWException
    from jwcrypto.jwk import JWK
    from jwcrypto.jws import JWS

    key = JWK.from_pem(cfg.verifier_pem)
    jws = JWS()
    try:
        jws.deserialize(token)
        jws.verify(key, alg=None)
    except (JWException, ValueError, TypeError):
        raise IntegrityError("evidence signature does not verify with the configured verifier key") from None
    try:
        return json.loads(jws.payload)
    except (ValueError, UnicodeDecodeError):
        raise IntegrityError("evidence payload is not JSON") from None


def _dsse_claims(cfg: ProviderConfig, envelope: str) -> Any:
    """A DSSE envelope signed by the verifier; the claims are the payload, or an in-toto predicate."""
    from lockgate.attest.dsse import parse_envelope, verify_envelope
    from lockgate.trust.keys.files import parse_public_key

    try:
        env = parse_envelope(envelope)
    except InputError as e:
        raise IntegrityError(f"evidence: {e}") from None
    try:
        verify_envelope(env, [parse_public_key(cfg.verifier_pem, "verifier key")])
    except IntegrityError:
        raise IntegrityError("evidence signature does not verify with the configured verifier key") from None
    try:
        payload = json.loads(env.payload)
    except (ValueError, UnicodeDecodeError):
        raise IntegrityError("evidence payload is not JSON") from None
    if isinstance(payload, dict) and env.payload_type == "application/vnd.in-toto+json":
        return payload.get("predicate")
    return payload


def verify_evidence(cfg: ProviderConfig, token: str) -> dict[str, Any]:
    """Check evidence (a JWT, or a DSSE envelope): signature by the verifier key, exp/nbf, issuer, nonce, claims."""
    token = token.strip()
    claims = _dsse_claims(cfg, token) if token.startswith("{") else _jwt_claims(cfg, token)
    if not isinstance(claims, dict):
        raise IntegrityError("evidence claims are not a JSON object")
    now = time.time()
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp < now:
        raise IntegrityError("evidence has expired (or has no exp)")
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and nbf > now + 60:
        raise IntegrityError("evidence is not yet valid")
    if cfg.issuer and claims.get("iss") != cfg.issuer:
        raise IntegrityError(f"evidence issuer {claims.get('iss')!r} is not {cfg.issuer!r}")
    for name, want in cfg.claims.items():
        have = claims.get(name)
        ok = have in want if isinstance(want, list) else have == want
        if not ok:
            raise IntegrityError(f"evidence claim {name!r}={have!r} does not satisfy the policy")
    _bind_nonce(cfg, claims.get("nonce"), token)
    return claims


def _seal(cfg: ProviderConfig, data: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    iv = os.urandom(12)
    ct = AESGCM(cfg.kek).encrypt(iv, data, _AAD)
    return json.dumps({"v": 1, "iv": _b64(iv), "ct": _b64(ct)}, separators=(",", ":")).encode()


def _open(cfg: ProviderConfig, blob: bytes) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        obj = json.loads(blob)
        iv, ct = _unb64(obj["iv"], "iv"), _unb64(obj["ct"], "ct")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InputError("wrapped key is not this provider's format") from None
    try:
        return AESGCM(cfg.kek).decrypt(iv, ct, _AAD)
    except InvalidTag:
        raise IntegrityError("wrapped key was not sealed by this provider's key or was altered") from None


def _evidence(params: Any) -> str:
    if not isinstance(params, dict):
        raise IntegrityError("no evidence given (decrypt with --key provider:NAME:EVIDENCE_FILE)")
    for values in params.values():
        for v in values or ():
            text = _unb64(v, "parameter").decode(errors="replace")
            path = Path(text)
            if text and text != "Enabled" and path.is_file():
                return path.read_text()
            if text.count(".") == 2 or text.lstrip().startswith("{"):
                return text
    raise IntegrityError("no evidence given (decrypt with --key provider:NAME:EVIDENCE_FILE)")


def serve(cfg: ProviderConfig, request: bytes) -> bytes:
    """Answer one protocol request (stdin bytes) with the response (stdout bytes)."""
    try:
        req = json.loads(request)
    except (ValueError, UnicodeDecodeError):
        raise InputError("key-provider request is not JSON") from None
    if not isinstance(req, dict):
        raise InputError("key-provider request is not a JSON object")
    op = req.get("op")
    if op == "keywrap":
        opts = _unb64((req.get("keywrapparams") or {}).get("optsdata"), "optsdata")
        return json.dumps({"keywrapresults": {"annotation": _b64(_seal(cfg, opts))}}).encode()
    if op == "keyunwrap":
        params = req.get("keyunwrapparams") or {}
        annotation = _unb64(params.get("annotation"), "annotation")
        dc = params.get("dc") or {}
        verify_evidence(cfg, _evidence(dc.get("Parameters") if isinstance(dc, dict) else None))
        return json.dumps({"keyunwrapresults": {"optsdata": _b64(_open(cfg, annotation))}}).encode()
    raise InputError(f"unsupported key-provider operation {op!r}")
