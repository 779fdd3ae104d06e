"""TLS against real registries: custom CA, mutual TLS, ``insecure``, and the loopback HTTP fallback.

Plain HTTP is only used on loopback when the server does not speak TLS, and never when a CA
or client certificate was given.
"""

from __future__ import annotations

import pytest

from lockgate.errors import ConfigError, UnavailableError
from lockgate.oci.registry.client import RegistryClient
from lockgate.oci.registry.options import RegistryOptions
from lockgate.oci.registry.transport import Transport, is_loopback
from tests.fixtures.registry import RunningRegistry, TLSMaterial, skopeo, unique_repo


def test_tls_with_ca_cert(tls_registry: RunningRegistry, small_image, skopeo_push) -> None:
    repo = unique_repo()
    digest = skopeo_push(small_image, tls_registry, repo, "v1")
    with RegistryClient(tls_registry.host, tls_registry.options()) as c:
        assert c.get_manifest(repo, "v1")[2] == digest
        assert c.transport.base_url == f"https://{tls_registry.host}"


def test_untrusted_certificate_never_falls_back(tls_registry: RunningRegistry, tls_material: TLSMaterial) -> None:
    repo = unique_repo()
    # Loopback, no CA given: HTTPS is tried, the certificate is not trusted -> error, not HTTP.
    with (
        RegistryClient(tls_registry.host, RegistryOptions(retries=1)) as c,
        pytest.raises(UnavailableError, match="not trusted"),
    ):
        c.tags(repo)
    with (
        RegistryClient(tls_registry.host, RegistryOptions(ca_cert=tls_material.other_ca_cert, retries=1)) as c,
        pytest.raises(UnavailableError, match=f"{tls_registry.host}.*not trusted"),
    ):
        c.tags(repo)


def test_insecure_skips_verification(tls_registry: RunningRegistry, small_image, skopeo_push) -> None:
    repo = unique_repo()
    digest = skopeo_push(small_image, tls_registry, repo, "v1")
    with RegistryClient(tls_registry.host, RegistryOptions(insecure=True, retries=1)) as c:
        assert c.get_manifest(repo, "v1")[2] == digest
        assert c.transport.base_url.startswith("https://")


def test_mtls(mtls_registry: RunningRegistry, tls_material: TLSMaterial, small_image, skopeo_push) -> None:
    repo = unique_repo()
    digest = skopeo_push(small_image, mtls_registry, repo, "v1")
    with RegistryClient(mtls_registry.host, mtls_registry.options()) as c:
        assert c.get_manifest(repo, "v1")[2] == digest
    # Without a client certificate the handshake fails: one clean error, no HTTP fallback.
    with (
        RegistryClient(mtls_registry.host, RegistryOptions(ca_cert=tls_material.ca_cert, retries=1)) as c,
        pytest.raises(UnavailableError, match=f"registry {mtls_registry.host}.*TLS"),
    ):
        c.get_manifest(repo, "v1")
    # skopeo agrees that a client certificate is required.
    import subprocess

    proc = subprocess.run(
        ["skopeo", "inspect", "--raw", f"docker://{mtls_registry.ref(repo, 'v1')}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0


def test_bad_tls_material_is_a_config_error(tmp_path) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(ConfigError, match="TLS material"):
        RegistryClient("127.0.0.1:1", RegistryOptions(ca_cert=missing))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(ConfigError, match="TLS material"):
        RegistryClient("127.0.0.1:1", RegistryOptions(client_cert=garbage))
    with pytest.raises(ConfigError, match="client-cert"):
        RegistryClient("127.0.0.1:1", RegistryOptions(client_key=garbage))


def test_http_fallback_on_loopback(registry: RunningRegistry, small_image, skopeo_push) -> None:
    repo = unique_repo()
    digest = skopeo_push(small_image, registry, repo, "v1")
    port = registry.host.rsplit(":", 1)[1]
    for host in (registry.host, f"localhost:{port}"):
        with RegistryClient(host, RegistryOptions(retries=1)) as c:
            assert c.get_manifest(repo, "v1")[2] == digest
            assert c.transport.base_url == f"http://{host}"
    # skopeo (tls-verify=false) sees the same registry over HTTP.
    skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{registry.ref(repo, 'v1')}")


def test_no_http_fallback_with_tls_material(registry: RunningRegistry, tls_material: TLSMaterial) -> None:
    repo = unique_repo()
    with (
        RegistryClient(registry.host, RegistryOptions(ca_cert=tls_material.ca_cert, retries=1)) as c,
        pytest.raises(UnavailableError, match=registry.host),
    ):
        c.tags(repo)
    assert c.transport._scheme in (None, "https")
    opts = RegistryOptions(client_cert=tls_material.client_cert, client_key=tls_material.client_key, retries=1)
    with RegistryClient(registry.host, opts) as c, pytest.raises(UnavailableError, match=registry.host):
        c.tags(repo)


def test_loopback_rules() -> None:
    for host in ("localhost", "localhost:5000", "127.0.0.1:5000", "127.1.2.3", "[::1]:5000", "::1", "a.localhost"):
        assert is_loopback(host), host
    for host in ("example.com", "10.0.0.1:5000", "[2001:db8::1]:5000", "localhost.example.com", "docker.io"):
        assert not is_loopback(host), host
    assert not Transport("example.com:5000", RegistryOptions()).may_use_http
    assert Transport("example.com:5000", RegistryOptions(insecure=True)).may_use_http
    assert Transport("127.0.0.1:5000", RegistryOptions()).may_use_http
    assert Transport("docker.io", RegistryOptions()).host == "registry-1.docker.io"
    # Non-loopback registries use HTTPS without probing.
    assert Transport("example.com", RegistryOptions()).base_url == "https://example.com"
