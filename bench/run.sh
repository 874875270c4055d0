#!/usr/bin/env bash
# make bench: alertd vs a plain librdkafka consumer on the embedded cluster; the last two lines are the
# ratios, reading while the producer writes (concurrent) and reading a full topic (drain).
set -euo pipefail
BUILD=${BUILD:-build/release}
exec "$BUILD/bench/alertd-bench" --alertd "$BUILD/engine/app/alertd" --kafka "$BUILD/engine/cli/alertd-kafka" \
  --dir .bench "$@" ${BENCH_ARGS:-}
