#!/usr/bin/env bash
# make bench: alertd vs a plain librdkafka consumer on the embedded cluster, on the bench's synthetic
# stream (with the scale-out numbers) and on alertd-sim's realistic population; every figure with its
# spread over the repetitions, figures.csv, series.csv and plot.png in the working directory, and the
# drain and live ratios as the last two lines.
set -euo pipefail
BUILD=${BUILD:-build/release}
# BENCH_DIR: the working directory (state and logs of every phase, and the results).
exec "$BUILD/bench/alertd-bench" --alertd "$BUILD/engine/app/alertd" --kafka "$BUILD/engine/cli/alertd-kafka" \
  --sim "$BUILD/engine/cli/alertd-sim" \
  --dir "${BENCH_DIR:-.bench}" "$@" ${BENCH_ARGS:-}
