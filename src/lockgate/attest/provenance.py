"""SLSA v1 provenance predicates from the CI environment (GitHub Actions, GitLab CI, or a generic build).

Field choices follow each platform's own SLSA v1 producers: GitHub's ``actions/attest-build-provenance``
(buildType ``https://actions.github.io/buildtypes/workflow/v1``, the workflow as external parameters, the
source commit as a resolved dependency, builder id = the workflow ref, invocation id = the run attempt
URL) and the GitLab runner's provenance (buildType ``.../gitlab-runner/-/blob/<version>/PROVENANCE.md``,
builder id = the runner URL).
A generic build uses lockgate's own buildType with the parameters and materials given on the command line.
The result is validated against the SLSA v1 model before it is returned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from lockgate import __version__
from lockgate.attest.predicates import validate_slsa_v1
from lockgate.errors import ConfigError

GITHUB_BUILD_TYPE = "https://actions.github.io/buildtypes/workflow/v1"
GENERIC_BUILD_TYPE = "https://lockgate.dev/buildtypes/generic/v1"
GENERIC_BUILDER = "https://lockgate.dev/builders/local"


def detect_ci(env: Mapping[str, str]) -> str:
    """``github``, ``gitlab`` or ``generic``."""
    if env.get("GITHUB_ACTIONS") == "true":
        return "github"
    if env.get("GITLAB_CI") == "true":
        return "gitlab"
    return "generic"


def _need(env: Mapping[str, str], *names: str) -> list[str]:
    missing = [n for n in names if not env.get(n)]
    if missing:
        raise ConfigError(f"CI environment lacks {', '.join(missing)}")
    return [env[n] for n in names]


def _github(env: Mapping[str, str]) -> dict[str, Any]:
    server, repo, workflow_ref, sha, run_id = _need(
        env, "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_WORKFLOW_REF", "GITHUB_SHA", "GITHUB_RUN_ID"
    )
    path = workflow_ref.split("@", 1)[0].removeprefix(repo + "/")
    ref = env.get("GITHUB_REF", workflow_ref.partition("@")[2])
    attempt = env.get("GITHUB_RUN_ATTEMPT", "1")
    return {
        "buildDefinition": {
            "buildType": GITHUB_BUILD_TYPE,
            "externalParameters": {"workflow": {"ref": ref, "repository": f"{server}/{repo}", "path": path}},
            "internalParameters": {
                "github": {
                    k: env[v]
                    for k, v in (
                        ("event_name", "GITHUB_EVENT_NAME"),
                        ("repository_id", "GITHUB_REPOSITORY_ID"),
                        ("repository_owner_id", "GITHUB_REPOSITORY_OWNER_ID"),
                        ("runner_environment", "RUNNER_ENVIRONMENT"),
                    )
                    if env.get(v)
                }
            },
            "resolvedDependencies": [{"uri": f"git+{server}/{repo}@{ref}", "digest": {"gitCommit": sha}}],
        },
        "runDetails": {
            # actions/attest-build-provenance names the (reusable) workflow that ran as the builder
            "builder": {"id": f"{server}/{env.get('LOCKGATE_JOB_WORKFLOW_REF') or workflow_ref}"},
            "metadata": {"invocationId": f"{server}/{repo}/actions/runs/{run_id}/attempts/{attempt}"},
        },
    }


def _gitlab(env: Mapping[str, str]) -> dict[str, Any]:
    server, project, sha, pipeline, job = _need(
        env, "CI_SERVER_URL", "CI_PROJECT_PATH", "CI_COMMIT_SHA", "CI_PIPELINE_ID", "CI_JOB_ID"
    )
    ref = env.get("CI_COMMIT_REF_NAME", "")
    version = env.get("CI_RUNNER_VERSION", "unknown")
    external = {
        k: env[v]
        for k, v in (
            ("source", "CI_PROJECT_URL"),
            ("entryPoint", "CI_JOB_NAME"),
            ("configPath", "CI_CONFIG_PATH"),
            ("ref", "CI_COMMIT_REF_NAME"),
            ("pipelineSource", "CI_PIPELINE_SOURCE"),
        )
        if env.get(v)
    }
    return {
        "buildDefinition": {
            "buildType": f"https://gitlab.com/gitlab-org/gitlab-runner/-/blob/v{version}/PROVENANCE.md",
            "externalParameters": external,
            "internalParameters": {"pipelineId": pipeline, "jobId": job}
            | {
                k: env[v]
                for k, v in (("name", "CI_RUNNER_DESCRIPTION"), ("executor", "CI_RUNNER_EXECUTABLE_ARCH"))
                if env.get(v)
            },
            "resolvedDependencies": [{"uri": f"git+{server}/{project}@{ref}", "digest": {"gitCommit": sha}}],
        },
        "runDetails": {
            "builder": {
                "id": f"{server}/{project}/-/runners/{env.get('CI_RUNNER_ID', 'unknown')}",
                "version": {"gitlab-runner": version},
            },
            "metadata": {"invocationId": env.get("CI_JOB_URL") or f"{server}/{project}/-/jobs/{job}"},
        },
    }


def _generic(env: Mapping[str, str], builder_id: str | None) -> dict[str, Any]:
    return {
        "buildDefinition": {"buildType": GENERIC_BUILD_TYPE, "externalParameters": {}, "resolvedDependencies": []},
        "runDetails": {
            "builder": {
                "id": builder_id or env.get("LOCKGATE_BUILDER_ID") or GENERIC_BUILDER,
                "version": {"lockgate": __version__},
            },
            "metadata": {},
        },
    }


def build_provenance(
    env: Mapping[str, str],
    *,
    ci: str = "auto",
    builder_id: str | None = None,
    parameters: Mapping[str, str] | None = None,
    materials: Sequence[tuple[str, Mapping[str, str]]] = (),
    started_on: datetime | None = None,
    finished_on: datetime | None = None,
    invocation_id: str | None = None,
) -> dict[str, Any]:
    """A validated SLSA v1 predicate for the build described by ``env`` plus explicit extras.

    ``parameters`` are added to ``externalParameters``; ``materials`` (uri, digest set) to
    ``resolvedDependencies``; ``builder_id`` overrides the detected builder.
    """
    kind = detect_ci(env) if ci == "auto" else ci
    if kind == "github":
        pred = _github(env)
    elif kind == "gitlab":
        pred = _gitlab(env)
    elif kind == "generic":
        pred = _generic(env, builder_id)
    else:
        raise ConfigError(f"unknown CI {ci!r} (use auto, github, gitlab or generic)")
    bd, rd = pred["buildDefinition"], pred["runDetails"]
    if builder_id:
        rd["builder"]["id"] = builder_id
    bd["externalParameters"].update(parameters or {})
    bd.setdefault("resolvedDependencies", []).extend({"uri": u, "digest": dict(d)} for u, d in materials)
    md = rd.setdefault("metadata", {})
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    if invocation_id:
        md["invocationId"] = invocation_id
    if started_on:
        md["startedOn"] = started_on.astimezone(UTC).strftime(fmt)
    md["finishedOn"] = (finished_on or datetime.now(UTC)).astimezone(UTC).strftime(fmt)
    validate_slsa_v1(pred)
    return pred


def summarize_provenance(predicate_type: str, predicate: Mapping[str, Any]) -> dict[str, Any]:
    """Builder, build type, source/material URIs of a v0.2 or v1 predicate, in one shape (for policies/reports)."""
    if predicate_type.endswith("/v1"):
        bd, rd = predicate.get("buildDefinition", {}), predicate.get("runDetails", {})
        deps = bd.get("resolvedDependencies", [])
        return {
            "builder": rd.get("builder", {}).get("id", ""),
            "buildType": bd.get("buildType", ""),
            "materials": [{"uri": d.get("uri", ""), "digest": d.get("digest", {})} for d in deps],
            "invocationId": rd.get("metadata", {}).get("invocationId", ""),
        }
    inv = predicate.get("invocation", {})
    return {
        "builder": predicate.get("builder", {}).get("id", ""),
        "buildType": predicate.get("buildType", ""),
        "materials": [{"uri": m.get("uri", ""), "digest": m.get("digest", {})} for m in predicate.get("materials", [])],
        "invocationId": predicate.get("metadata", {}).get("buildInvocationId", ""),
        "entryPoint": inv.get("configSource", {}).get("entryPoint", ""),
    }
