#!/usr/bin/env bash
# Checks deploy/prometheus/alertmanager.yml sends each kind of alertd alert to the receiver the operators expect.
set -euo pipefail
amtool=$1 config=$2
failures=0
expect() {  # expect RECEIVER label=value...
  local want=$1; shift
  local got
  got=$("$amtool" config routes test --config.file="$config" "$@" | tr -d '[:space:]')
  if [ "$got" != "$want" ]; then
    echo "alerts with $* go to '$got', expected '$want'" >&2
    failures=$((failures + 1))
  fi
}
expect on-call-pager alertname=AlertdConsumerLagGrowing severity=critical team=engine
expect on-call-pager alertname=AlertdNotifyDeliveriesFailing severity=critical team=engine
expect programme-chat alertname=UnitSelfTestComplianceBelowTarget severity=warning team=programme unit=U05
expect engine-chat alertname=AlertdCommitLatencyHigh severity=warning team=engine
[ "$failures" -eq 0 ] && echo "4 routes as expected"
exit "$failures"
