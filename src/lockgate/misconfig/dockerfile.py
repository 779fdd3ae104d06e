"""Dockerfile parsing and checks.

Hand-written parser (no maintained Python library parses BuildKit syntax): parser directives
(``# escape=``), line continuations with comments inside them, heredocs (``<<EOF``/``<<-EOF``),
JSON (exec) and shell forms, multi-stage builds, and ``ARG``/``ENV`` expansion in ``FROM``
so base-image checks see the real reference.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

from lockgate.findings.model import Severity
from lockgate.misconfig.model import Hit, Rule

H, M, L = Severity.HIGH, Severity.MEDIUM, Severity.LOW
CIS = "https://www.cisecurity.org/benchmark/docker"
HADOLINT = "https://github.com/hadolint/hadolint/wiki/"
BP = "https://docs.docker.com/build/building/best-practices/"


def _rule(
    id_: str, sev: Severity, title: str, desc: str, fix: str, refs: tuple[str, ...], comp: tuple[str, ...]
) -> Rule:
    return Rule(id_, title, sev, "dockerfile", desc, fix, refs, comp)


RULES: tuple[Rule, ...] = (
    _rule(
        "LG-DF-001",
        H,
        "No USER: the image runs as root",
        "The final stage never sets USER, so containers run as root unless the runtime overrides it.",
        "Add a non-root user and a USER instruction in the final stage.",
        (CIS, BP),
        ("docker-cis:4.1",),
    ),
    _rule(
        "LG-DF-002",
        H,
        "Final USER is root",
        "The last USER instruction of the final stage selects root (name root or UID 0).",
        "Switch to a non-root USER after the steps that need root.",
        (CIS,),
        ("docker-cis:4.1",),
    ),
    _rule(
        "LG-DF-003",
        M,
        "ADD fetches a remote URL",
        "ADD with a URL downloads content at build time without integrity checks.",
        "Download with curl/wget and verify a checksum, or use ADD --checksum=sha256:...",
        (f"{HADOLINT}DL3020", CIS),
        ("docker-cis:4.9",),
    ),
    _rule(
        "LG-DF-004",
        M,
        "Base image uses latest or no tag",
        "FROM names an image without a tag or with latest, so rebuilds silently change the base.",
        "Pin the base image to a version tag and a digest.",
        (f"{HADOLINT}DL3007",),
        ("docker-cis:4.2",),
    ),
    _rule(
        "LG-DF-005",
        L,
        "Base image not pinned by digest",
        "FROM references the base by tag only; the registry can serve different content under it.",
        "Use FROM name:tag@sha256:<digest>.",
        (BP,),
        ("docker-cis:4.2",),
    ),
    _rule(
        "LG-DF-006",
        H,
        "Remote script piped into a shell",
        "RUN downloads a script with curl or wget and pipes it straight into a shell.",
        "Download to a file, verify its checksum or signature, then run it.",
        (CIS,),
        ("docker-cis:4.9",),
    ),
    _rule(
        "LG-DF-007",
        H,
        "Secret in ENV or ARG",
        "ENV or ARG with a secret-like name (password, token, key) stores the value in the image config or "
        "build history.",
        "Use build secrets (RUN --mount=type=secret) and runtime secrets instead.",
        (CIS,),
        ("docker-cis:4.10",),
    ),
    _rule(
        "LG-DF-008",
        L,
        "apt-get install without --no-install-recommends",
        "Recommended packages enlarge the image and its attack surface.",
        "Use apt-get install --no-install-recommends.",
        (f"{HADOLINT}DL3015",),
        ("docker-cis:4.3",),
    ),
    _rule(
        "LG-DF-009",
        L,
        "apt lists not removed",
        "apt-get update/install leaves /var/lib/apt/lists in the layer.",
        "End the same RUN with rm -rf /var/lib/apt/lists/*.",
        (f"{HADOLINT}DL3009",),
        (),
    ),
    _rule(
        "LG-DF-010",
        L,
        "apk add without --no-cache",
        "apk add keeps the package index in the layer.",
        "Use apk add --no-cache.",
        (f"{HADOLINT}DL3019",),
        (),
    ),
    _rule(
        "LG-DF-011",
        L,
        "pip install without --no-cache-dir",
        "pip keeps its download cache in the layer.",
        "Use pip install --no-cache-dir.",
        (f"{HADOLINT}DL3042",),
        (),
    ),
    _rule(
        "LG-DF-012",
        L,
        "No HEALTHCHECK",
        "The final stage has no HEALTHCHECK, so the runtime cannot tell a hung container from a healthy one.",
        "Add a HEALTHCHECK instruction (or HEALTHCHECK NONE on purpose).",
        (CIS,),
        ("docker-cis:4.6",),
    ),
    _rule(
        "LG-DF-013",
        M,
        "sudo in RUN",
        "RUN uses sudo, which has unpredictable TTY and signal behaviour.",
        "Run the step as root (USER root) and switch back afterwards.",
        (f"{HADOLINT}DL3004",),
        (),
    ),
    _rule(
        "LG-DF-014",
        M,
        "SSH port exposed",
        "EXPOSE 22 suggests an SSH daemon inside the container.",
        "Do not run sshd in containers; use kubectl exec / docker exec.",
        (f"{HADOLINT}DL3011",),
        (),
    ),
    _rule(
        "LG-DF-015",
        L,
        "ADD used for local files",
        "ADD also extracts archives and fetches URLs; COPY is explicit.",
        "Use COPY for local files.",
        (f"{HADOLINT}DL3020", CIS),
        ("docker-cis:4.9",),
    ),
    _rule(
        "LG-DF-016",
        M,
        "World-writable permissions set",
        "RUN chmod 777 (or o+w) makes files writable by every user in the container.",
        "Grant the least permissions needed (e.g. 755/644) and chown to the service user.",
        (),
        (),
    ),
    _rule(
        "LG-DF-018",
        L,
        "Pipe in RUN without pipefail",
        "A shell-form RUN pipes commands without pipefail, so a failing first command (e.g. a download) does not "
        "fail the build.",
        'Add SHELL ["/bin/bash", "-o", "pipefail", "-c"] before the RUN (or set -o pipefail in it).',
        (f"{HADOLINT}DL4006",),
        (),
    ),
    _rule(
        "LG-DF-017",
        L,
        "apt-get update alone in its RUN",
        "apt-get update in a RUN without an install uses a cached, stale package index in later layers.",
        "Combine apt-get update and apt-get install in the same RUN.",
        (CIS,),
        ("docker-cis:4.7",),
    ),
)

SECRET_NAME = re.compile(
    r"(?i)(pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth[_-]?key)"
)
_NOT_SECRET = re.compile(r"(?i)^(|true|false|yes|no|none|null|[0-9]{1,5}|/[\w./-]*|\$\{?\w+\}?)$")


@dataclass(frozen=True, slots=True)
class Instruction:
    """One logical instruction: keyword (upper case), raw arguments, source lines, heredoc bodies."""

    keyword: str
    args: str
    line: int
    end_line: int
    flags: tuple[str, ...] = ()
    json_args: tuple[str, ...] | None = None
    heredocs: tuple[str, ...] = ()
    ignore: dict[str, str] = field(default_factory=dict)


_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$")
_HEREDOC = re.compile(r"<<(-?)(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
_IGNORE = re.compile(r"^#\s*lockgate:ignore=([A-Za-z0-9_,\-]+)\s*(.*)$")


def parse(text: str) -> list[Instruction]:
    """Instructions of a Dockerfile, in order."""
    lines = text.splitlines()
    escape = "\\"
    i = 0
    # parser directives: only at the very top, before any other line
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i].strip())
        if not m or not lines[i].lstrip().startswith("#"):
            break
        if m.group(1).lower() == "escape" and m.group(2) in ("`", "\\"):
            escape = m.group(2)
        i += 1
    out: list[Instruction] = []
    pending_ignore: dict[str, str] = {}
    while i < len(lines):
        raw = lines[i]
        stripped = raw.strip()
        if not stripped:
            i += 1
            continue
        if stripped.startswith("#"):
            m = _IGNORE.match(stripped)
            if m:
                for rid in m.group(1).split(","):
                    if rid:
                        pending_ignore[rid] = "inline # lockgate:ignore" + (f": {m.group(2)}" if m.group(2) else "")
            i += 1
            continue
        start = i
        parts = []
        cur = raw
        while True:
            body = cur.rstrip()
            if body.endswith(escape) and i + 1 < len(lines):
                parts.append(body[:-1])
                i += 1
                # comment and empty lines inside a continuation are skipped
                while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                    i += 1
                if i >= len(lines):
                    break
                cur = lines[i]
                continue
            parts.append(body)
            break
        logical = " ".join(p.strip() for p in parts).strip()
        end = i
        i += 1
        keyword, _, rest = logical.partition(" ")
        keyword = keyword.upper()
        heredocs = []
        for m in _HEREDOC.finditer(rest) if keyword in ("RUN", "COPY", "ADD") else ():
            strip_tabs, delim = m.group(1) == "-", m.group(3)
            body_lines = []
            while i < len(lines) and (lines[i].lstrip("\t") if strip_tabs else lines[i]) != delim:
                body_lines.append(lines[i].lstrip("\t") if strip_tabs else lines[i])
                i += 1
            end = min(i, len(lines) - 1)
            i += 1
            heredocs.append("\n".join(body_lines))
        flags = []
        rest = rest.strip()
        while rest.startswith("--"):
            flag, _, rest = rest.partition(" ")
            flags.append(flag)
            rest = rest.strip()
        json_args = None
        if rest.startswith("["):
            try:
                parsed = json.loads(rest)
                if isinstance(parsed, list) and all(isinstance(x, str) for x in parsed):
                    json_args = tuple(parsed)
            except ValueError:
                pass
        out.append(
            Instruction(keyword, rest, start + 1, end + 1, tuple(flags), json_args, tuple(heredocs), pending_ignore)
        )
        pending_ignore = {}
    return out


_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+]([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def expand(value: str, env: dict[str, str]) -> str:
    """``$VAR``/``${VAR}``/``${VAR:-default}`` expansion as BuildKit does for FROM, USER, EXPOSE..."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(3)
        if name in env and env[name] != "":
            return env[name]
        return m.group(2) or ""

    return _VAR.sub(sub, value)


def _kv_pairs(args: str) -> list[tuple[str, str]]:
    """``ENV``/``ARG`` key=value pairs (also the legacy ``ENV key value`` form)."""
    try:
        words = shlex.split(args, posix=True)
    except ValueError:
        words = args.split()
    if not words:
        return []
    if "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))] if len(words) > 1 else [(words[0], "")]
    return [(w.split("=", 1)[0], w.split("=", 1)[1]) for w in words if "=" in w] + [
        (w, "") for w in words if "=" not in w
    ]


_PIPE_SHELL = re.compile(r"(curl|wget)\b[^|;&]*\|\s*(sudo\s+)?(ba|z|da|k)?sh\b")


def _run_text(ins: Instruction) -> str:
    if ins.json_args is not None:
        return " ".join(ins.json_args)
    return " ".join([ins.args, *ins.heredocs])


def check_dockerfile(text: str, where: str) -> list[tuple[Hit, dict[str, str]]]:
    """Hits with the inline suppressions (``# lockgate:ignore=ID reason`` on the line before) for each."""
    instrs = parse(text)
    hits: list[tuple[Hit, dict[str, str]]] = []

    def hit(rule: str, msg: str, ins: Instruction) -> None:
        hits.append((Hit(rule, msg, line=ins.line), ins.ignore))

    global_args: dict[str, str] = {}
    stages: list[str] = []
    stage_start = [i for i, ins in enumerate(instrs) if ins.keyword == "FROM"]
    for ins in instrs[: stage_start[0] if stage_start else len(instrs)]:
        if ins.keyword == "ARG":
            global_args.update(_kv_pairs(ins.args))
    last_from: Instruction | None = None
    last_user: tuple[str, Instruction] | None = None
    healthcheck = pipefail = False
    env: dict[str, str] = {}
    for ins in instrs:
        kw = ins.keyword
        if kw == "FROM":
            words = expand(ins.args, global_args).split()
            image = words[0] if words else ""
            if len(words) >= 3 and words[1].lower() == "as":
                stages.append(words[2].lower())
            last_from, last_user, healthcheck, pipefail = ins, None, False, False
            env = dict(global_args)
            if image.lower() == "scratch" or image.lower() in stages[:-1] or image.lower() in stages:
                continue
            if "$" in image or not image:
                continue
            name = image.split("@", 1)[0]
            tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else ""
            if "@sha256:" not in image:
                if tag in ("", "latest"):
                    hit("LG-DF-004", f"base image {image} has no version tag", ins)
                hit("LG-DF-005", f"base image {image} is not pinned by digest", ins)
        elif kw in ("ARG", "ENV"):
            for k, v in _kv_pairs(ins.args):
                if kw == "ARG" and k not in env:
                    env[k] = v
                elif kw == "ENV":
                    env[k] = expand(v, env)
                if SECRET_NAME.search(k) and (kw == "ARG" or not _NOT_SECRET.match(v.strip())):
                    hit("LG-DF-007", f"{kw} {k} holds a secret-like value", ins)
        elif kw == "USER":
            last_user = (expand(ins.args, env).strip().split(":", 1)[0], ins)
        elif kw == "HEALTHCHECK":
            healthcheck = True
        elif kw == "SHELL":
            pipefail = "pipefail" in ins.args
        elif kw == "EXPOSE":
            for p in expand(ins.args, env).split():
                if p.split("/", 1)[0] == "22":
                    hit("LG-DF-014", "EXPOSE 22 (SSH)", ins)
        elif kw == "ADD":
            srcs = list(ins.json_args[:-1]) if ins.json_args else ins.args.split()[:-1]
            if any(re.match(r"(?i)^(https?|ftp)://", s) for s in srcs):
                if not any(f.startswith("--checksum") for f in ins.flags):
                    hit("LG-DF-003", "ADD downloads a remote URL", ins)
            elif srcs and not any(re.search(r"\.(tar|tgz|gz|bz2|xz|zst)$|^git@", s) for s in srcs) and not ins.heredocs:
                hit("LG-DF-015", "ADD copies local files (use COPY)", ins)
        elif kw == "RUN":
            run = _run_text(ins)
            if (
                ins.json_args is None
                and not pipefail
                and re.search(r"(?<![|])\|(?![|])", ins.args)
                and "pipefail" not in run
            ):
                hit("LG-DF-018", "RUN uses a pipe without pipefail", ins)
            if _PIPE_SHELL.search(run):
                hit("LG-DF-006", "RUN pipes a downloaded script into a shell", ins)
            if re.search(r"(^|[;&|]\s*|\s)sudo\s", run):
                hit("LG-DF-013", "RUN uses sudo", ins)
            if re.search(r"apt-get\s+(-\S+\s+)*install\b", run) and "--no-install-recommends" not in run:
                hit("LG-DF-008", "apt-get install without --no-install-recommends", ins)
            if re.search(r"apt-get\s+(-\S+\s+)*update\b", run) and "/var/lib/apt/lists" not in run:
                hit("LG-DF-009", "apt lists are not removed in this RUN", ins)
            if re.search(r"apt-get\s+(-\S+\s+)*update\b", run) and not re.search(r"apt-get\s+(-\S+\s+)*install", run):
                hit("LG-DF-017", "apt-get update without install in the same RUN", ins)
            if re.search(r"\bapk\s+(-\S+\s+)*add\b", run) and "--no-cache" not in run:
                hit("LG-DF-010", "apk add without --no-cache", ins)
            if (
                re.search(r"\bpip3?\s+(-\S+\s+)*install\b", run)
                and "--no-cache-dir" not in run
                and not re.search(r"PIP_NO_CACHE_DIR", run)
            ) and env.get("PIP_NO_CACHE_DIR", "").lower() not in ("1", "true", "yes", "off"):
                hit("LG-DF-011", "pip install without --no-cache-dir", ins)
            if re.search(r"\bchmod\s+(-\S+\s+)*(0?777|a\+w|o\+w|\d{0,2}[2367]\s)", run + " "):
                hit("LG-DF-016", "chmod grants write access to everyone", ins)
    if last_from is not None:
        if last_user is None:
            hit("LG-DF-001", "the final stage has no USER instruction", last_from)
        elif last_user[0] in ("root", "0"):
            hit("LG-DF-002", f"USER {last_user[0]} in the final stage", last_user[1])
        if not healthcheck:
            hit("LG-DF-012", "the final stage has no HEALTHCHECK", last_from)
    return hits
