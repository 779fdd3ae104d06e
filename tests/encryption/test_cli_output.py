"""CLI conventions of ``encrypt``/``decrypt``: ``-f json`` (default) or ``-f table``, ``-o FILE``, ``-q``.

The digests printed are checked against skopeo (the oracle): the SHA-256 of the manifest it reads
from the written layout, and skopeo decrypts what lockgate encrypted.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.encryption._helpers import KeyPair, lockgate, skopeo, top_manifest


def _manifest_digest(ref: str) -> str:
    p = skopeo("inspect", "--raw", ref)
    assert p.returncode == 0, p.stderr
    return "sha256:" + hashlib.sha256(p.stdout.encode()).hexdigest()


def test_encrypt_json_table_output_and_quiet(tmp_path: Path, plain: Path, keys: dict[str, KeyPair]) -> None:
    src, recipient = f"oci:{plain}:v1", f"jwe:{keys['ec256'].pub}"
    dst = f"oci:{tmp_path}/enc:v1"
    r = lockgate("encrypt", src, dst, "-r", recipient)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc == {"operation": "encrypt", "source": src, "destination": dst, "digest": _manifest_digest(dst)}
    assert r.stderr == f"encrypted {src} -> {dst}\n"
    # -q silences stderr only: the result keeps its format
    q = lockgate("-q", "encrypt", src, f"oci:{tmp_path}/q:v1", "-r", recipient)
    assert q.returncode == 0 and q.stderr == ""
    assert json.loads(q.stdout)["digest"] == _manifest_digest(f"oci:{tmp_path}/q:v1")
    t = lockgate("-q", "encrypt", src, f"oci:{tmp_path}/t:v1", "-r", recipient, "-f", "table")
    assert t.returncode == 0 and t.stderr == ""
    assert t.stdout == _manifest_digest(f"oci:{tmp_path}/t:v1") + "\n"
    # -o: nothing on stdout, the same document in the file
    out = tmp_path / "enc.json"
    o = lockgate("encrypt", src, f"oci:{tmp_path}/o:v1", "-r", recipient, "-f", "json", "-o", str(out))
    assert o.returncode == 0 and o.stdout == ""
    assert json.loads(out.read_text())["digest"] == _manifest_digest(f"oci:{tmp_path}/o:v1")
    # what was encrypted is a real ocicrypt image: skopeo opens it with the private key
    p = skopeo("copy", "-q", "--decryption-key", str(keys["ec256"].pkcs8), dst, f"oci:{tmp_path}/s:v1")
    assert p.returncode == 0, p.stderr
    assert top_manifest(tmp_path / "s")[1] == top_manifest(plain)[1]


def test_decrypt_table_to_file(tmp_path: Path, plain: Path, keys: dict[str, KeyPair]) -> None:
    enc = f"oci:{tmp_path}/enc:v1"
    p = skopeo("copy", "-q", "--encryption-key", f"jwe:{keys['rsa'].pub}", f"oci:{plain}:v1", enc)
    assert p.returncode == 0, p.stderr
    out = tmp_path / "digest.txt"
    dec = f"oci:{tmp_path}/dec:v1"
    r = lockgate("decrypt", enc, dec, "--key", str(keys["rsa"].priv), "-f", "table", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == f"decrypted {enc} -> {dec}\n"
    assert out.read_text() == _manifest_digest(dec) + "\n"
    assert top_manifest(tmp_path / "dec") == (out.read_text().strip(), top_manifest(plain)[1])


def test_bad_format_or_output_fails_before_any_work(tmp_path: Path, plain: Path, keys: dict[str, KeyPair]) -> None:
    """Usage errors (exit 2, one line) are found before an image is read or written."""
    src, recipient = f"oci:{plain}:v1", f"jwe:{keys['rsa'].pub}"
    cases = [
        ("encrypt", src, f"oci:{tmp_path}/a:v1", "-r", recipient, "-f", "sarif"),
        ("encrypt", src, f"oci:{tmp_path}/b:v1", "-r", recipient, "-o", str(tmp_path / "no" / "such" / "x.json")),
        ("encrypt", src, f"oci:{tmp_path}/c:v1", "-r", recipient, "-o", str(tmp_path)),
        ("decrypt", src, f"oci:{tmp_path}/d:v1", "--key", str(keys["rsa"].priv), "-f", "html"),
    ]
    for argv in cases:
        r = lockgate(*argv)
        assert r.returncode == 2, (argv, r.stderr)
        assert r.stdout == "" and r.stderr.count("\n") == 1 and r.stderr.startswith("lockgate: error:"), r.stderr
        assert not Path(argv[2].split(":")[1]).exists()
    assert not (tmp_path / "no").exists()
