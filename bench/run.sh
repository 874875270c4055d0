#!/usr/bin/env bash
# make bench: alertd vs a plain librdkafka consumer on the embedded cluster, then the scale-out numbers;
# the summary at the end gives the ratios (concurrent, drain, changelog on/off), the state's bytes per
# reading, restore rate and failover time.
set -euo pipefail
BUILD=${BUILD:-build/release}
# BENCH_DIR: the working directory (state and logs of every phase).
exec "$BUILD/bench/alertd-bench" --alertd "$BUILD/engine/app/alertd" --kafka "$BUILD/engine/cli/alertd-kafka" \
  --dir "${BENCH_DIR:-.bench}" "$@" ${BENCH_ARGS:-}
