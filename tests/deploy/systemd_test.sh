#!/usr/bin/env bash
# Checks deploy/systemd offline: systemd-analyze verify and its security exposure score for each unit, and alertd.toml read by alertd itself.
set -euo pipefail
analyze=$1 alertd=$2 units=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for unit in "$units"/*.service; do
  name=$(basename "$unit")
  # verify wants each ExecStart binary on this machine: alertd's from the build; alertd-notify is not
  # built in this tree, so /bin/true stands in for it (its flags are not checked here).
  sed -e "s|/usr/local/bin/alertd-notify |/bin/true |" -e "s|/usr/local/bin/alertd |$alertd |" "$unit" > "$work/$name"
  if ! "$analyze" verify "$work/$name"; then
    echo "$name: systemd-analyze verify failed" >&2; status=1
  fi
  # 0 is fully locked down, 10 is unprotected; our units score 1.2 and must stay at most 2.0
  # (--threshold counts tenths: 20).
  if ! "$analyze" security --offline=yes --threshold=20 --no-pager "$work/$name" > "$work/$name.security" 2>&1; then
    echo "$name: exposure above 2:" >&2; tail -1 "$work/$name.security" >&2; status=1
  else
    tail -1 "$work/$name.security"
  fi
done
if ! "$alertd" --config "$units/alertd.toml" print-policy > /dev/null; then
  echo "alertd.toml: alertd refuses it" >&2; status=1
fi
exit $status
