#!/usr/bin/env bash
# Run lockgate's whole test suite on a fresh machine: installs the Debian packages and
# reference tools the tests use (registry, skopeo, SoftHSM, Trivy, ...), creates .venv,
# then runs ruff, mypy --strict and pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SHARED=${LOCKGATE_SHARED:-$ROOT/../shared}

log() { printf '[test.sh] %s\n' "$*" >&2; }

# 1. System packages and reference tools (idempotent; quick when already present).
if [ -x "$SHARED/tools/install-reference-tools.sh" ] || [ -f "$SHARED/tools/install-reference-tools.sh" ]; then
  log "installing reference tools (apt + PyPI venvs)"
  bash "$SHARED/tools/install-reference-tools.sh" >&2
else
  log "WARNING: $SHARED/tools/install-reference-tools.sh not found; tests needing reference tools will fail"
fi
# Oracles the tests call beyond the reference tools: rpm (rpmvercmp, rpm databases), libdb's db5.3_load
# (BerkeleyDB rpm databases), objcopy (binaries with extra sections), gpg, and node/npm (npm semver).
EXTRA_APT=(rpm db5.3-util binutils gnupg openssl hyperfine maven golang-go clamav-daemon)
missing=()
for p in "${EXTRA_APT[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  log "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# 2. Python environment.
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PY" -m venv .venv
fi
log "installing lockgate and test dependencies"
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v -e '^WARNING: Location' -e 'BuildBackendWarning' >&2 || true
.venv/bin/python -c 'import lockgate' || { log "lockgate failed to install"; exit 3; }
# Byte-compile the editable sources once: with PYTHONDONTWRITEBYTECODE set, every CLI call would
# otherwise recompile them (about half a second per call).
.venv/bin/python -m compileall -q src >/dev/null

# 3. Static checks.
log "ruff"
.venv/bin/ruff check src tests bench
log "mypy --strict"
.venv/bin/mypy src

# 4. Tests.
export LOCKGATE_SHARED="$SHARED"
log "pytest"
exec .venv/bin/pytest -n "${PYTEST_WORKERS:-2}" --timeout 900 "$@"
