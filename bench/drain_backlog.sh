#!/usr/bin/env bash
# A realistic backlog drained by a fresh alertd: alertd-sim's population (profiles, blood pressure,
# glucose and body readings, 14 days of history at 8 readings a day) on the embedded cluster, then
# each given alertd binary drains it from an empty disk, with the changelog on and fsync per commit.
# Prints records/s, CPU and minor page faults per record from the first reading graded to the last record committed (as
# alertd-bench counts them), peak RSS, changelog bytes and records per input record, and the CPU the
# embedded cluster spent meanwhile (serving the fetches and the changelog) per record, and the worker
# states read back from the store and evicted from memory (the budget's state share).
#   bench/drain_backlog.sh [ALERTD_BINARY ...]   (default: build/release/engine/app/alertd)
#   WORKERS=5000 PARTITIONS=32 DAYS=14 PER_DAY=8 WORK=.bench-drain BACKLOG=batched|small
# BACKLOG: the embedded cluster answers a fetch with at most one record batch per partition (its
# Fetch handler's "FIXME: Multiple messageSets"), where a broker returns up to
# max.partition.fetch.bytes of them. `batched` (the default) has alertd-sim write its backfill in
# batches of thousands of records, so that each fetch brings alertd long runs of each partition, as a
# broker's would, and alertd-bench's re-produced topics do. `small` keeps alertd-sim's own
# linger.ms=1: batches of a few records over 128 partitions, so every fetch brings a few records per
# partition, a regime only the embedded cluster has (bench/JOURNAL.md, "The backlog's batches").
set -euo pipefail
BUILD=${BUILD:-build/release}
WORKERS=${WORKERS:-5000} PARTITIONS=${PARTITIONS:-32} DAYS=${DAYS:-14} PER_DAY=${PER_DAY:-8}
WORK=$(realpath -m "${WORK:-.bench-drain}")
case "${BACKLOG:=batched}" in
  batched) sim_batching=(-X linger.ms=1000 -X batch.num.messages=10000 -X queue.buffering.max.messages=2000000) ;;
  small) sim_batching=() ;;
  *) echo "BACKLOG must be batched or small, not '$BACKLOG'" >&2; exit 2 ;;
esac
bins=("$@")
[ ${#bins[@]} -eq 0 ] && bins=("$BUILD/engine/app/alertd")
for b in "${bins[@]}"; do [ -x "$b" ] || { echo "not an executable: $b" >&2; exit 2; }; done
rm -rf "$WORK" && mkdir -p "$WORK"
topics=readings,worker-profiles,escalations,dead-letters,referrals,shifts,escalation-acks
for i in "${!bins[@]}"; do topics+=",drain$i-state-changelog"; done
"$BUILD/engine/cli/alertd-kafka" --partitions "$PARTITIONS" --topics "$topics" --bootstrap-file "$WORK/bootstrap" \
  >"$WORK/kafka.log" 2>&1 &
kafka=$!
trap 'kill $kafka 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$WORK/bootstrap" ] && break; sleep 0.1; done
bootstrap=$(cat "$WORK/bootstrap")
"$BUILD/engine/cli/alertd-sim" --bootstrap "$bootstrap" --workers "$WORKERS" --days "$DAYS" \
  --readings-per-day "$PER_DAY" --rate 0 --quiet "${sim_batching[@]}" >"$WORK/sim.log" 2>&1
echo "backlog (BACKLOG=$BACKLOG): $(tail -1 "$WORK/sim.log")"
cpu_of() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }
faults_of() { awk '{print $10}' "/proc/$1/stat"; }  # minor page faults, all threads
# metric PORT NAME [DECIMALS]: the sum of NAME's series.
metric() { curl -s "127.0.0.1:$1/metrics" | awk -v m="$2" -v d="${3:-0}" '$1 == m || index($1, m "{") == 1 {s += $2} END {printf "%.*f", d, s}'; }
for i in "${!bins[@]}"; do
  "${bins[$i]}" --bootstrap "$bootstrap" --group "drain$i" --db "$WORK/db$i" --http 127.0.0.1:0 \
    --http-port-file "$WORK/port$i" >"$WORK/alertd$i.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ -s "$WORK/port$i" ] && break; sleep 0.1; done
  port=$(cat "$WORK/port$i")
  launched=$(date +%s.%N)
  while [ "$(metric "$port" alertd_readings_total)" -eq 0 ]; do
    kill -0 "$pid" 2>/dev/null || { echo "${bins[$i]} exited before its first reading: $WORK/alertd$i.log" >&2; exit 1; }
    sleep 0.05
  done
  start=$(date +%s.%N) cpu0=$(cpu_of $pid) faults0=$(faults_of $pid) kafka_cpu0=$(cpu_of $kafka) committed0=$(metric "$port" alertd_committed_records_total)
  commit_wait0=$(metric "$port" alertd_commit_wait_seconds_total 3) poll_wait0=$(metric "$port" alertd_poll_wait_seconds_total 3)
  commits0=$(metric "$port" alertd_commits_total)
  last=-1 steady=0 done_at=$start
  # Drained: records committed, no lag, and nothing new for one second.
  while [ $steady -lt 1 ]; do
    sleep 0.5
    committed=$(metric "$port" alertd_committed_records_total)
    lag=$(metric "$port" alertd_consumer_lag)
    if [ "$committed" -gt 0 ] && [ "$lag" -eq 0 ] && [ "$committed" -eq "$last" ]; then steady=1; else done_at=$(date +%s.%N); fi
    last=$committed
  done
  seconds=$(echo "$done_at - $start" | bc -l)
  cpu=$(echo "$(cpu_of $pid) - $cpu0" | bc -l) kafka_cpu=$(echo "$(cpu_of $kafka) - $kafka_cpu0" | bc -l)
  faults=$(($(faults_of $pid) - faults0))
  rss=$(awk '/VmHWM/ {print $2 / 1024}' "/proc/$pid/status")
  commit_wait=$(echo "$(metric "$port" alertd_commit_wait_seconds_total 3) - $commit_wait0" | bc -l)
  poll_wait=$(echo "$(metric "$port" alertd_poll_wait_seconds_total 3) - $poll_wait0" | bc -l)
  commits=$(($(metric "$port" alertd_commits_total) - commits0))
  bytes=$(metric "$port" alertd_changelog_bytes_total)
  records=$(metric "$port" alertd_changelog_records_total)
  loads=$(metric "$port" alertd_state_loads_total) evictions=$(metric "$port" alertd_state_evictions_total)
  kill "$pid" && wait "$pid" || true
  n=$((committed - committed0))
  printf '%s: first reading graded %.1f s after start; then %d records in %.2f s = %.0f records/s; %.2f us CPU/record; %.2f page faults/record; peak RSS %.0f MiB; changelog %.0f B and %.2f records per input record; embedded cluster %.2f us CPU/record; %d commits; the engine loop waited %.1f s for commits and %.1f s for input; %d states read back from the store, %d evicted\n' \
    "${bins[$i]}" "$(echo "$start - $launched" | bc -l)" "$n" "$seconds" "$(echo "$n / $seconds" | bc -l)" \
    "$(echo "$cpu * 1000000 / $n" | bc -l)" "$(echo "$faults / $n" | bc -l)" "$rss" "$(echo "$bytes / $committed" | bc -l)" \
    "$(echo "$records / $committed" | bc -l)" "$(echo "$kafka_cpu * 1000000 / $n" | bc -l)" "$commits" "$commit_wait" "$poll_wait" "$loads" "$evictions"
done
