"""Referrers: the ``sha256-<hex>`` fallback tag schema against the real registry, and the
OCI 1.1 referrers API against a local stand-in (Debian's registry 2.8 has no referrers API:
``GET /v2/<name>/referrers/<digest>`` answers 404, so the API path can only be exercised there).
"""

from __future__ import annotations

import hashlib
import io
import json

from lockgate.oci.model import OCI_EMPTY, OCI_INDEX, OCI_MANIFEST, Descriptor
from lockgate.oci.registry.client import RegistryClient, referrers_tag
from lockgate.oci.registry.options import RegistryOptions
from tests.fixtures.registry import RunningRegistry, skopeo_inspect_flags, skopeo_raw, unique_repo
from tests.registry.standin import Reply, Seen, standin


def _desc(media_type: str, data: bytes) -> Descriptor:
    return Descriptor(media_type, "sha256:" + hashlib.sha256(data).hexdigest(), len(data))


def _artifact(subject: Descriptor, artifact_type: str, payload: bytes, note: str) -> tuple[bytes, list]:
    config = b"{}"
    blobs = [(_desc(OCI_EMPTY, config), config), (_desc("application/json", payload), payload)]
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": blobs[0][0].to_dict(),
        "layers": [blobs[1][0].to_dict()],
        "subject": subject.to_dict(),
        "annotations": {"org.lockgate.note": note},
    }
    return json.dumps(manifest).encode(), blobs


def test_fallback_tag_schema_on_real_registry(registry: RunningRegistry, small_image, skopeo_push) -> None:
    repo = unique_repo()
    skopeo_push(small_image, registry, repo, "v1")
    with RegistryClient(registry.host, registry.options()) as c:
        head = c.head_manifest(repo, "v1")
        assert head is not None
        subject = head
        assert c.referrers(repo, subject.digest) == []
        pushed = []
        for kind, note in (("application/vnd.lockgate.sbom+json", "sbom"), ("application/vnd.lockgate.sig", "sig")):
            raw, blobs = _artifact(subject, kind, json.dumps({"kind": note}).encode(), note)
            for d, data in blobs:
                if not c.has_blob(repo, d.digest):
                    c.upload_blob(repo, d, io.BytesIO(data))
            digest = c.add_referrer(repo, raw, OCI_MANIFEST)
            assert digest == "sha256:" + hashlib.sha256(raw).hexdigest()
            pushed.append((digest, kind, note))
        # Adding the same referrer again changes nothing.
        c.add_referrer(repo, raw, OCI_MANIFEST)
        found = c.referrers(repo, subject.digest)
        assert [(d.digest, d.artifact_type, d.annotation("org.lockgate.note")) for d in found] == pushed
        only_sbom = c.referrers(repo, subject.digest, artifact_type="application/vnd.lockgate.sbom+json")
        assert [d.digest for d in only_sbom] == [pushed[0][0]]
        assert c.referrers(repo, "sha256:" + "0" * 64) == []
    # The oracle: skopeo reads the fallback tag as an OCI index listing both referrers.
    tag = referrers_tag(subject.digest)
    assert tag == "sha256-" + subject.digest.removeprefix("sha256:")
    index = json.loads(
        skopeo_raw("inspect", "--raw", *skopeo_inspect_flags(registry), f"docker://{registry.ref(repo, tag)}")
    )
    assert index["mediaType"] == OCI_INDEX
    assert [m["digest"] for m in index["manifests"]] == [p[0] for p in pushed]
    assert all(m["mediaType"] == OCI_MANIFEST for m in index["manifests"])


def test_referrers_api_on_standin() -> None:
    subject = "sha256:" + "1" * 64
    entries = [
        {"mediaType": OCI_MANIFEST, "digest": "sha256:" + c * 64, "size": 10, "artifactType": t}
        for c, t in (("a", "application/x-sbom"), ("b", "application/x-sig"), ("c", "application/x-sbom"))
    ]

    def handler(req: Seen) -> Reply:
        if req.path == "/v2/":
            return Reply(200, b"{}")
        if req.path.startswith(f"/v2/app/referrers/{subject}"):
            page2 = "page=2" in req.path
            body = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries[2:] if page2 else entries[:2]}
            headers = {"Content-Type": OCI_INDEX}
            if not page2:
                headers["Link"] = f'</v2/app/referrers/{subject}?page=2>; rel="next"'
            return Reply(200, json.dumps(body).encode(), headers)
        return Reply(404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"no"}]}')

    with standin(handler) as s, RegistryClient(s.host, RegistryOptions(retries=0)) as c:
        found = c.referrers("app", subject)
        assert [d.digest for d in found] == [e["digest"] for e in entries]
        sboms = c.referrers("app", subject, artifact_type="application/x-sbom")  # filtered client-side
        assert [d.digest for d in sboms] == [entries[0]["digest"], entries[2]["digest"]]
        paths = [r.path for r in s.requests if "/referrers/" in r.path]
        assert "artifactType=application%2Fx-sbom" in paths[2]
        # The fallback tag was never consulted: the API answered.
        assert not any("/manifests/" in r.path for r in s.requests)


def test_add_referrer_with_api_skips_fallback_tag() -> None:
    subject = _desc(OCI_MANIFEST, b"subject manifest")
    raw, _ = _artifact(subject, "application/x-sig", b"sig", "n")
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()

    def handler(req: Seen) -> Reply:
        if req.path == "/v2/":
            return Reply(200, b"{}")
        if req.method == "PUT" and req.path == f"/v2/app/manifests/{digest}":
            return Reply(201, headers={"Docker-Content-Digest": digest, "OCI-Subject": subject.digest})
        return Reply(500)

    with standin(handler) as s, RegistryClient(s.host, RegistryOptions(retries=0)) as c:
        assert c.add_referrer("app", raw, OCI_MANIFEST) == digest
        calls = [(r.method, r.path) for r in s.requests if r.path != "/v2/"]
    assert calls == [("PUT", f"/v2/app/manifests/{digest}")]
    assert s.requests[-1].headers["content-type"] == OCI_MANIFEST
    assert s.requests[-1].body == raw
