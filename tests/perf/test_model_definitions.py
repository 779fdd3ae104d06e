"""The models on the warm scan path are frozen ``msgspec.Struct``s, not frozen dataclasses.

A slotted frozen dataclass exec-compiles ~7 methods when its class is defined (~1 ms each on
Python 3.11); ~60 of them cost a warm ``scan image``/``sbom`` ~45 ms before any work. A Struct
costs microseconds. These tests keep a dataclass from creeping back onto that path, and check
the port kept the dataclass semantics callers rely on (``replace``, equality, hashing).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from msgspec.structs import replace

from lockgate.errors import InputError
from lockgate.findings.model import Finding, FindingKind, Location, Severity
from lockgate.gate.policy import Policy, ThresholdPolicy
from lockgate.oci.model import ImageConfig
from lockgate.oci.reference import Reference
from lockgate.scan.options import Scanner, ScanOptions
from lockgate.vulndb.osv.model import parse_osv
from lockgate.vulndb.store import Candidate

WARM_PATH_MODULES = (
    "lockgate.config",
    "lockgate.findings.model",
    "lockgate.fs.analysis",
    "lockgate.fs.model",
    "lockgate.fs.walker",
    "lockgate.gate.decision",
    "lockgate.gate.policy",
    "lockgate.gate.vex",
    "lockgate.inventory.model",
    "lockgate.inventory.os.eol",
    "lockgate.inventory.registry",
    "lockgate.oci.copy",
    "lockgate.oci.image",
    "lockgate.oci.model",
    "lockgate.oci.reference",
    "lockgate.oci.registry.options",
    "lockgate.oci.targets",
    "lockgate.scan.options",
    "lockgate.vulndb.matcher",
    "lockgate.vulndb.model",
    "lockgate.vulndb.osv.ranges",
    "lockgate.vulndb.severity",
    "lockgate.vulndb.store",
)
"""Modules a warm ``scan image --scanners vuln`` or ``sbom`` loads that define data models."""

WARM_ENTRY_POINTS = ("lockgate.scan.service", "lockgate.findings.render", "lockgate.gate.evaluate")
"""What a warm run imports besides the CLI (``lockgate.cli`` has its own start-up tests)."""


def _own_classes(name: str) -> list[type]:
    mod = importlib.import_module(name)
    return [c for c in vars(mod).values() if inspect.isclass(c) and c.__module__ == name]


@pytest.mark.parametrize("name", WARM_PATH_MODULES)
def test_warm_path_models_are_frozen_structs(name: str) -> None:
    classes = _own_classes(name)
    assert [c.__name__ for c in classes if dataclasses.is_dataclass(c)] == []
    structs = [c for c in classes if issubclass(c, msgspec.Struct)]
    assert structs, f"{name} defines no Struct: drop it from WARM_PATH_MODULES"
    assert [c.__name__ for c in structs if not c.__struct_config__.frozen] == []


def test_no_module_they_load_defines_a_dataclass() -> None:
    """Also catches a new module on the path: every ``lockgate`` module these imports load is checked."""
    code = f"""
import dataclasses, inspect, json, sys
for m in {WARM_PATH_MODULES + WARM_ENTRY_POINTS!r}:
    __import__(m)
found, loaded = [], sorted(m for m in sys.modules if m.startswith("lockgate."))
for m in loaded:
    for n, c in vars(sys.modules[m]).items():
        if inspect.isclass(c) and c.__module__ == m and dataclasses.is_dataclass(c):
            found.append(f"{{m}}.{{n}}")
print(json.dumps({{"loaded": loaded, "dataclasses": found}}))
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    assert len(result["loaded"]) > len(WARM_PATH_MODULES) + len(WARM_ENTRY_POINTS)
    assert result["dataclasses"] == []


def test_raw_document_fields_stay_out_of_equality_and_hash(corpus: Path) -> None:
    doc = json.loads((corpus / "osv/go/GO-2024-3228.json").read_text())
    adv = parse_osv(doc)
    assert adv.database_specific  # the record carries a raw database_specific mapping
    other = replace(adv, database_specific={"review_status": "REVIEWED"})
    assert other == adv and hash(other) == hash(adv)
    assert replace(adv, summary="changed") != adv
    aff = adv.affected[0]
    assert replace(aff, ecosystem_specific={"imports": []}) == aff
    assert hash(replace(aff, database_specific={"x": 1})) == hash(aff)
    assert replace(aff, versions=("v0.0.1",)) != aff

    assert ThresholdPolicy(scanner={"rules": []}) == ThresholdPolicy() != ThresholdPolicy(fail_on=Severity.LOW)
    assert hash(Policy(secrets=ThresholdPolicy(scanner={"allow": ["x"]}))) == hash(Policy())
    opts = ScanOptions(secrets_config={"rules": []}, malware_config={"clamd": "x"})
    assert opts == ScanOptions() and hash(opts) == hash(ScanOptions())
    assert ScanOptions(scanners=frozenset({Scanner.PKG})) != ScanOptions()

    raw = b'{"architecture": "amd64", "os": "linux", "config": {"User": "app"}}'
    cfg = ImageConfig.parse(raw)
    assert replace(cfg, extra={}) == cfg and hash(replace(cfg, extra={})) == hash(cfg)

    cand = Candidate(rid=1, advisory_id="GO-2024-3228", ecosystem="Go", entry={}, compiled=["x"])
    assert cand == Candidate(rid=1, advisory_id="GO-2024-3228", ecosystem="Go", entry={})
    assert cand != "GO-2024-3228"


def test_structs_behave_as_the_frozen_dataclasses_did() -> None:
    f = Finding(kind=FindingKind.SECRET, id="aws-key", severity=Severity.HIGH, location=Location(path="a", layer="l1"))
    with pytest.raises(AttributeError):
        f.id = "other"  # type: ignore[misc]
    moved = replace(f, location=replace(f.location, layer="l2"))
    assert moved.location == Location(path="a", layer="l2") and f.location.layer == "l1"
    assert len({f, replace(f), moved}) == 2
    assert Location.from_dict(Location(path="p", start_line=3).to_dict()) == Location(path="p", start_line=3)

    ref = Reference.parse("alpine:3.20")
    assert str(ref.with_tag("3.21")) == "docker.io/library/alpine:3.21"
    with pytest.raises(InputError):  # replace() skips __post_init__; with_tag validates itself
        ref.with_tag("bad tag")
    with pytest.raises(InputError):
        Reference(registry="docker.io", repository="Upper/Case")
