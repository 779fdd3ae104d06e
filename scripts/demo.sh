#!/usr/bin/env bash
# lockgate end to end on a demo image, offline: install, build the advisory DB from
# ../shared/corpus, build a demo image, scan it, write SBOMs, sign and verify it, and gate it.
# Everything is written under ./demo-out (nothing else is touched except .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SHARED=${LOCKGATE_SHARED:-$ROOT/../shared}
CORPUS=$SHARED/corpus
OUT=$ROOT/demo-out
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "install lockgate into .venv"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e . 2>&1 | grep -v -e '^WARNING: Location' -e BuildBackendWarning || true
.venv/bin/python -m compileall -q src >/dev/null   # fast CLI start even with PYTHONDONTWRITEBYTECODE
LG=(.venv/bin/lockgate)
export LOCKGATE_CACHE_DIR=$OUT/cache LOCKGATE_CONFIG_DIR=$OUT/config LOCKGATE_PASSWORD=demo-password
rm -rf "$OUT" && mkdir -p "$OUT"

step "build the advisory database from the offline corpus ($CORPUS)"
"${LG[@]}" db import "$CORPUS/osv/pypi" "$CORPUS/osv/go" "$CORPUS/alpine-secdb" "$CORPUS/debian-dsa/data" \
  2>&1 | grep -v '^skipped:' || true
"${LG[@]}" db status

step "build a demo image: a real Alpine 3.4 package database plus old Python packages"
rootfs=$OUT/rootfs
mkdir -p "$rootfs/etc" "$rootfs/lib/apk/db" "$rootfs/usr/lib/python3.5/site-packages"
printf 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.4.6\nPRETTY_NAME="Alpine Linux v3.4"\n' > "$rootfs/etc/os-release"
echo 3.4.6 > "$rootfs/etc/alpine-release"
# (minus one deliberately broken stanza that the corpus keeps for parser tests)
awk -v RS= -v ORS='\n\n' '!/P:invalidPackageWithoutAVersion/' "$CORPUS/pkgdb/apk/trivy/installed" > "$rootfs/lib/apk/db/installed"
for pv in Jinja2:2.10:BSD-3-Clause requests:2.19.0:Apache-2.0 PyYAML:5.3:MIT; do
  IFS=: read -r name version license <<<"$pv"
  d="$rootfs/usr/lib/python3.5/site-packages/$name-$version.dist-info"
  mkdir -p "$d"
  printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\nLicense: %s\n' "$name" "$version" "$license" > "$d/METADATA"
done
bash "$SHARED/tools/make-oci-image.sh" --oci "$OUT/image" --tag demo --cmd /bin/sh "$rootfs" >/dev/null
IMAGE=oci:$OUT/image:demo
"${LG[@]}" image inspect "$IMAGE"

step "scan the image (table)"
"${LG[@]}" scan image "$IMAGE" --db-max-age 36500d || true

step "SBOMs: CycloneDX 1.6 and SPDX 2.3"
"${LG[@]}" sbom "$IMAGE" -f cyclonedx -o "$OUT/sbom.cdx.json"
"${LG[@]}" sbom "$IMAGE" -f spdx -o "$OUT/sbom.spdx.json"
ls -l "$OUT"/sbom.*

step "sign and verify (cosign format, key encrypted at rest)"
mkdir -p "$OUT/keys"
"${LG[@]}" key generate --out "$OUT/keys/demo"
"${LG[@]}" sign "$IMAGE" --key "$OUT/keys/demo.key"
"${LG[@]}" verify "$IMAGE" --key "$OUT/keys/demo.pub"

step "gate: fail on HIGH or unrated (exit 1 expected), with the evidence chain"
cat > "$OUT/lockgate-policy.yaml" <<'POLICY'
vulnerabilities: {fail_on: HIGH, unknown_severity: fail}   # the offline corpus rates few advisories
exceptions:
  - {id: CVE-2019-10906, purl: "pkg:pypi/jinja2", reason: "sandbox not used", expires: 2099-01-01}
licenses: {deny: [AGPL-3.0-only]}
POLICY
set +e
"${LG[@]}" -q scan image "$IMAGE" --policy "$OUT/lockgate-policy.yaml" --db-max-age 36500d -f sarif -o "$OUT/report.sarif"
rc=$?
set -e
echo "gate exit code: $rc (0 = allowed, 1 = denied by policy)"
"${LG[@]}" scan image "$IMAGE" --policy "$OUT/lockgate-policy.yaml" --db-max-age 36500d -f json -o "$OUT/report.json" 2>&1 | tail -5 || true
echo
echo "outputs in $OUT: report.json report.sarif sbom.cdx.json sbom.spdx.json keys/"
[ "$rc" = 1 ] || { echo "demo: expected the gate to deny this image" >&2; exit 1; }
