#!/usr/bin/env bash
# make demo: embedded Kafka, alertd, the reading simulator and a readable tail of escalations.
#
#   DEMO_SECONDS=90     how long to run (0 = until Ctrl-C)
#   DEMO_WORKERS=2000   simulated workers across 17 units and ~200 grids
#   DEMO_RATE=250       readings/s the simulator sends (a week of history first, then live readings)
#   DEMO_HTTP=127.0.0.1:9464  where alertd serves /metrics, /healthz, /readyz
set -euo pipefail
BUILD=${BUILD:-build/release}
DEMO_SECONDS=${DEMO_SECONDS:-90}
DEMO_WORKERS=${DEMO_WORKERS:-2000}
DEMO_RATE=${DEMO_RATE:-250}
DEMO_HTTP=${DEMO_HTTP:-127.0.0.1:9464}
dir=.demo
bin=$BUILD/engine
rm -rf "$dir" && mkdir -p "$dir"

pids=()
# In order, each to its end: alertd commits and flushes before the cluster under it goes away.
stop() { for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
cleanup() { stop "${pids[@]}"; }
trap cleanup EXIT
trap 'echo; echo "stopping..."; interrupted=1' INT TERM
interrupted=0

"$bin/cli/alertd-kafka" --partitions 8 --bootstrap-file "$dir/bootstrap" >"$dir/kafka.log" 2>&1 &
kafka_pid=$!; pids+=("$kafka_pid")
for _ in $(seq 1 100); do [ -s "$dir/bootstrap" ] && break; sleep 0.1; done
[ -s "$dir/bootstrap" ] || { echo "embedded Kafka did not start:"; cat "$dir/kafka.log"; exit 1; }
bootstrap=$(cat "$dir/bootstrap")

"$bin/app/alertd" --bootstrap "$bootstrap" --db "$dir/state" --http "$DEMO_HTTP" \
  --http-port-file "$dir/http.port" --log-level warn 2>"$dir/alertd.log" &
alertd_pid=$!; pids=("$alertd_pid" "${pids[@]}")
for _ in $(seq 1 100); do [ -s "$dir/http.port" ] && break; kill -0 "$alertd_pid" 2>/dev/null || break; sleep 0.1; done
[ -s "$dir/http.port" ] || { echo "alertd did not start:"; cat "$dir/alertd.log"; exit 1; }
metrics="http://${DEMO_HTTP%:*}:$(cat "$dir/http.port")/metrics"

echo "== alertd demo: embedded Kafka at $bootstrap, metrics at $metrics"
echo "== $DEMO_WORKERS workers send a week of readings, then live ones; escalations appear below as alertd decides them"
echo

"$bin/cli/alertd-tail" --bootstrap "$bootstrap" --from-beginning --summary >"$dir/tail.out" 2>"$dir/tail.log" &
tail_pid=$!; pids=("$tail_pid" "${pids[@]}")
tail -n +1 -f "$dir/tail.out" &
follow_pid=$!; pids=("$follow_pid" "${pids[@]}")

live=$(( DEMO_SECONDS > 0 ? DEMO_SECONDS : 10#999999999 ))
"$bin/cli/alertd-sim" --bootstrap "$bootstrap" --workers "$DEMO_WORKERS" --days 7 --rate "$DEMO_RATE" \
  --live-seconds "$live" --quiet >"$dir/sim.out" 2>"$dir/sim.log" &
sim_pid=$!; pids=("$sim_pid" "${pids[@]}")

start=$(date +%s)
while [ "$interrupted" -eq 0 ] && kill -0 "$sim_pid" 2>/dev/null; do
  if [ "$DEMO_SECONDS" -gt 0 ] && [ $(( $(date +%s) - start )) -ge "$DEMO_SECONDS" ]; then break; fi
  sleep 1
done
stop "$sim_pid"
# Give alertd a moment to grade what is still in flight before reading its counters.
for _ in $(seq 1 50); do
  lag=$(curl -fs "$metrics" | awk '/^alertd_consumer_lag\{/ {s+=$2} END {print s+0}')
  [ "$lag" = "0" ] && break; sleep 0.2
done
sleep 1
snapshot=$(curl -fs "$metrics" || true)
stop "$tail_pid"; sleep 0.3; stop "$follow_pid"

echo
echo "== summary"
cat "$dir/sim.out"
echo "$snapshot" | awk '
  /^alertd_readings_total\{/ { match($0, /kind="[^"]*"/); k=substr($0, RSTART+6, RLENGTH-7); r[k]+=$2; total+=$2 }
  /^alertd_escalations_total\{/ { match($0, /rule="[^"]*"/); ru=substr($0, RSTART+6, RLENGTH-7);
                                  match($0, /state="[^"]*"/); st=substr($0, RSTART+7, RLENGTH-8); e[ru " " st]+=$2 }
  /^alertd_dead_letters_total\{/ { match($0, /reason="[^"]*"/); d[substr($0, RSTART+8, RLENGTH-9)]+=$2; dl+=$2 }
  END {
    printf "readings processed: %d", total; for (k in r) printf "  %s %d", k, r[k]; printf "\n"
    print "escalations by rule and state:"; for (k in e) printf "  %-40s %d\n", k, e[k]
    printf "dead letters: %d\n", dl; for (k in d) printf "  %-40s %d\n", k, d[k]
  }'
echo "metrics were at $metrics (alertd state in $dir/state, logs in $dir/)"
