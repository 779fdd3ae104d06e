"""``lockgate image unpack``: merged file system with whiteouts, safe destination handling."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.fixtures.images import build_image


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockgate", *args], capture_output=True, text=True, check=False)


def test_unpack_applies_whiteouts(tmp_path: Path) -> None:
    l1, l2 = tmp_path / "l1", tmp_path / "l2"
    (l1 / "etc").mkdir(parents=True)
    (l1 / "etc/keep").write_text("kept\n")
    (l1 / "etc/gone").write_text("deleted later\n")
    (l1 / "etc/changed").write_text("old\n")
    (l2 / "etc").mkdir(parents=True)
    (l2 / "etc/.wh.gone").write_text("")
    (l2 / "etc/changed").write_text("new\n")
    img = build_image(tmp_path / "img", l1, l2, tag="t")
    out = tmp_path / "out"
    r = run("image", "unpack", f"oci:{img.oci_dir}:t", str(out), "-f", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert len(doc["layers"]) == 2 and doc["gaps"] == []
    assert (out / "etc/keep").read_text() == "kept\n"
    assert (out / "etc/changed").read_text() == "new\n"
    assert not (out / "etc/gone").exists()
    assert not (out / "etc/.wh.gone").exists()


def test_unpack_refuses_non_empty_destination(tmp_path: Path) -> None:
    (tmp_path / "l1").mkdir()
    (tmp_path / "l1/f").write_text("x")
    img = build_image(tmp_path / "img", tmp_path / "l1", tag="t")
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious").write_text("do not touch")
    r = run("image", "unpack", f"oci:{img.oci_dir}:t", str(out))
    assert r.returncode == 2 and "not empty" in r.stderr
    assert (out / "precious").read_text() == "do not touch"
    assert sorted(p.name for p in out.iterdir()) == ["precious"]
