"""The in-toto demo supply chain from the corpus (``intoto/in-toto/demo_files`` and ``demo_dsse_files``):
lockgate signs the unsigned template with alice and verifies; the in-toto reference implementation
(``in-toto-verify`` 3.1.0) is the oracle that must agree on every outcome."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ._helpers import lockgate, one_line_reason
from ._intoto import run_intoto

TAR_WRAPPER = "#!/usr/bin/env python\nimport subprocess, sys\nsys.exit(subprocess.call(['tar', *sys.argv[1:]]))\n"


def _workspace(corpus: Path, tmp_path: Path, variant: str = "demo_files") -> Path:
    """A directory with the final product, the two links, alice's keys and the untar inspection script."""
    src = corpus / "intoto/in-toto"
    ws = tmp_path / "ws"
    ws.mkdir()
    for name in ("foo.tar.gz", "alice", "alice.pub", "bob", "bob.pub"):
        shutil.copy(src / "demo_files" / name, ws / name)
    for link in (src / variant).glob("*.link"):
        shutil.copy(link, ws / link.name)
    shutil.copy(src / variant / "demo.layout.template", ws / "demo.layout.template")
    (ws / "scripts").mkdir()
    (ws / "scripts/tar").write_text(TAR_WRAPPER)
    for p in ws.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return ws


def _sign(ws: Path, *keys: str) -> None:
    args = [a for k in keys for a in ("--key", k)]
    r = lockgate("step", "sign-layout", "demo.layout.template", *args, "--out", "root.layout", cwd=ws)
    assert r.returncode == 0, r.stderr


def _both(ws: Path, *pubs: str) -> tuple[int, int, str]:
    ours = lockgate("verify-pipeline", "--layout", "root.layout", *[a for p in pubs for a in ("--layout-key", p)],
                    "--links", ".", cwd=ws)  # fmt: skip
    theirs = run_intoto("in-toto-verify", "--layout", "root.layout", "--verification-keys", *pubs, cwd=ws)
    reason = "" if ours.returncode == 0 else one_line_reason(ours)
    return ours.returncode, theirs.returncode, reason


@pytest.mark.parametrize("variant", ["demo_files", "demo_dsse_files"])
def test_demo_supply_chain_verifies(corpus: Path, tmp_path: Path, variant: str) -> None:
    ws = _workspace(corpus, tmp_path, variant)
    _sign(ws, "alice")
    ours, theirs, reason = _both(ws, "alice.pub")
    assert (ours, theirs) == (0, 0), reason


def test_layout_signed_by_two_owners(corpus: Path, tmp_path: Path) -> None:
    ws = _workspace(corpus, tmp_path)
    _sign(ws, "alice", "bob")
    assert _both(ws, "alice.pub", "bob.pub")[:2] == (0, 0)
    _sign(ws, "alice")
    ours, theirs, reason = _both(ws, "alice.pub", "bob.pub")
    assert (ours, theirs) == (1, 1) and "not signed by layout key" in reason


def test_wrong_layout_key(corpus: Path, tmp_path: Path) -> None:
    ws = _workspace(corpus, tmp_path)
    _sign(ws, "alice")
    ours, theirs, reason = _both(ws, "bob.pub")
    assert (ours, theirs) == (1, 1) and "not signed by layout key" in reason


def test_altered_final_product(corpus: Path, tmp_path: Path) -> None:
    """A corrupt tarball makes the untar inspection fail in both implementations."""
    ws = _workspace(corpus, tmp_path)
    _sign(ws, "alice")
    (ws / "foo.tar.gz").write_bytes(b"not a tarball\n")
    ours, theirs, reason = _both(ws, "alice.pub")
    assert (ours, theirs) == (1, 1)
    assert "inspection 'untar'" in reason


def test_altered_product_and_rule_semantics(corpus: Path, tmp_path: Path) -> None:
    """A different but valid tarball is not consumed by MATCH; the demo rules then allow it implicitly (both
    implementations agree), and a layout adding ``DISALLOW foo.tar.gz`` after the MATCH rejects it (both agree)."""
    import io
    import tarfile

    ws = _workspace(corpus, tmp_path)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        data = b"print('evil')\n"
        info = tarfile.TarInfo("foo.py")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    (ws / "foo.tar.gz").write_bytes(buf.getvalue())
    _sign(ws, "alice")
    assert _both(ws, "alice.pub")[:2] == (0, 0)
    tmpl = json.loads((ws / "demo.layout.template").read_text())
    tmpl["signed"]["inspect"][0]["expected_materials"].append(["DISALLOW", "foo.tar.gz"])
    (ws / "demo.layout.template").write_text(json.dumps(tmpl))
    _sign(ws, "alice")
    ours, theirs, reason = _both(ws, "alice.pub")
    assert (ours, theirs) == (1, 1)
    assert "'foo.tar.gz' disallowed" in reason


def test_changed_link(corpus: Path, tmp_path: Path) -> None:
    ws = _workspace(corpus, tmp_path)
    _sign(ws, "alice")
    link = ws / "package.2f89b927.link"
    doc = json.loads(link.read_text())
    doc["signed"]["products"]["foo.tar.gz"]["sha256"] = "0" * 64
    link.write_text(json.dumps(doc))
    ours, theirs, reason = _both(ws, "alice.pub")
    assert (ours, theirs) == (1, 1)
    assert "step 'package': 0 of 1" in reason and "does not verify" in reason


def test_missing_link(corpus: Path, tmp_path: Path) -> None:
    ws = _workspace(corpus, tmp_path)
    _sign(ws, "alice")
    (ws / "write-code.776a00e2.link").unlink()
    ours, theirs, reason = _both(ws, "alice.pub")
    assert (ours, theirs) == (1, 1) and "step 'write-code': 0 of 1" in reason


def test_expired_layout(corpus: Path, tmp_path: Path) -> None:
    ws = _workspace(corpus, tmp_path)
    r = lockgate("step", "sign-layout", "demo.layout.template", "--key", "alice", "--out", "root.layout",
                 "--expires", "2020-01-01T00:00:00Z", cwd=ws)  # fmt: skip
    assert r.returncode == 0, r.stderr
    ours, theirs, reason = _both(ws, "alice.pub")
    assert (ours, theirs) == (1, 1) and "expired" in reason
