"""The layer cipher against independent references: ``openssl enc -aes-256-ctr`` and Python's ``hmac``."""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import subprocess

import pytest

from lockgate.encryption.cipher import PrivateOptions, PublicOptions, decrypt_stream, encrypt_stream
from lockgate.errors import InputError, IntegrityError


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, (1 << 20) - 1, (1 << 20) + 7, 3 * (1 << 20) + 5])
def test_matches_openssl_and_round_trips(size: int) -> None:
    plain = os.urandom(size)
    opts = PrivateOptions.generate("sha256:" + hashlib.sha256(plain).hexdigest())
    out = io.BytesIO()
    res = encrypt_stream(io.BytesIO(plain), out, opts)
    ours = out.getvalue()
    ref = subprocess.run(
        ["openssl", "enc", "-aes-256-ctr", "-K", opts.symkey.hex(), "-iv", opts.nonce.hex()],
        input=plain, capture_output=True, check=True,
    ).stdout  # fmt: skip
    assert ours == ref
    assert res.mac == hmac.new(opts.symkey, ref, hashlib.sha256).digest()
    assert res.size == size and res.out_digest == "sha256:" + hashlib.sha256(ref).hexdigest()
    back = io.BytesIO()
    decrypt_stream(io.BytesIO(ours), back, opts, res.mac)
    assert back.getvalue() == plain


def test_wrong_mac_and_digest_are_integrity_errors() -> None:
    plain = b"layer bytes" * 100
    opts = PrivateOptions.generate("sha256:" + hashlib.sha256(plain).hexdigest())
    out = io.BytesIO()
    res = encrypt_stream(io.BytesIO(plain), out, opts)
    with pytest.raises(IntegrityError, match="HMAC mismatch"):
        decrypt_stream(io.BytesIO(out.getvalue()), io.BytesIO(), opts, bytes(32))
    lying = PrivateOptions(opts.symkey, "sha256:" + "0" * 64, opts.nonce)
    with pytest.raises(IntegrityError, match="does not match"):
        decrypt_stream(io.BytesIO(out.getvalue()), io.BytesIO(), lying, res.mac)


def test_options_json_round_trip_and_validation() -> None:
    opts = PrivateOptions.generate("sha256:" + "a" * 64)
    assert PrivateOptions.from_json(opts.to_json()) == opts
    assert list(__import__("json").loads(opts.to_json())) == ["symkey", "digest", "cipheroptions"]
    assert "symkey=<redacted>" in repr(opts) and opts.symkey.hex() not in repr(opts)
    pub = PublicOptions(bytes(range(32)))
    assert PublicOptions.from_json(pub.to_json()) == pub
    for bad in (
        b"[]",
        b'{"symkey":"!!","digest":"sha256:00"}',
        b'{"symkey":"AAAA","digest":"x","cipheroptions":{"nonce":"AAAA"}}',
    ):
        with pytest.raises(InputError):
            PrivateOptions.from_json(bad)
    with pytest.raises(InputError, match="unsupported layer cipher"):
        PublicOptions.from_json(b'{"cipher":"AES_128_GCM","hmac":"AAAA"}')
