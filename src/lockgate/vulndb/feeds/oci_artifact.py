"""The built advisory database as an OCI artifact, for air-gapped sites: push it, pull it back.

The artifact is an OCI 1.1 image manifest with ``artifactType`` :data:`ARTIFACT_TYPE`, the
empty config, and one layer: the SQLite file compressed with zstd. Pulling streams the blob
through the registry client's digest-verifying reader, decompresses it under a size limit
into a temporary file next to the target, checks that it opens as a lockgate database of
the current schema, and only then swaps it in atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from lockgate.errors import InputError, LimitExceededError
from lockgate.oci.model import OCI_EMPTY, OCI_MANIFEST, Descriptor
from lockgate.oci.reference import Reference
from lockgate.oci.registry.client import RegistryClient
from lockgate.oci.registry.options import RegistryOptions
from lockgate.vulndb.store import SCHEMA_VERSION, Store

ARTIFACT_TYPE = "application/vnd.lockgate.vulndb.v1"
LAYER_MEDIA_TYPE = "application/vnd.lockgate.vulndb.layer.v1.sqlite+zstd"
MAX_DB_BYTES = 8 * 1024 * 1024 * 1024
_EMPTY = b"{}"


def _sha256_file(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def export_db(db_path: Path, ref: Reference, options: RegistryOptions | None = None) -> str:
    """Push the database at ``db_path`` to ``ref``; returns the manifest digest."""
    import hashlib

    import zstandard

    with Store(db_path) as store:
        built = store.built_at.isoformat()
        counts = store.counts_by_ecosystem()
    with tempfile.TemporaryDirectory(prefix="lockgate-db-export-") as tmp:
        blob = Path(tmp) / "db.zst"
        with open(db_path, "rb") as src, open(blob, "wb") as dst:
            zstandard.ZstdCompressor(level=10).copy_stream(src, dst)
        layer = Descriptor(LAYER_MEDIA_TYPE, _sha256_file(blob), blob.stat().st_size)
        empty = Descriptor(OCI_EMPTY, "sha256:" + hashlib.sha256(_EMPTY).hexdigest(), len(_EMPTY))
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": ARTIFACT_TYPE,
            "config": {"mediaType": empty.media_type, "digest": empty.digest, "size": empty.size, "data": "e30="},
            "layers": [
                {
                    "mediaType": layer.media_type,
                    "digest": layer.digest,
                    "size": layer.size,
                    "annotations": {"org.opencontainers.image.title": "lockgate.db"},
                }
            ],
            "annotations": {
                "org.opencontainers.image.created": built,
                "dev.lockgate.vulndb.schema": str(SCHEMA_VERSION),
                "dev.lockgate.vulndb.ecosystems": ",".join(counts),
            },
        }
        raw = json.dumps(manifest, separators=(",", ":")).encode()
        with RegistryClient(ref.registry, options) as client:
            import io

            if not client.has_blob(ref.repository, empty.digest):
                client.upload_blob(ref.repository, empty, io.BytesIO(_EMPTY))
            if not client.has_blob(ref.repository, layer.digest):
                with open(blob, "rb") as f:
                    client.upload_blob(ref.repository, layer, f)
            return client.put_manifest(ref.repository, raw, OCI_MANIFEST, ref.tag)


def pull_db(ref: Reference, db_path: Path, options: RegistryOptions | None = None) -> str:
    """Fetch the database artifact at ``ref`` and atomically replace ``db_path``; returns the manifest digest."""
    import zstandard

    with RegistryClient(ref.registry, options) as client:
        raw, _, digest = client.get_manifest(ref.repository, ref.identifier or "latest")
        try:
            doc = json.loads(raw)
        except ValueError:
            raise InputError(f"{ref}: manifest is not JSON") from None
        if not isinstance(doc, dict) or doc.get("artifactType") != ARTIFACT_TYPE:
            got = doc.get("artifactType") if isinstance(doc, dict) else None
            raise InputError(f"{ref} is not a lockgate advisory database (artifactType {got!r})")
        layers = [Descriptor.from_dict(d) for d in doc.get("layers") or []]
        db_layers = [d for d in layers if d.media_type == LAYER_MEDIA_TYPE]
        if len(db_layers) != 1:
            raise InputError(f"{ref}: expected one {LAYER_MEDIA_TYPE} layer, found {len(db_layers)}")
        layer = db_layers[0]
        db_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{db_path.name}.", suffix=".pull", dir=db_path.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, client.open_blob(ref.repository, layer) as blob:
                reader = zstandard.ZstdDecompressor().stream_reader(blob)
                total = 0
                while chunk := reader.read(1 << 20):
                    total += len(chunk)
                    if total > MAX_DB_BYTES:
                        raise LimitExceededError(f"{ref}: database decompresses past {MAX_DB_BYTES} bytes")
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            Store(tmp).close()  # refuse anything that is not a current lockgate database
            tmp.chmod(0o644)
            tmp.replace(db_path)
        except zstandard.ZstdError as e:
            tmp.unlink(missing_ok=True)
            raise InputError(f"{ref}: database layer is not valid zstd ({e})") from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return digest
