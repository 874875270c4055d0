#!/usr/bin/env bash
# Where a commit's time goes at a steady live rate: alertd-sim's 20,000 workers' profiles (and a day of
# history) on the embedded cluster, a fresh alertd on them, then alertd-sim's live readings; prints the
# commits and changelog writes of the live phase (count and mean, from alertd's histograms
# alertd_commit_duration_seconds and alertd_changelog_write_seconds).
#   bench/commit_time.sh                (one broker, 128 partitions, 5,000 readings/s for 20 s)
#   BROKERS=3 PARTITIONS=128 RATE=5000 SECONDS_LIVE=20 WORKERS=20000 WORK=.bench-commit
#   ALERTD_ARGS="--kafka-property fetch.wait.max.ms=2" (extra alertd flags)
set -euo pipefail
BUILD=${BUILD:-build/release}
BROKERS=${BROKERS:-1} PARTITIONS=${PARTITIONS:-128} RATE=${RATE:-5000} SECONDS_LIVE=${SECONDS_LIVE:-20}
WORKERS=${WORKERS:-20000}
WORK=$(realpath -m "${WORK:-.bench-commit}")
rm -rf "$WORK" && mkdir -p "$WORK"
"$BUILD/engine/cli/alertd-kafka" --brokers "$BROKERS" --partitions "$PARTITIONS" --bootstrap-file "$WORK/bootstrap" \
  >"$WORK/kafka.log" 2>&1 &
kafka=$!
alertd=
trap 'kill $kafka ${alertd:-} 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$WORK/bootstrap" ] && break; sleep 0.1; done
bootstrap=$(cat "$WORK/bootstrap")
"$BUILD/engine/cli/alertd-sim" --bootstrap "$bootstrap" --workers "$WORKERS" --days 1 --readings-per-day 1 \
  --rate 0 --quiet >"$WORK/backfill.log" 2>&1
# shellcheck disable=SC2086
"$BUILD/engine/app/alertd" --bootstrap "$bootstrap" --db "$WORK/db" --http 127.0.0.1:0 \
  --http-port-file "$WORK/port" ${ALERTD_ARGS:-} >"$WORK/alertd.log" 2>&1 &
alertd=$!
for _ in $(seq 600); do [ -s "$WORK/port" ] && break; sleep 0.1; done
port=$(cat "$WORK/port")
for _ in $(seq 120); do curl -sf "127.0.0.1:$port/readyz" >/dev/null && break; sleep 1; done
sleep 5  # the backfill graded
figures() {
  curl -s "127.0.0.1:$port/metrics" |
    awk '/^alertd_(commit_duration|changelog_write)_seconds_(sum|count|bucket)/ {print $1, $2}' | sort
}
figures >"$WORK/before.txt"
"$BUILD/engine/cli/alertd-sim" --bootstrap "$bootstrap" --workers "$WORKERS" --days 0 --live-seconds "$SECONDS_LIVE" \
  --rate "$RATE" --quiet >"$WORK/live.log" 2>&1
sleep 2
figures >"$WORK/after.txt"
join "$WORK/before.txt" "$WORK/after.txt" | awk -v brokers="$BROKERS" -v partitions="$PARTITIONS" -v rate="$RATE" '
  {d[$1] = $3 - $2}
  END {
    n = d["alertd_commit_duration_seconds_count"]; c = d["alertd_changelog_write_seconds_count"]
    if (n == 0) { print "no commit in the live phase"; exit 1 }
    printf "%d broker(s), %d partitions, %d readings/s: %d commits, mean %.1f ms; %d changelog writes, mean %.1f ms (%.0f%% of the commit time)\n",
      brokers, partitions, rate, n, 1000 * d["alertd_commit_duration_seconds_sum"] / n, c,
      c ? 1000 * d["alertd_changelog_write_seconds_sum"] / c : 0,
      100 * d["alertd_changelog_write_seconds_sum"] / d["alertd_commit_duration_seconds_sum"]
    # The tail, from the histograms: the share of each taking longer than 10, 20 and 50 ms.
    split("commit_duration changelog_write", names, " ")
    for (k = 1; k <= 2; ++k) {
      total = d["alertd_" names[k] "_seconds_count"]
      if (total == 0) continue
      printf "  %s: over 10 ms %.1f%%, over 20 ms %.1f%%, over 50 ms %.1f%%\n", names[k],
        100 * (total - d["alertd_" names[k] "_seconds_bucket{le=\"0.01\"}"]) / total,
        100 * (total - d["alertd_" names[k] "_seconds_bucket{le=\"0.02\"}"]) / total,
        100 * (total - d["alertd_" names[k] "_seconds_bucket{le=\"0.05\"}"]) / total
    }
  }'
