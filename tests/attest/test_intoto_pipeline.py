"""A three-step pipeline recorded with ``lockgate step run`` and with ``in-toto-run`` 3.1.0, each verified by
both ``lockgate verify-pipeline`` and ``in-toto-verify`` (the reference implementation is the oracle both
ways), plus the negative cases: altered product between steps, threshold not met, missing link, link by an
unauthorised functionary, link renamed to impersonate an authorised one.

Layout key dicts are made with securesystemslib (a test dependency), independently of lockgate's code.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ._helpers import lockgate, one_line_reason
from ._intoto import run_intoto


def _write_key(d: Path, name: str, key: Any) -> None:
    (d / name).write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (d / f"{name}.pub").write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


@pytest.fixture(scope="module")
def pkeys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Unencrypted PKCS#8 keys both tools load: owner (RSA), ann (ed25519), ben (P-256), cat (P-256), mal."""
    d = tmp_path_factory.mktemp("pipeline-keys")
    _write_key(d, "owner", rsa.generate_private_key(65537, 3072))
    _write_key(d, "ann", ed25519.Ed25519PrivateKey.generate())
    _write_key(d, "ben", ec.generate_private_key(ec.SECP256R1()))
    _write_key(d, "cat", ec.generate_private_key(ec.SECP256R1()))
    _write_key(d, "mal", ec.generate_private_key(ec.SECP256R1()))
    return d


def _sslib(pub: Path) -> tuple[str, dict[str, Any]]:
    from securesystemslib.signer import SSlibKey

    key = SSlibKey.from_crypto(serialization.load_pem_public_key(pub.read_bytes()))
    return key.keyid, key.to_dict() | {"keyid": key.keyid}


def _layout(keys: Path, package_threshold: int = 1) -> dict[str, Any]:
    ann, ann_d = _sslib(keys / "ann.pub")
    ben, ben_d = _sslib(keys / "ben.pub")
    cat, cat_d = _sslib(keys / "cat.pub")
    return {
        "_type": "layout",
        "expires": (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "readme": "",
        "keys": {ann: ann_d, ben: ben_d, cat: cat_d},
        "steps": [
            {
                "_type": "step", "name": "build", "pubkeys": [ann], "threshold": 1,
                "expected_command": ["cp", "src/main.c", "out/app.bin"],
                "expected_materials": [["ALLOW", "src/*"], ["DISALLOW", "*"]],
                "expected_products": [["CREATE", "out/app.bin"], ["ALLOW", "src/*"], ["DISALLOW", "*"]],
            },
            {
                "_type": "step", "name": "package", "pubkeys": [ben, cat], "threshold": package_threshold,
                "expected_command": [],
                "expected_materials": [
                    ["MATCH", "app.bin", "IN", "out", "WITH", "PRODUCTS", "IN", "out", "FROM", "build"],
                    ["DISALLOW", "*"],
                ],
                "expected_products": [
                    ["MATCH", "out/app.bin", "WITH", "PRODUCTS", "FROM", "build"],
                    ["REQUIRE", "release.tar"], ["CREATE", "release.tar"], ["DISALLOW", "*"],
                ],
            },
            {
                "_type": "step", "name": "publish", "pubkeys": [ann], "threshold": 1,
                "expected_command": [],
                "expected_materials": [["MATCH", "release.tar", "WITH", "PRODUCTS", "FROM", "package"],
                                       ["DISALLOW", "*"]],
                "expected_products": [["DELETE", "release.tar"], ["CREATE", "dist/release.tar"], ["DISALLOW", "*"]],
            },
        ],
        "inspect": [],
    }  # fmt: skip


def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "out").mkdir()
    (ws / "links").mkdir()
    (ws / "src/main.c").write_text("int main(void) { return 0; }\n")
    return ws


STEPS: list[tuple[str, str, list[str], list[str], list[str]]] = [
    # name, functionary, materials, products, command
    ("build", "ann", ["src"], ["src", "out"], ["cp", "src/main.c", "out/app.bin"]),
    ("package", "ben", ["out"], ["out", "release.tar"], ["tar", "cf", "release.tar", "out/app.bin"]),
    ("publish", "ann", ["release.tar"], ["release.tar", "dist"], ["sh", "-c", "mkdir dist && mv release.tar dist/"]),
]


def _lockgate_step(ws: Path, keys: Path, step: tuple[str, str, list[str], list[str], list[str]], *extra: str) -> None:
    name, who, mats, prods, cmd = step
    args = ["step", "run", "--name", name, "--key", str(keys / who), "-d", "links", *extra]
    args += [a for m in mats for a in ("-m", m)] + [a for p in prods for a in ("-p", p)]
    r = lockgate(*args, "--", *cmd, cwd=ws)
    assert r.returncode == 0, r.stderr


def _intoto_step(ws: Path, keys: Path, step: tuple[str, str, list[str], list[str], list[str]], *extra: str) -> None:
    name, who, mats, prods, cmd = step
    r = run_intoto("in-toto-run", "-n", name, "--signing-key", str(keys / who), "-d", "links",
                   "-m", *mats, "-p", *prods, *extra, "--", *cmd, cwd=ws)  # fmt: skip
    assert r.returncode == 0, r.stderr


def _sign_layout(ws: Path, keys: Path, layout: dict[str, Any]) -> None:
    (ws / "layout.template").write_text(json.dumps({"signed": layout, "signatures": []}))
    r = lockgate("step", "sign-layout", "layout.template", "--key", str(keys / "owner"), "--out", "root.layout", cwd=ws)
    assert r.returncode == 0, r.stderr


def _both(ws: Path, keys: Path) -> tuple[int, int, str]:
    ours = lockgate("verify-pipeline", "--layout", "root.layout", "--layout-key", str(keys / "owner.pub"),
                    "--links", "links", cwd=ws)  # fmt: skip
    theirs = run_intoto("in-toto-verify", "--layout", "root.layout", "--verification-keys",
                        str(keys / "owner.pub"), "--link-dir", "links", cwd=ws)  # fmt: skip
    return ours.returncode, theirs.returncode, "" if ours.returncode == 0 else one_line_reason(ours)


@pytest.mark.parametrize("recorder", ["lockgate", "lockgate-dsse", "in-toto", "in-toto-dsse"])
def test_pipeline_verifies_both_ways(pkeys: Path, tmp_path: Path, recorder: str) -> None:
    ws = _workspace(tmp_path)
    dsse = ("--use-dsse",) if recorder.endswith("dsse") else ()
    for step in STEPS:
        (_lockgate_step if recorder.startswith("lockgate") else _intoto_step)(ws, pkeys, step, *dsse)
    _sign_layout(ws, pkeys, _layout(pkeys))
    ours, theirs, reason = _both(ws, pkeys)
    assert (ours, theirs) == (0, 0), reason
    names = sorted(p.name for p in (ws / "links").iterdir())
    assert [n.split(".")[0] for n in names] == ["build", "package", "publish"]
    assert all(len(n.split(".")[1]) == 8 for n in names)


def test_product_altered_between_steps(pkeys: Path, tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    _lockgate_step(ws, pkeys, STEPS[0])
    (ws / "out/app.bin").write_text("tampered between build and package\n")
    _lockgate_step(ws, pkeys, STEPS[1])
    _lockgate_step(ws, pkeys, STEPS[2])
    _sign_layout(ws, pkeys, _layout(pkeys))
    ours, theirs, reason = _both(ws, pkeys)
    assert (ours, theirs) == (1, 1)
    assert reason.endswith("step 'package': material 'out/app.bin' disallowed by rule 'DISALLOW *'")


def test_threshold_missing_and_unauthorised(pkeys: Path, tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    for step in STEPS:
        _lockgate_step(ws, pkeys, step)
    # threshold 2 of {ben, cat}: only ben's link exists
    _sign_layout(ws, pkeys, _layout(pkeys, package_threshold=2))
    ours, theirs, reason = _both(ws, pkeys)
    assert (ours, theirs) == (1, 1) and "step 'package': 1 of 2 required links" in reason
    _sign_layout(ws, pkeys, _layout(pkeys))
    # missing step link
    build_link = next((ws / "links").glob("build.*.link"))
    saved = build_link.read_bytes()
    build_link.unlink()
    ours, theirs, reason = _both(ws, pkeys)
    assert (ours, theirs) == (1, 1) and "step 'build': 0 of 1 required links" in reason
    # mallory (not in the layout) performs the build step: her link is not an authorised functionary's
    (ws / "out/app.bin").unlink()
    _lockgate_step(ws, pkeys, ("build", "mal", *STEPS[0][2:]))  # type: ignore[arg-type]
    ours, theirs, reason = _both(ws, pkeys)
    assert (ours, theirs) == (1, 1) and "step 'build': 0 of 1 required links" in reason
    # ... and renaming her link to ann's file name does not help: ann's key does not verify it
    mal_link = next(p for p in (ws / "links").glob("build.*.link"))
    mal_link.rename(build_link)
    ours, theirs, reason = _both(ws, pkeys)
    assert (ours, theirs) == (1, 1) and "does not verify with functionary key" in reason
    build_link.write_bytes(saved)
    assert _both(ws, pkeys)[:2] == (0, 0)


@pytest.mark.parametrize("agree", [True, False])
def test_two_of_two_threshold(pkeys: Path, tmp_path: Path, agree: bool) -> None:
    """ben (lockgate) and cat (in-toto-run) each record the package step in their own copy of the workspace:
    identical artifacts meet a 2-of-2 threshold; links that disagree are rejected by both implementations."""
    ws = _workspace(tmp_path)
    _lockgate_step(ws, pkeys, STEPS[0])
    cat_ws = tmp_path / "cat"
    shutil.copytree(ws, cat_ws)
    if not agree:
        (cat_ws / "out/app.bin").write_text("cat saw something else\n")
    _lockgate_step(ws, pkeys, STEPS[1])
    _intoto_step(cat_ws, pkeys, ("package", "cat", *STEPS[1][2:]))  # type: ignore[arg-type]
    for link in (cat_ws / "links").glob("package.*.link"):
        if not (ws / "links" / link.name).exists():
            shutil.copy(link, ws / "links" / link.name)
    _lockgate_step(ws, pkeys, STEPS[2])
    _sign_layout(ws, pkeys, _layout(pkeys, package_threshold=2))
    ours, theirs, reason = _both(ws, pkeys)
    if agree:
        assert (ours, theirs) == (0, 0), reason
    else:
        assert (ours, theirs) == (1, 1) and "disagree" in reason
