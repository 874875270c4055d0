#!/usr/bin/env bash
# make bench: alertd vs a plain librdkafka consumer on the embedded cluster; last line is the ratio.
set -euo pipefail
BUILD=${BUILD:-build/release}
exec "$BUILD/bench/alertd-bench" --alertd "$BUILD/engine/app/alertd" --kafka "$BUILD/engine/cli/alertd-kafka" \
  --dir .bench "$@" ${BENCH_ARGS:-}
