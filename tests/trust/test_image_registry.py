"""Image signatures in a real registry (Debian's docker-registry started by the fixture).

skopeo is the oracle for what lands in the registry: the ``sha256-<hex>.sig`` tag, its media types and the
referrers fallback index (distribution 2.8 has no referrers API, so the ``sha256-<hex>`` tag schema is used).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from lockgate.oci.registry.client import RegistryClient
from tests.fixtures.registry import OCILayout, RunningRegistry, skopeo, skopeo_inspect_flags, skopeo_raw, unique_repo

from ._helpers import lockgate

SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIG_ARTIFACT = "application/vnd.dev.cosign.artifact.sig.v1+json"
Push = Callable[[OCILayout, RunningRegistry, str, str], str]


def _raw(reg: RunningRegistry, ref: str) -> bytes:
    return skopeo_raw("inspect", "--raw", *skopeo_inspect_flags(reg), f"docker://{ref}")


def test_sign_and_verify_in_registry(
    registry: RunningRegistry, small_image: OCILayout, skopeo_push: Push, trust_keys: dict[str, Path]
) -> None:
    repo = unique_repo("trust/app")
    digest = skopeo_push(small_image, registry, repo, "v1")
    ref = registry.ref(repo, "v1")
    r = lockgate("sign", ref, "--key", f"{trust_keys['alice']}.key", "-a", "build=42")
    assert r.returncode == 0, r.stderr
    sig_ref = registry.ref(repo, digest.replace(":", "-") + ".sig")
    m = json.loads(_raw(registry, sig_ref))
    assert m["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert [x["mediaType"] for x in m["layers"]] == [SIMPLESIGNING]
    assert "dev.cosignproject.cosign/signature" in m["layers"][0]["annotations"]
    tags = json.loads(skopeo("list-tags", *skopeo_inspect_flags(registry), f"docker://{registry.host}/{repo}").stdout)
    assert sorted(tags["Tags"]) == sorted(["v1", digest.replace(":", "-") + ".sig"])

    with RegistryClient(registry.host, registry.options()) as client:
        payload_desc = m["layers"][0]["digest"]
        from lockgate.oci.model import Descriptor

        with client.open_blob(repo, Descriptor(SIMPLESIGNING, payload_desc, m["layers"][0]["size"])) as f:
            payload = json.loads(f.read())
    assert payload["critical"]["identity"]["docker-reference"] == f"{registry.host}/{repo}"
    assert payload["critical"]["image"]["docker-manifest-digest"] == digest

    v = lockgate("verify", ref, "--key", f"{trust_keys['alice']}.pub", "-a", "build=42")
    assert v.returncode == 0, v.stderr
    by_digest = lockgate("verify", registry.ref(repo, digest), "--key", f"{trust_keys['alice']}.pub")
    assert by_digest.returncode == 0, by_digest.stderr
    wrong = lockgate("verify", ref, "--key", f"{trust_keys['mallory']}.pub")
    assert wrong.returncode == 1


def test_replayed_signature_in_other_repository_fails_unless_mirrored(
    registry: RunningRegistry, small_image: OCILayout, skopeo_push: Push, trust_keys: dict[str, Path], tmp_path: Path
) -> None:
    src_repo, dst_repo = unique_repo("trust/prod"), unique_repo("trust/copy")
    digest = skopeo_push(small_image, registry, src_repo, "v1")
    assert lockgate("sign", registry.ref(src_repo, "v1"), "--key", f"{trust_keys['alice']}.key").returncode == 0
    sig_tag = digest.replace(":", "-") + ".sig"
    flags = [*registry.skopeo_flags("src"), *registry.skopeo_flags("dest")]
    skopeo(
        "copy",
        "--quiet",
        *flags,
        f"docker://{registry.ref(src_repo, 'v1')}",
        f"docker://{registry.ref(dst_repo, 'v1')}",
    )
    skopeo(
        "copy",
        "--quiet",
        *flags,
        f"docker://{registry.ref(src_repo, sig_tag)}",
        f"docker://{registry.ref(dst_repo, sig_tag)}",
    )
    r = lockgate("verify", registry.ref(dst_repo, "v1"), "--key", f"{trust_keys['alice']}.pub")
    assert r.returncode == 1
    assert "replayed" in r.stderr

    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "trust:\n"
        f'  - scope: "{registry.host}/trust/*"\n'
        f"    signers: {{keys: [{trust_keys['alice']}.pub], threshold: 1}}\n"
        f'  - scope: "{registry.host}/{dst_repo}"\n'
        f"    signers: {{keys: [{trust_keys['alice']}.pub]}}\n"
        f'    mirrors: ["{registry.host}/{src_repo}"]\n'
    )
    ok = lockgate("verify", registry.ref(dst_repo, "v1"), "--policy", str(policy), "-f", "json")
    assert ok.returncode == 0, ok.stderr + ok.stdout
    doc = json.loads(ok.stdout)
    assert doc["allowed"] is True and doc["scope"] == f"{registry.host}/{dst_repo}"
    # the source repository itself is covered by the broader scope
    assert lockgate("verify", registry.ref(src_repo, "v1"), "--policy", str(policy)).returncode == 0
    # an image no scope covers is denied
    other = lockgate("verify", f"{registry.host}/elsewhere/app:v1", "--policy", str(policy))
    assert other.returncode == 1 and "no trust scope matches" in other.stderr


def test_referrer_mode_uses_fallback_index(
    registry: RunningRegistry, small_image: OCILayout, skopeo_push: Push, trust_keys: dict[str, Path]
) -> None:
    repo = unique_repo("trust/ref")
    digest = skopeo_push(small_image, registry, repo, "v1")
    r = lockgate("sign", registry.ref(repo, "v1"), "--key", f"{trust_keys['bob']}.key", "--referrer")
    assert r.returncode == 0, r.stderr
    fallback = json.loads(_raw(registry, registry.ref(repo, digest.replace(":", "-"))))
    assert [m.get("artifactType") for m in fallback["manifests"]] == [SIG_ARTIFACT]
    ref_manifest = json.loads(_raw(registry, registry.ref(repo, fallback["manifests"][0]["digest"])))
    assert ref_manifest["subject"]["digest"] == digest
    v = lockgate("verify", registry.ref(repo, "v1"), "--key", f"{trust_keys['bob']}.pub", "-f", "json")
    assert v.returncode == 0, v.stderr
    assert {s["source"] for s in json.loads(v.stdout)["signatures"] if s["ok"]} == {"tag", "referrer"}


def test_all_platforms_signs_index_and_children(
    registry: RunningRegistry, small_image: OCILayout, skopeo_push: Push, trust_keys: dict[str, Path], tmp_path: Path
) -> None:
    from tests.fixtures.registry import build_oci_image

    repo = unique_repo("trust/multi")
    arm = build_oci_image(tmp_path / "arm", [{"etc/arch": b"arm64\n"}], "v1", "--arch", "arm64")
    d_amd = skopeo_push(small_image, registry, repo, "amd64")
    d_arm = skopeo_push(arm, registry, repo, "arm64")
    entries = []
    for d, arch in ((d_amd, "amd64"), (d_arm, "arm64")):
        raw = _raw(registry, registry.ref(repo, d))
        entries.append(
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": d,
                "size": len(raw),
                "platform": {"os": "linux", "architecture": arch},
            }
        )
    index = json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}
    ).encode()
    with RegistryClient(registry.host, registry.options()) as client:
        client.put_manifest(repo, index, "application/vnd.oci.image.index.v1+json", "multi")
    d_index = "sha256:" + hashlib.sha256(index).hexdigest()
    r = lockgate("sign", registry.ref(repo, "multi"), "--key", f"{trust_keys['alice']}.key", "--all-platforms")
    assert r.returncode == 0, r.stderr
    for d in (d_index, d_amd, d_arm):
        m = json.loads(_raw(registry, registry.ref(repo, d.replace(":", "-") + ".sig")))
        assert m["layers"][0]["mediaType"] == SIMPLESIGNING
        v = lockgate("verify", registry.ref(repo, d), "--key", f"{trust_keys['alice']}.pub")
        assert v.returncode == 0, v.stderr


def test_basic_auth_registry_with_password_stdin(
    basic_registry: RunningRegistry, small_image: OCILayout, skopeo_push: Push, trust_keys: dict[str, Path]
) -> None:
    repo = unique_repo("trust/auth")
    digest = skopeo_push(small_image, basic_registry, repo, "v1")
    ref = basic_registry.ref(repo, "v1")
    creds = ("--username", basic_registry.username or "", "--password-stdin")
    pw = f"{basic_registry.password}\n"
    r = lockgate("sign", ref, "--key", f"{trust_keys['carol']}.key", *creds, stdin=pw)
    assert r.returncode == 0, r.stderr
    m = json.loads(_raw(basic_registry, basic_registry.ref(repo, digest.replace(":", "-") + ".sig")))
    assert m["layers"][0]["mediaType"] == SIMPLESIGNING
    v = lockgate("verify", ref, "--key", f"{trust_keys['carol']}.pub", *creds, stdin=pw)
    assert v.returncode == 0, v.stderr
    anon = lockgate("verify", ref, "--key", f"{trust_keys['carol']}.pub")
    assert anon.returncode == 3 and "Traceback" not in anon.stderr
