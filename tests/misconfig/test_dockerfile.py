"""Dockerfile parser and rules; hadolint (real binary) is the oracle for the rules both tools have."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from lockgate.misconfig.dockerfile import check_dockerfile, expand, parse
from lockgate.misconfig.model import MisconfigOptions
from lockgate.misconfig.scan import scan_config_paths
from tests.tools import requires

# hadolint rule -> lockgate rule with the same meaning
HADOLINT_MAP = {
    "DL3002": "LG-DF-002",
    "DL3006": "LG-DF-004",
    "DL3007": "LG-DF-004",
    "DL3015": "LG-DF-008",
    "DL3009": "LG-DF-009",
    "DL3019": "LG-DF-010",
    "DL3042": "LG-DF-011",
    "DL3004": "LG-DF-013",
    "DL3020": "LG-DF-015",
    "DL4006": "LG-DF-018",
}

SAMPLES = {
    "basic": """\
FROM debian:latest
RUN apt-get update && apt-get install -y curl
ADD app.py /app/app.py
ADD http://example.com/tool /usr/local/bin/tool
USER root
""",
    "multistage": """\
ARG GO=1.22
FROM golang:${GO} AS build
RUN apk add git \\
    # a comment inside the continuation
    make
FROM alpine
COPY --from=build /out /bin/app
RUN pip install requests && sudo chown nobody /bin/app
USER nobody
HEALTHCHECK CMD ["/bin/app", "health"]
""",
    "clean": """\
FROM registry.example.com/base:1.2@sha256:0000000000000000000000000000000000000000000000000000000000000000
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \\
 && rm -rf /var/lib/apt/lists/*
RUN apk add --no-cache tzdata
RUN pip install --no-cache-dir flask
USER 10001
HEALTHCHECK NONE
""",
    "pipefail": """\
FROM debian:12
RUN wget -qO- https://x.example/a | tar x || true
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN wget -qO- https://x.example/b | tar x
FROM debian:12 AS second
RUN cat /etc/os-release | grep ID
USER 1000
""",
    "escape": """\
# escape=`
FROM mcr.microsoft.com/windows/servercore
RUN apt-get install `
    -y foo
USER 0
""",
}


DATA = Path(__file__).parent / "data" / "dockerfiles"
for _p in sorted(DATA.glob("*.Dockerfile")):
    SAMPLES[_p.name] = _p.read_text()


@requires("hadolint")
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_rules_agree_with_hadolint(tmp_path: Path, name: str) -> None:
    df = tmp_path / "Dockerfile"
    df.write_text(SAMPLES[name])
    out = subprocess.run(["hadolint", "-f", "json", "--no-fail", str(df)], capture_output=True, text=True, check=False)
    theirs = {(HADOLINT_MAP[r["code"]], r["line"]) for r in json.loads(out.stdout) if r["code"] in HADOLINT_MAP}
    ours = {(h.rule_id, h.line) for h, _ in check_dockerfile(SAMPLES[name], str(df))}
    ours = {x for x in ours if x[0] in set(HADOLINT_MAP.values())}
    if name == "escape":
        theirs = {x for x in theirs if x[0] != "LG-DF-002"}  # hadolint 2.15 ignores USER 0 (only 'root')
        assert ("LG-DF-002", 5) in ours
        ours.discard(("LG-DF-002", 5))
    assert ours == theirs


def test_parser_continuations_heredocs_json_form() -> None:
    text = """\
FROM alpine AS base
RUN echo a && \\
    # skipped comment
    echo b
RUN <<EOT bash
set -e
curl -fsSL https://x.example/install | sh
EOT
CMD ["sh", "-c", "echo hi"]
"""
    ins = parse(text)
    assert [(i.keyword, i.line, i.end_line) for i in ins] == [
        ("FROM", 1, 1),
        ("RUN", 2, 4),
        ("RUN", 5, 8),
        ("CMD", 9, 9),
    ]
    assert ins[1].args == "echo a && echo b"
    assert ins[2].heredocs == ("set -e\ncurl -fsSL https://x.example/install | sh",)
    assert ins[3].json_args == ("sh", "-c", "echo hi")
    hits = {(h.rule_id, h.line) for h, _ in check_dockerfile(text, "x")}
    assert ("LG-DF-006", 5) in hits  # curl | sh inside the heredoc
    assert ("LG-DF-001", 1) in hits  # no USER in the final stage


def test_arg_expansion_in_from() -> None:
    assert expand("${IMG:-alpine}:${TAG}", {"TAG": "3.20"}) == "alpine:3.20"
    text = "ARG IMG=nginx\nARG TAG=latest\nFROM ${IMG}:${TAG}\nUSER 1000\nHEALTHCHECK NONE\n"
    assert {h.rule_id for h, _ in check_dockerfile(text, "x")} == {"LG-DF-004", "LG-DF-005"}


def test_secrets_ssh_and_suppression(tmp_path: Path) -> None:
    df = tmp_path / "api.Dockerfile"
    df.write_text(
        "FROM alpine:3.20\n"
        "ENV DB_PASSWORD=s3cr3tvalue HOME=/home/app\n"
        "# lockgate:ignore=LG-DF-014 debug image only\n"
        "EXPOSE 22 8080\n"
        "RUN chmod 777 /srv\n"
        "USER app\n"
    )
    report = scan_config_paths([tmp_path], MisconfigOptions())
    by = {(f.id, f.location.start_line): f for f in report.findings}
    assert ("LG-DF-007", 2) in by and ("LG-DF-016", 5) in by
    assert "debug image only" in by[("LG-DF-014", 4)].suppressed_by
    assert not by[("LG-DF-007", 2)].suppressed_by
    assert all(f.location.path == str(df) for f in report.findings)


def test_stdin_dockerfile_is_sniffed(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"FROM ubuntu\nUSER root\n")))
    report = scan_config_paths(["-"], MisconfigOptions())
    assert {"LG-DF-002", "LG-DF-004"} <= {f.id for f in report.findings}
