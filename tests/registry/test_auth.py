"""Authentication against real registries: htpasswd basic auth and bearer tokens.

The token service is the small ES256 issuer from ``tests/fixtures/registry.py`` (a stand-in
for a real token server, which is not available here); the registry verifying its tokens is
Debian's real ``docker-registry``. Credentials come from options, Docker's ``config.json``
and real credential-helper executables written into a temp ``PATH``.
"""

from __future__ import annotations

import base64
import io
import json
import os
import stat
from pathlib import Path

import pytest

from lockgate.errors import AuthError, ConfigError
from lockgate.oci.model import Descriptor
from lockgate.oci.registry import credentials
from lockgate.oci.registry.auth import merge_scopes, parse_challenges
from lockgate.oci.registry.client import RegistryClient
from lockgate.oci.registry.options import RegistryOptions
from tests.fixtures.registry import IDENTITY_TOKEN, PASSWORD, USERNAME, RunningRegistry, unique_repo


def _blob(data: bytes) -> Descriptor:
    import hashlib

    return Descriptor("application/octet-stream", "sha256:" + hashlib.sha256(data).hexdigest(), len(data))


def _roundtrip(c: RegistryClient, repo: str) -> None:
    data = os.urandom(1000)
    desc = _blob(data)
    c.upload_blob(repo, desc, io.BytesIO(data))
    with c.open_blob(repo, desc) as f:
        assert f.read() == data


@pytest.mark.parametrize("fixture", ["basic_registry", "token_registry"])
def test_right_credentials_push_and_pull(
    fixture: str, request: pytest.FixtureRequest, small_image, skopeo_push
) -> None:
    reg: RunningRegistry = request.getfixturevalue(fixture)
    repo = unique_repo()
    digest = skopeo_push(small_image, reg, repo, "v1")
    with RegistryClient(reg.host, reg.options()) as c:
        head = c.head_manifest(repo, "v1")  # HEAD answers 401 without a body
        assert head is not None and head.digest == digest
        assert c.get_manifest(repo, "v1")[2] == digest
        _roundtrip(c, repo)
        assert c.tags(repo) == ["v1"]


@pytest.mark.parametrize("fixture", ["basic_registry", "token_registry"])
def test_wrong_or_missing_credentials(fixture: str, request: pytest.FixtureRequest) -> None:
    reg: RunningRegistry = request.getfixturevalue(fixture)
    repo = unique_repo()
    with RegistryClient(reg.host, reg.options(password="wrong")) as c, pytest.raises(AuthError, match=reg.host):
        c.get_manifest(repo, "v1")
    with (
        RegistryClient(reg.host, reg.options(username=None, password=None)) as c,
        pytest.raises(AuthError, match=r"docker login|authentication"),
    ):
        c.get_manifest(repo, "v1")


def test_token_scopes_per_repository(token_registry: RunningRegistry, small_image, skopeo_push) -> None:
    src_repo, dst_repo = unique_repo(), unique_repo()
    skopeo_push(small_image, token_registry, src_repo, "v1")
    issuer = token_registry.issuer
    assert issuer is not None
    with RegistryClient(token_registry.host, token_registry.options()) as c:
        start = len(issuer.requests)
        raw, _, _ = c.get_manifest(src_repo, "v1")
        layer = Descriptor.from_dict(json.loads(raw)["layers"][0])
        assert c.mount_blob(dst_repo, layer.digest, src_repo)
        c.catalog()
        seen = [r for r in issuer.requests[start:] if not r.get("denied")]
        scopes = [tuple(r["scope"]) for r in seen]
        assert (f"repository:{src_repo}:pull",) in scopes
        assert tuple(sorted((f"repository:{dst_repo}:pull,push", f"repository:{src_repo}:pull"))) in scopes
        assert ("registry:catalog:*",) in scopes
        assert all(r["user"] == USERNAME and r["service"] == ["lockgate-registry"] for r in seen)
        # Tokens are cached: a second pull of the same repository asks the issuer for nothing.
        before = len(issuer.requests)
        c.get_manifest(src_repo, "v1")
        assert len(issuer.requests) == before


def test_anonymous_token_pull_of_public_repo(token_registry: RunningRegistry, small_image, skopeo_push) -> None:
    repo = unique_repo("public/img")
    digest = skopeo_push(small_image, token_registry, repo, "v1")
    with RegistryClient(token_registry.host, RegistryOptions(retries=1)) as c:
        assert c.get_manifest(repo, "v1")[2] == digest
        # The anonymous token has no push right.
        with pytest.raises(AuthError, match=repo):
            c.upload_blob(repo, _blob(b"x"), io.BytesIO(b"x"))


def _write_docker_config(d: Path, config: dict) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text(json.dumps(config))
    return d


def test_docker_config_auths(
    basic_registry: RunningRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_image, skopeo_push
) -> None:
    repo = unique_repo()
    skopeo_push(small_image, basic_registry, repo, "v1")
    auth = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    cfg = _write_docker_config(tmp_path / "d1", {"auths": {f"http://{basic_registry.host}": {"auth": auth}}})
    with RegistryClient(basic_registry.host, RegistryOptions(docker_config=cfg, retries=1)) as c:
        assert c.tags(repo) == ["v1"]
    # username/password form, found through $DOCKER_CONFIG.
    cfg2 = _write_docker_config(
        tmp_path / "d2", {"auths": {basic_registry.host: {"username": USERNAME, "password": PASSWORD}}}
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(cfg2))
    with RegistryClient(basic_registry.host, RegistryOptions(retries=1)) as c:
        assert c.tags(repo) == ["v1"]
    bad = base64.b64encode(f"{USERNAME}:nope".encode()).decode()
    cfg3 = _write_docker_config(tmp_path / "d3", {"auths": {basic_registry.host: {"auth": bad}}})
    with (
        RegistryClient(basic_registry.host, RegistryOptions(docker_config=cfg3, retries=1)) as c,
        pytest.raises(AuthError),
    ):
        c.tags(repo)


def test_identity_token_uses_refresh_grant(token_registry: RunningRegistry, tmp_path: Path) -> None:
    cfg = _write_docker_config(
        tmp_path / "d", {"auths": {token_registry.host: {"auth": "", "identitytoken": IDENTITY_TOKEN}}}
    )
    issuer = token_registry.issuer
    assert issuer is not None
    repo = unique_repo()
    start = len(issuer.requests)
    with RegistryClient(token_registry.host, RegistryOptions(docker_config=cfg, retries=1)) as c:
        _roundtrip(c, repo)
    posts = [r for r in issuer.requests[start:] if r["method"] == "POST"]
    assert posts and not any(r.get("denied") for r in posts)
    assert posts[0]["client_id"] == ["lockgate"]
    cfg_bad = _write_docker_config(
        tmp_path / "bad", {"auths": {token_registry.host: {"identitytoken": "not-the-token"}}}
    )
    with (
        RegistryClient(token_registry.host, RegistryOptions(docker_config=cfg_bad, retries=1)) as c,
        pytest.raises(AuthError, match="rejected"),
    ):
        c.get_manifest(repo, "v1")


def _install_helper(bindir: Path, name: str, store: dict[str, tuple[str, str]]) -> None:
    """A real docker-credential-<name> executable answering ``get`` from a fixed store."""
    bindir.mkdir(parents=True, exist_ok=True)
    script = bindir / f"docker-credential-{name}"
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        f"STORE = {json.dumps(store)!r}\n"
        "assert sys.argv[1] == 'get'\n"
        "server = sys.stdin.read().strip()\n"
        "store = json.loads(STORE)\n"
        "if server not in store:\n"
        "    print('credentials not found in native keychain'); sys.exit(1)\n"
        "u, s = store[server]\n"
        "print(json.dumps({'ServerURL': server, 'Username': u, 'Secret': s}))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_credential_helpers(
    basic_registry: RunningRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_image, skopeo_push
) -> None:
    repo = unique_repo()
    skopeo_push(small_image, basic_registry, repo, "v1")
    bindir = tmp_path / "bin"
    _install_helper(bindir, "lgtest", {basic_registry.host: (USERNAME, PASSWORD)})
    _install_helper(bindir, "lgempty", {})
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    per_registry = _write_docker_config(tmp_path / "h1", {"credHelpers": {basic_registry.host: "lgtest"}})
    with RegistryClient(basic_registry.host, RegistryOptions(docker_config=per_registry, retries=1)) as c:
        assert c.tags(repo) == ["v1"]
    store = _write_docker_config(tmp_path / "h2", {"credsStore": "lgtest"})
    with RegistryClient(basic_registry.host, RegistryOptions(docker_config=store, retries=1)) as c:
        assert c.tags(repo) == ["v1"]
    empty = _write_docker_config(tmp_path / "h3", {"credsStore": "lgempty"})
    assert credentials.lookup(basic_registry.host, RegistryOptions(docker_config=empty)) is None
    missing = _write_docker_config(tmp_path / "h4", {"credsStore": "does-not-exist"})
    with pytest.raises(AuthError, match="docker-credential-does-not-exist not found"):
        credentials.lookup(basic_registry.host, RegistryOptions(docker_config=missing))


def test_credentials_lookup_rules(tmp_path: Path) -> None:
    hub = base64.b64encode(b"hubuser:hubpass").decode()
    cfg = _write_docker_config(
        tmp_path / "c",
        {"auths": {"https://index.docker.io/v1/": {"auth": hub}, "https://reg.example:5000/v2/": {"auth": hub}}},
    )
    opts = RegistryOptions(docker_config=cfg)
    found = credentials.lookup("docker.io", opts)
    assert found is not None and (found.username, found.password) == ("hubuser", "hubpass")
    assert credentials.lookup("reg.example:5000", opts) is not None
    assert credentials.lookup("other.example", opts) is None
    # Explicit options win over the config file.
    explicit = credentials.lookup("docker.io", RegistryOptions(docker_config=cfg, username="u", password="p"))
    assert explicit is not None and explicit.username == "u"
    assert "hubpass" not in repr(found)
    broken = _write_docker_config(tmp_path / "b", {"auths": {"x.example": {"auth": "***"}}})
    with pytest.raises(ConfigError, match=r"invalid 'auth'"):
        credentials.lookup("x.example", RegistryOptions(docker_config=broken))
    (tmp_path / "j").mkdir()
    (tmp_path / "j" / "config.json").write_text("{nope")
    with pytest.raises(ConfigError, match="not valid JSON"):
        credentials.lookup("x.example", RegistryOptions(docker_config=tmp_path / "j"))
    assert "secret" not in repr(RegistryOptions(username="u", password="secret"))


def test_parse_challenges() -> None:
    (ch,) = parse_challenges(
        'Bearer realm="https://auth.example/token",service="registry.example",'
        'scope="repository:a/b:pull,push repository:c:pull"'
    )
    assert ch.scheme == "bearer"
    assert ch.params == {
        "realm": "https://auth.example/token",
        "service": "registry.example",
        "scope": "repository:a/b:pull,push repository:c:pull",
    }
    both = parse_challenges('Basic realm="x\\"y", Bearer realm="https://t/", error=insufficient_scope')
    assert [c.scheme for c in both] == ["basic", "bearer"]
    assert both[0].params == {"realm": 'x"y'}
    assert both[1].params == {"realm": "https://t/", "error": "insufficient_scope"}
    assert parse_challenges("") == []
    assert merge_scopes(["repository:a:pull", "repository:a:push", "registry:catalog:*", "repository:b:pull"]) == (
        "registry:catalog:*",
        "repository:a:pull,push",
        "repository:b:pull",
    )


def test_one_client_shared_by_threads(token_registry: RunningRegistry) -> None:
    """Copies run blob transfers in threads on one client: tokens and the scheme probe are shared."""
    from concurrent.futures import ThreadPoolExecutor

    issuer = token_registry.issuer
    assert issuer is not None
    repo = unique_repo()
    blobs = [os.urandom(50_000 + i) for i in range(12)]
    start = len(issuer.requests)
    with RegistryClient(token_registry.host, token_registry.options()) as c:

        def work(data: bytes) -> bool:
            desc = _blob(data)
            c.upload_blob(repo, desc, io.BytesIO(data))
            with c.open_blob(repo, desc) as f:
                return f.read() == data

        with ThreadPoolExecutor(4) as pool:
            assert all(pool.map(work, blobs))
    # One token for pull,push (plus at most one per racing thread before the first was cached).
    assert 1 <= len(issuer.requests) - start <= 5
