"""Secret rules on a labelled set of generated true and false positives, redaction, config loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lockgate.config import Limits, Settings
from lockgate.detect.secrets.analyzer import SecretAnalyzer
from lockgate.detect.secrets.custom import load_secret_settings
from lockgate.detect.secrets.rules import BUILTIN_RULES
from lockgate.detect.secrets.scanner import SecretScanner
from lockgate.errors import ConfigError
from lockgate.findings.model import FindingKind, ScanReport
from lockgate.findings.render import renderer_for
from lockgate.fs.directory import analyze_directory
from tests.detect.samples import Sample, false_positives, true_positives


@pytest.fixture(scope="module")
def tps() -> tuple[Sample, ...]:
    return true_positives()


@pytest.fixture(scope="module")
def fps() -> list[Sample]:
    return false_positives()


def test_rule_set_is_large_with_stable_unique_ids() -> None:
    ids = [r.id for r in BUILTIN_RULES]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)
    assert all(r.keywords for r in BUILTIN_RULES), "every rule needs a keyword prefilter"


def test_every_rule_has_a_true_positive(tps: tuple[Sample, ...]) -> None:
    assert {r.id for r in BUILTIN_RULES} <= {s.rule for s in tps}


def test_true_positives_found_with_rule_and_line(tps: tuple[Sample, ...]) -> None:
    sc = SecretScanner()
    missed, wrong = [], []
    for s in tps:
        got = sc.scan(s.content, s.path)
        if not got:
            missed.append(s.name)
        elif [m.rule.id for m in got] != [s.rule] or got[0].start_line != s.line:
            wrong.append((s.name, [(m.rule.id, m.start_line) for m in got], s.rule, s.line))
    assert not missed, f"recall < 100%: {missed}"
    assert not wrong


def test_false_positives_silent(fps: list[Sample]) -> None:
    sc = SecretScanner()
    noisy = {s.name: [m.rule.id for m in sc.scan(s.content, s.path)] for s in fps}
    assert {k: v for k, v in noisy.items() if v} == {}


def test_without_allow_rules_documented_examples_are_reported(fps: list[Sample]) -> None:
    """The allow-rules, not the patterns, are what keep the AWS docs example and jwt.io token quiet."""
    sc = SecretScanner(allow=())
    by_name = {s.name: s for s in fps}
    assert {m.rule.id for m in sc.scan(by_name["aws-docs"].content, "x")} == {
        "aws-access-key-id",
        "aws-secret-access-key",
    }
    assert [m.rule.id for m in sc.scan(by_name["jwt-io"].content, "x")] == ["jwt-token"]


def test_multiline_key_spans_lines(tps: tuple[Sample, ...]) -> None:
    s = next(x for x in tps if x.rule == "private-key-rsa")
    m = SecretScanner().scan(s.content, s.path)[0]
    assert m.start_line == 3  # "# key", BEGIN line, first body line
    assert m.end_line == s.content.decode().rstrip("\n").count("\n")  # body ends the line before END


def test_secret_never_in_any_output_format(tmp_path: Path, tps: tuple[Sample, ...]) -> None:
    for i, s in enumerate(tps):  # one folder per sample: several share a file name
        p = tmp_path / str(i) / s.path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(s.content)
    res = analyze_directory(tmp_path, [SecretAnalyzer()], settings=Settings())
    assert len(res.findings) == len(tps)
    assert all(f.kind is FindingKind.SECRET for f in res.findings)
    report = ScanReport(target=str(tmp_path), artifact_type="filesystem", findings=res.findings)
    for fmt in ("json", "table", "sarif", "junit", "html", "cyclonedx"):
        text = renderer_for(fmt)(report)
        leaked = [s.name for s in tps if s.secret[4:24] in text]
        assert not leaked, f"{fmt} output shows secrets of {leaked}"
    for f in res.findings:
        assert "*****" in f.title


def test_binary_and_oversized_files(tmp_path: Path, tps: tuple[Sample, ...]) -> None:
    key = next(x for x in tps if x.rule == "aws-access-key-id")
    (tmp_path / "blob").write_bytes(b"\0\1\2" + key.content)
    (tmp_path / "lib.so").write_bytes(key.content)
    (tmp_path / "big.txt").write_bytes(key.content + b"x" * 5000)
    (tmp_path / "small.txt").write_bytes(key.content)
    res = analyze_directory(tmp_path, [SecretAnalyzer(max_size=4096)], settings=Settings(limits=Limits()))
    assert [f.location.path for f in res.findings] == ["small.txt"]
    assert [g.where for g in res.gaps] == ["big.txt"]
    assert "over the 4096-byte limit" in res.gaps[0].reason


def test_custom_rules_and_allow_from_config(tmp_path: Path, tps: tuple[Sample, ...]) -> None:
    cfg = yaml.safe_load(
        r"""
secrets:
  fail_on: HIGH
  disable_rules: [jwt-token]
  rules:
    - id: acme-api-key
      title: ACME API key
      severity: critical
      regex: 'acme_(?P<secret>[a-z0-9]{32})'
      keywords: [ACME_]
      min_entropy: 3
  allow:
    - id: fixtures
      path: '^srv/fixtures/'
    - id: fake-aws
      value: '^AKIA2222'
      rules: [aws-access-key-id]
"""
    )
    st = load_secret_settings(cfg["secrets"])
    jwt = next(x for x in tps if x.rule == "jwt-token")
    aws = next(x for x in tps if x.rule == "aws-access-key-id")
    acme = "acme_" + "k3j5h2g7f8d9s0a1q2w3e4r5t6y7u8i9"
    (tmp_path / "srv/fixtures").mkdir(parents=True)
    (tmp_path / "srv/app.txt").write_text(f"key={acme}\nweak=acme_{'0' * 32}\n")
    (tmp_path / "srv/jwt.txt").write_bytes(jwt.content)
    (tmp_path / "srv/fixtures/aws").write_bytes(aws.content)
    (tmp_path / "srv/fake").write_text("id = AKIA2222ABCDEFGHIJKL\n")
    (tmp_path / "srv/real").write_bytes(aws.content)
    res = analyze_directory(tmp_path, [st.analyzer()], settings=Settings())
    got = sorted((f.location.path, f.id, f.severity.name) for f in res.findings)
    assert got == [("srv/app.txt", "acme-api-key", "CRITICAL"), ("srv/real", "aws-access-key-id", "CRITICAL")]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"rules": [{"id": "x1", "regex": "(", "keywords": ["ab"]}]}, "not a valid regular expression"),
        ({"rules": [{"id": "x1", "regex": "ab"}]}, "keywords must list"),
        ({"rules": [{"id": "aws-access-key-id", "regex": "ab", "keywords": ["ab"]}]}, "already used"),
        ({"disable_rules": ["nope"]}, "unknown rule id"),
        ({"allow": [{"id": "a"}]}, "give a path or a value"),
        ({"colour": 1}, "unknown key"),
        ({"max_size": -1}, "positive number"),
        ({"rules": [{"id": "x1", "regex": "ab", "keywords": ["ab"], "severity": "huge"}]}, "unknown severity"),
    ],
)
def test_bad_config_is_a_config_error(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_secret_settings(section)


def test_hostile_inputs_stay_linear() -> None:
    """BEGIN lines without END, one huge line full of keywords: bounded work, no catastrophic backtracking."""
    import time

    sc = SecretScanner()
    pem_no_end = (b"-----BEGIN RSA PRIVATE KEY-----\n" + (b"A" * 60 + b"\n") * 3) * 20000  # 4.3 MB
    keywords = b"x sk twilio ://a:b@c " * 100000  # 2 MB, one line
    for blob in (pem_no_end, keywords):
        t = time.process_time()
        assert sc.scan(blob, "x") == []
        assert time.process_time() - t < 8, "scan time is not linear in the input"
