"""``lockgate scan image`` end to end, checked against expectations computed from the raw advisories."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from packaging.version import Version

from tests.conftest import CORPUS
from tests.scan.conftest import OLD_PYPI, ScanEnv, lockgate


def _pypi_expected() -> set[tuple[str, str]]:
    """(package, advisory id or alias) for our old PyPI releases, straight from the OSV YAML with ``packaging``."""
    wanted = {n.lower(): Version(v) for n, v, _ in OLD_PYPI}
    out: set[tuple[str, str]] = set()
    for f in (CORPUS / "osv/pypi").rglob("*.yaml"):
        adv = yaml.safe_load(f.read_text())
        if adv.get("withdrawn"):
            continue
        for aff in adv.get("affected", []):
            name = aff["package"]["name"].lower().replace("_", "-")
            if name not in wanted:
                continue
            v = wanted[name]
            hit = str(v) in set(aff.get("versions", []))
            for rng in aff.get("ranges", []):
                if rng["type"] != "ECOSYSTEM":
                    continue
                lo = None
                for ev in rng["events"]:
                    if "introduced" in ev:
                        lo = Version("0") if ev["introduced"] == "0" else Version(ev["introduced"])
                    elif "fixed" in ev and lo is not None:
                        hit |= lo <= v < Version(ev["fixed"])
                        lo = None
                if lo is not None and lo <= v:
                    hit = True
            if hit:
                ids = {adv["id"], *adv.get("aliases", [])}
                cve = sorted(i for i in ids if i.startswith("CVE-"))
                out.add((name, cve[0] if cve else adv["id"]))
    return out


def _scan(env: ScanEnv, *extra: str, image: str | None = None) -> tuple[int, dict, str]:
    r = lockgate(
        "scan", "image", image or env.image, "--db", str(env.db), "--db-max-age", "36500d", "-f", "json", *extra
    )
    doc = json.loads(r.stdout) if r.stdout.strip() else {}
    return r.returncode, doc, r.stderr


def test_pypi_findings_match_raw_advisories(scan_env: ScanEnv) -> None:
    rc, doc, err = _scan(scan_env)
    assert rc == 0, err
    got = {
        (f["package"]["name"], f["id"])
        for f in doc["findings"]
        if f["kind"] == "vulnerability" and f["package"]["ecosystem"] == "PyPI"
    }
    expected = _pypi_expected()
    assert expected, "the oracle found nothing: test data changed?"
    assert got == expected


def test_alpine_findings_from_secdb(scan_env: ScanEnv) -> None:
    _, doc, _ = _scan(scan_env)
    assert doc["os"]["family"] == "alpine" and doc["os"]["version"] == "3.4.6"
    by_pkg: dict[str, set[str]] = {}
    for f in doc["findings"]:
        by_pkg.setdefault(f["package"]["name"], set()).add(f["id"])
    secdb = json.loads((CORPUS / "alpine-secdb/v3.4/main.json").read_text())
    fixes = {
        p["pkg"]["name"]: p["pkg"]["secfixes"] for p in secdb["packages"] if p["pkg"]["name"] in ("openssl", "zlib")
    }
    # openssl 1.0.2h-r1 (origin of libssl1.0/libcrypto1.0): every CVE fixed in 1.0.2i or later applies.
    later = {
        cve for ver, cves in fixes["openssl"].items() if ver.startswith(("1.0.2i", "1.0.2j", "1.0.2k")) for cve in cves
    }
    later = {c.split()[0] for c in later}
    assert later and later <= by_pkg["libssl1.0"]
    assert later <= by_pkg["libcrypto1.0"]
    zlib = {c.split()[0] for ver, cves in fixes["zlib"].items() if ver.startswith("1.2.11") for c in cves}
    assert zlib and zlib <= by_pkg["zlib"]
    # Fixed versions are reported for each.
    f = next(f for f in doc["findings"] if f["package"]["name"] == "zlib")
    assert f["fix_status"] == "fixed" and f["fixed_versions"] == ["1.2.11-r0"]


def test_docker_archive_gives_same_findings(scan_env: ScanEnv) -> None:
    rc, a, err = _scan(scan_env)
    assert rc == 0, err
    rc, b, err = _scan(scan_env, image=f"docker-archive:{scan_env.docker_archive}")
    assert rc == 0, err
    key = lambda d: sorted((f["package"]["name"], f["id"]) for f in d["findings"])  # noqa: E731
    assert key(a) == key(b)
    assert len(a["packages"]) == len(b["packages"])


def test_gate_exit_codes(scan_env: ScanEnv, tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("vulnerabilities: {unknown_severity: fail}\n")
    rc, doc, err = _scan(scan_env, "--policy", str(policy))
    assert rc == 1
    assert f"{policy}:1 (unknown_severity)" in err and "decision: deny" in err
    # Every unrated finding is suppressed by an exception list -> allowed.
    ids = sorted({f["id"] for f in doc["findings"] if f["severity"] == "UNKNOWN"})
    ignore = tmp_path / ".lockgateignore"
    ignore.write_text("".join(f"{i} # accepted for test\n" for i in ids))
    rc, doc, err = _scan(scan_env, "--policy", str(policy), "--ignorefile", str(ignore))
    assert rc == 0, err
    assert all(f["suppressed_by"].startswith("exception") for f in doc["findings"] if f["severity"] == "UNKNOWN")


def test_fail_on_and_ignore_unfixed(scan_env: ScanEnv) -> None:
    rc, doc, _ = _scan(scan_env, "--fail-on", "UNKNOWN")
    assert rc == 1
    rc, doc2, _ = _scan(scan_env, "--ignore-unfixed")
    assert rc == 0
    assert all(f["fix_status"] == "fixed" for f in doc2["findings"])
    assert len(doc2["findings"]) <= len(doc["findings"])


def test_usage_and_runtime_errors(scan_env: ScanEnv, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("vulnerabilities: {fail_on: SOMETIMES}\n")
    rc, _, err = _scan(scan_env, "--policy", str(bad))
    assert rc == 2 and "bad.yaml:1" in err and "Traceback" not in err
    rc, _, err = _scan(scan_env, "--scanners", "vuln,telepathy")
    assert rc == 2 and "unknown scanner" in err
    rc, _, err = _scan(scan_env, "-f", "xml")
    assert rc == 2
    r = lockgate("scan", "image", f"oci:{tmp_path}/nothing:x", "--db", str(scan_env.db))
    assert r.returncode == 3 and "not found" in r.stderr and "Traceback" not in r.stderr
    r = lockgate("scan", "image", scan_env.image, "--db", str(tmp_path / "missing.db"))
    assert r.returncode == 3 and "lockgate db import" in r.stderr
    r = lockgate("scan", "image", scan_env.image, "--db", str(scan_env.db), "--db-max-age", "1s")
    assert r.returncode == 3 and "older than --db-max-age" in r.stderr


def test_output_file_and_formats(scan_env: ScanEnv, tmp_path: Path) -> None:
    for fmt in ("sarif", "cyclonedx", "junit", "html", "table"):
        out = tmp_path / f"r.{fmt}"
        r = lockgate(
            "scan",
            "image",
            scan_env.image,
            "--db",
            str(scan_env.db),
            "--db-max-age",
            "36500d",
            "-f",
            fmt,
            "-o",
            str(out),
        )
        assert r.returncode == 0, r.stderr
        assert r.stdout == ""
        assert out.stat().st_size > 200
    r = lockgate("scan", "image", scan_env.image, "--db", str(scan_env.db), "-o", str(tmp_path / "no/such/dir/x"))
    assert r.returncode == 2 and "does not exist" in r.stderr
