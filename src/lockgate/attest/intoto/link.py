"""Run a pipeline step and record it as a signed in-toto link (``<step>.<keyid[:8]>.link``), the way
``in-toto-run`` does: materials hashed before the command, products after, the command, its return value
and (optionally) its output as byproducts."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lockgate.attest.intoto.artifacts import DEFAULT_EXCLUDES, record_artifacts
from lockgate.attest.intoto.metadata import sign_metadata
from lockgate.errors import InputError, UnavailableError
from lockgate.trust.keys.model import Signer

MAX_STREAM_BYTES = 16 * 1024 * 1024


def link_filename(step: str, keyid: str) -> str:
    """``<step>.<keyid[:8]>.link``, the name in-toto looks for."""
    return f"{step}.{keyid[:8]}.link"


@dataclass(frozen=True, slots=True)
class StepResult:
    """The link written for one step run."""

    path: Path
    link: dict[str, Any]
    return_value: int


def run_step(
    name: str,
    command: Sequence[str],
    signer: Signer,
    *,
    materials: Sequence[str] = (),
    products: Sequence[str] = (),
    out_dir: Path = Path(),
    base_path: Path | None = None,
    exclude: Sequence[str] = DEFAULT_EXCLUDES,
    lstrip: Sequence[str] = (),
    record_streams: bool = False,
    dsse: bool = False,
    timeout: float | None = None,
) -> StepResult:
    """Record materials, run ``command`` (if any), record products, sign and write the link."""
    if not name or "/" in name or name.startswith("."):
        raise InputError(f"invalid step name {name!r}")
    mats = record_artifacts(materials, base_path=base_path, exclude=exclude, lstrip=lstrip) if materials else {}
    byproducts: dict[str, Any] = {}
    rc = 0
    if command:
        try:
            proc = subprocess.run(list(command), capture_output=True, check=False, timeout=timeout, cwd=base_path)
        except FileNotFoundError:
            raise InputError(f"command not found: {command[0]}") from None
        except subprocess.TimeoutExpired:
            raise UnavailableError(f"step {name}: command timed out after {timeout} s") from None
        rc = proc.returncode
        byproducts = {
            "return-value": rc,
            "stdout": proc.stdout[:MAX_STREAM_BYTES].decode(errors="replace") if record_streams else "",
            "stderr": proc.stderr[:MAX_STREAM_BYTES].decode(errors="replace") if record_streams else "",
        }
    prods = record_artifacts(products, base_path=base_path, exclude=exclude, lstrip=lstrip) if products else {}
    link = {
        "_type": "link",
        "name": name,
        "command": list(command),
        "materials": mats,
        "products": prods,
        "byproducts": byproducts,
        "environment": {},
    }
    data = sign_metadata(link, [signer], dsse=dsse)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / link_filename(name, signer.public_key.intoto_keyid)
    path.write_bytes(data)
    return StepResult(path, link, rc)
