#!/usr/bin/env bash
# CLI start-up time: `lockgate --version` and `lockgate scan image --help`, median of 20 (hyperfine).
# Target: --version well under 200 ms on an idle machine. Compared with `trivy --version`.
# lockgate runs with a bytecode cache (as an installed package does), kept outside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine missing: apt-get install hyperfine" >&2; exit 2; }
unset PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX="${TMPDIR:-/tmp}/lockgate-bench-pycache"
hyperfine -N --warmup 3 --runs 20 \
  -n "lockgate --version" ".venv/bin/lockgate --version" \
  -n "lockgate scan image --help" ".venv/bin/lockgate scan image --help" \
  -n "trivy --version" "trivy --version"
