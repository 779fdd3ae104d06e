"""Shared helpers for the encryption tests: key files, a small plain image, layout readers, the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.fixtures.images import RawLayer, TarBuilder, write_layout


@dataclass(frozen=True)
class KeyPair:
    name: str
    pub: Path
    priv: Path
    """The private key as lockgate reads it (PKCS#1 for RSA, SEC1 for EC)."""
    pkcs8: Path
    """The same key as PKCS#8 (what skopeo needs for EC)."""


def make_keypair(d: Path, name: str) -> KeyPair:
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if name.startswith("rsa"):
        key = rsa.generate_private_key(65537, 2048)
        legacy = serialization.PrivateFormat.TraditionalOpenSSL  # PKCS#1
    else:
        key = ec.generate_private_key(ec.SECP384R1() if name == "ec384" else ec.SECP256R1())
        legacy = serialization.PrivateFormat.TraditionalOpenSSL  # SEC1
    pem = serialization.Encoding.PEM
    none = serialization.NoEncryption()
    kp = KeyPair(name, d / f"{name}-pub.pem", d / f"{name}-priv.pem", d / f"{name}-pkcs8.pem")
    kp.pub.write_bytes(key.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo))
    kp.priv.write_bytes(key.private_bytes(pem, legacy, none))
    kp.pkcs8.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, none))
    return kp


def make_plain_image(d: Path, tag: str = "v1") -> Path:
    """An OCI layout with two gzip layers (real tar files; skopeo would recompress uncompressed ones)."""
    big = hashlib.sha256(b"lockgate").digest() * 4096
    t1 = TarBuilder().dir("etc").file("etc/os-release", b"ID=lockgate\n").file("bin/app", b"#!/bin/sh\n").bytes()
    t2 = TarBuilder().dir("data").file("data/blob.bin", big).bytes()
    write_layout(d, [RawLayer(t1, "gzip"), RawLayer(t2, "gzip")], tag=tag)
    return d


def top_manifest(layout: Path, tag: str = "v1") -> tuple[str, dict[str, Any]]:
    index = json.loads((layout / "index.json").read_text())
    entry = next(
        m for m in index["manifests"] if (m.get("annotations") or {}).get("org.opencontainers.image.ref.name") == tag
    )
    digest = entry["digest"]
    return digest, json.loads((layout / "blobs" / "sha256" / digest[7:]).read_bytes())


def write_manifest(layout: Path, manifest: dict[str, Any], tag: str = "v1") -> str:
    """Replace the tagged manifest (used to tamper with encrypted images as an attacker could)."""
    raw = json.dumps(manifest, separators=(",", ":")).encode()
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    (layout / "blobs" / "sha256" / digest[7:]).write_bytes(raw)
    index = json.loads((layout / "index.json").read_text())
    for m in index["manifests"]:
        if (m.get("annotations") or {}).get("org.opencontainers.image.ref.name") == tag:
            m["digest"], m["size"] = digest, len(raw)
    (layout / "index.json").write_text(json.dumps(index))
    return digest


def skopeo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["skopeo", *args], capture_output=True, text=True, timeout=120, check=False, env={**os.environ, **(env or {})}
    )


def lockgate(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lockgate", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        input=stdin,
        env={**os.environ, **(env or {})},
    )
