#!/usr/bin/env bash
# make demo: a simulated week of a health grid played through alertd in replay mode (--clock=stream),
# told as a story, then (optionally) live readings; the people's side beside it: alertd-notify delivers
# every escalation with signed acknowledge links to alertd-phone, which shows each message as a phone
# would, and the grid view of one of the story's grids opens from a signed view link.
#
# Embedded Kafka, a fresh alertd state; alertd-sim --scenario week produces two weeks of history (a
# lead-in, then the week) with each record stamped with the moment it reached Kafka, so alertd's
# clock follows the records: deadlines of days (the R3 ladder, ack timeouts, re-notifications) fire
# in seconds. Then: what the script's workers went through, a summary of the week, the grid view's
# address and the first messages the phone got.
#
#   DEMO_WORKERS=400    simulated workers across 17 units and ~200 grids
#   DEMO_START=         first day of the week, YYYY-MM-DD (default: 7 days before today)
#   DEMO_SEED=42        same seed and start, same week
#   DEMO_SECONDS=20     live readings after the week, seconds (0 = none)
#   DEMO_RATE=20        live readings per second
#   DEMO_HTTP=127.0.0.1:9464  where alertd serves /metrics, /healthz, /readyz, the API and the grid view
#   DEMO_MESSAGES=3     messages of the phone shown in full after the week
set -euo pipefail
BUILD=${BUILD:-build/release}
DEMO_WORKERS=${DEMO_WORKERS:-400}
DEMO_START=${DEMO_START:-}
DEMO_SEED=${DEMO_SEED:-42}
DEMO_SECONDS=${DEMO_SECONDS:-20}
DEMO_RATE=${DEMO_RATE:-20}
DEMO_HTTP=${DEMO_HTTP:-127.0.0.1:9464}
DEMO_MESSAGES=${DEMO_MESSAGES:-3}
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

# The operator's token of the query API and the key that signs the messages' links, fresh each run.
# The link secret is a hex string: alertd and alertd-notify read the file's first line as the key.
(umask 077; openssl rand -hex 32 >"$dir/api.token"; openssl rand -hex 32 >"$dir/link.secret")

# Waits until `file` is written by the process `pid` (10 s at most).
wait_file() { for _ in $(seq 1 100); do [ -s "$1" ] && return 0; kill -0 "$2" 2>/dev/null || return 1; sleep 0.1; done; return 1; }

"$bin/app/alertd" --bootstrap "$bootstrap" --db "$dir/state" --clock=stream --http "$DEMO_HTTP" \
  --http-port-file "$dir/http.port" --api-token-file "$dir/api.token" --link-secret-file "$dir/link.secret" \
  --log-level warn 2>"$dir/alertd.log" &
alertd_pid=$!; pids=("$alertd_pid" "${pids[@]}")
wait_file "$dir/http.port" "$alertd_pid" || { echo "alertd did not start:"; cat "$dir/alertd.log"; exit 1; }
site="http://${DEMO_HTTP%:*}:$(cat "$dir/http.port")"
metrics="$site/metrics"

# The phone on a free port, and alertd-notify routing every role to it (deploy/notify/demo.yaml)
# with links back to alertd's pages; both stop before alertd and Kafka.
"$bin/notifyd/alertd-phone" --listen 127.0.0.1:0 --port-file "$dir/phone.port" >"$dir/phone.out" 2>"$dir/phone.log" &
phone_pid=$!; pids=("$phone_pid" "${pids[@]}")
wait_file "$dir/phone.port" "$phone_pid" || { echo "alertd-phone did not start:"; cat "$dir/phone.log"; exit 1; }
sed "s/127\.0\.0\.1:9099/127.0.0.1:$(tr -d '[:space:]' <"$dir/phone.port")/g" deploy/notify/demo.yaml >"$dir/notify.yaml"
"$bin/notifyd/alertd-notify" --bootstrap "$bootstrap" --config "$dir/notify.yaml" --templates deploy/notify/templates \
  --page-base-url "$site" --link-secret-file "$dir/link.secret" --http 127.0.0.1:0 \
  --http-port-file "$dir/notify.port" 2>"$dir/notify.log" &
notify_pid=$!; pids=("$notify_pid" "${pids[@]}")
wait_file "$dir/notify.port" "$notify_pid" || { echo "alertd-notify did not start:"; cat "$dir/notify.log"; exit 1; }
notify_metrics="http://127.0.0.1:$(cat "$dir/notify.port")/metrics"

# The week, in health-grid local days (UTC+8); the sim defaults to the same dates.
today=$(TZ=Asia/Shanghai date +%F)
start=${DEMO_START:-$(date -d "$today - 7 days" +%F)}
week_end=$(date -d "$start + 7 days" +%F)

echo "== alertd demo: embedded Kafka at $bootstrap, alertd --clock=stream, metrics at $metrics"
echo "== alertd-notify delivers every escalation to alertd-phone on 127.0.0.1:$(tr -d '[:space:]' <"$dir/phone.port") (messages in $dir/phone.out)"
echo "== playing the week $start .. $(date -d "$week_end - 1 day" +%F) ($DEMO_WORKERS workers, history from" \
     "$(date -d "$start - 7 days" +%F)): every record carries the moment it reached Kafka, so days pass in seconds"

live=$(( DEMO_SECONDS > 0 ? DEMO_SECONDS : 0 ))
"$bin/cli/alertd-sim" --bootstrap "$bootstrap" --scenario week --start "$start" --workers "$DEMO_WORKERS" \
  --seed "$DEMO_SEED" --story-file "$dir/story.tsv" --live-seconds "$live" --rate "$DEMO_RATE" \
  >"$dir/sim.out" 2>"$dir/sim.log" &
sim_pid=$!; pids=("$sim_pid" "${pids[@]}")
for _ in $(seq 1 600); do
  [ -s "$dir/story.tsv" ] && break
  kill -0 "$sim_pid" 2>/dev/null || break
  [ "$interrupted" -eq 0 ] || exit 130
  sleep 0.1
done
[ -s "$dir/story.tsv" ] || { echo "alertd-sim did not produce the week:"; cat "$dir/sim.log"; exit 1; }

# alertd has played the week when it has consumed what was produced (live readings keep the lag small).
lag() { curl -fs "$metrics" | awk '/^alertd_consumer_lag\{/ {s+=$2} END {print s+0}'; }
for _ in $(seq 1 300); do
  [ "$interrupted" -eq 0 ] || exit 130
  [ "$(lag)" -le $(( live > 0 ? DEMO_RATE * 2 : 0 )) ] && break
  sleep 0.2
done
sleep 2  # escalations leave alertd's outbox once the broker confirms them
"$bin/cli/alertd-tail" --bootstrap "$bootstrap" --from-beginning --exit-at-end --no-color >"$dir/tail.all" 2>"$dir/tail.log"
"$bin/cli/alertd-tail" --bootstrap "$bootstrap" --from-beginning --exit-at-end --json >"$dir/tail.json" 2>>"$dir/tail.log"
# The week's events are those alertd decided before the week's end (stream time); later ones are live.
awk -v end="$week_end" 'substr($0, 1, 10) < end' "$dir/tail.all" >"$dir/week.out"
awk -v end="$week_end" 'match($0, /"(emitted|rejected)_at":"[^"]*"/) {
                          if (substr($0, index(substr($0, RSTART), ":\"") + RSTART + 1, 10) < end) print; next }
                        { print }' "$dir/tail.json" >"$dir/week.json"

echo
echo "== the week's script, and what alertd made of it (escalations and referrals of these workers)"
while IFS=$'\t' read -r worker story expect; do
  echo
  echo "-- $worker  $story: $expect"
  grep -E "^[0-9-]+ [0-9:]+ .* $worker " "$dir/week.out" | sort -s -k1,2 | cut -c1-220 | sed 's/^/   /' || echo "   (nothing)"
done <"$dir/story.tsv"

echo
echo "== the week in numbers"
sed -n 's/^alertd-sim: week /input: week /p' "$dir/sim.out"
awk '
  function field(name,   v) { if (match($0, "\"" name "\":\"[^\"]*\"")) { v = substr($0, RSTART + length(name) + 4, RLENGTH - length(name) - 5); return v } return "" }
  /"type":"escalation"/ {
    rule = field("rule"); state = field("state"); level = field("level"); sev = field("severity"); reason = field("reason")
    n++; by[rule " " state]++; lv[rule " " level]++
    if (rule == "R3_SELF_TEST_MISSED") {
      if (state == "OPEN") r3["1 reminder to the worker (due)"]++
      else if (state == "ESCALATED" && level == "HEALTH_MANAGER") r3["2 health manager (due + 24 h)"]++
      else if (state == "ESCALATED" && level == "UNIT_SUPERVISOR") r3["3 unit supervisor (due + 72 h)"]++
      else if (state == "RENOTIFIED") r3["4 re-notified after an acknowledgement"]++
      else if (state == "RESOLVED" && reason ~ /retracted/) r3["6 retracted by a late upload"]++
      else if (state == "RESOLVED") r3["5 resolved by a self-test"]++
    }
    if (state == "RENOTIFIED" && reason ~ /^Still open: acknowledged/) acked[rule]++
    if (state == "RENOTIFIED" && reason ~ /^Snooze ended/) snoozed[rule]++
    if (rule == "R4_PRE_SHIFT_FITNESS") {
      if (sev == "URGENT" && state == "OPEN") r4["unfit for duty (URGENT, retest after rest)"]++
      if (sev == "CRITICAL") r4["unfit and clocked in anyway (CRITICAL)"]++
      if (sev == "HIGH" && state == "OPEN") r4["clocked in with no pre-shift check (HIGH)"]++
      if (state == "RESOLVED" && reason ~ /^Fit for duty on retest/) r4["fit on retest (resolved)"]++
      if (state == "RESOLVED" && reason ~ /^Pre-shift check done/) r4["check done after all (resolved)"]++
    }
  }
  /"type":"referral"/ { refs++; ref[field("rule") " " field("urgency")]++ }
  /"type":"dead_letter"/ { dl++; dead[field("reason")]++ }
  END {
    printf "escalation events: %d\n", n
    print "  by rule and state:"; for (k in by) printf "    %-45s %d\n", k, by[k] | "sort"; close("sort")
    print "  by rule and level:"; for (k in lv) printf "    %-45s %d\n", k, lv[k] | "sort"; close("sort")
    print "R3 weekly self-test ladder:"; for (k in r3) printf "    %-45s %d\n", k, r3[k] | "sort"; close("sort")
    print "acknowledged, so re-notified instead of climbing:"; for (k in acked) printf "    %-45s %d\n", k, acked[k] | "sort"; close("sort")
    print "snoozed by the morning round, re-notified when the snooze ended:"; for (k in snoozed) printf "    %-45s %d\n", k, snoozed[k] | "sort"; close("sort")
    print "R4 pre-shift fitness:"; for (k in r4) printf "    %-45s %d\n", k, r4[k] | "sort"; close("sort")
    if (refs > 0) { printf "referrals to clinics: %d\n", refs; for (k in ref) printf "    %-45s %d\n", k, ref[k] | "sort"; close("sort") }
    else print "referrals to clinics: none on the referrals topic"
    printf "dead letters: %d\n", dl; for (k in dead) printf "    %-45s %d\n", k, dead[k] | "sort"; close("sort")
  }' "$dir/week.json"

# The grid view of the first story worker's grid, opened as that grid's health manager would from a
# view link: a JWT HS256 with the claims engine/notify/ack_link.h names, signed here with the demo's key.
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
view_link() {  # scope, person id, person name (JSON-escaped) -> the token, valid for a day
  local now header claims
  now=$(date +%s)
  header=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64url)
  claims=$(printf '{"act":"view","sub":"%s","name":"%s","scope":"%s","iat":%d,"exp":%d}' "$2" "$3" "$1" \
    "$now" $(( now + 24 * 3600 )) | b64url)
  printf '%s.%s.%s' "$header" "$claims" \
    "$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -hmac "$(head -n1 "$dir/link.secret")" -binary | b64url)"
}
story_worker=$(head -n1 "$dir/story.tsv" | cut -f1)
first_event=$(grep '"type":"escalation"' "$dir/week.json" |
  grep -m1 "\"worker_id\":\"$story_worker\".*\"role\":\"ROLE_HEALTH_MANAGER\"" || true)
grid=$(sed -n 's/.*"grid_id":"\([^"]*\)".*/\1/p' <<<"$first_event")
manager=$(grep -o '{"id":"[^"]*","name":"[^"]*","role":"ROLE_HEALTH_MANAGER"}' <<<"$first_event" | head -n1 || true)
manager_id=$(sed -n 's/{"id":"\([^"]*\)".*/\1/p' <<<"$manager")
manager_name=$(sed -n 's/.*"name":"\([^"]*\)".*/\1/p' <<<"$manager")
echo
if [ -n "$grid" ] && [ -n "$manager_id" ]; then
  echo "== the grid view of $story_worker's grid $grid, as its health manager $manager_id opens it (link valid 24 h):"
  echo "   $site/grid/$grid?t=$(view_link "grid:$grid" "$manager_id" "$manager_name")"
  echo "   (the query API: curl -H \"Authorization: Bearer \$(cat $dir/api.token)\" $site/api/v1/grids/$grid/workers)"
else
  echo "== the grid view: $story_worker has no escalation with a health manager this week, so no grid to show"
fi

# The phone has every message once alertd-notify has consumed the escalations and sent what it queued.
notify_sum() {  # metric [label text]: the sum of its samples (with that label) on alertd-notify's /metrics
  curl -fs "$notify_metrics" | awk -v m="$1" -v l="${2:-}" '
    index($1, m) == 1 && substr($1, length(m) + 1, 1) ~ /^[{]?$/ && (l == "" || index($1, l)) { s += $2 }
    END { print s + 0 }'
}
messages() { grep -c '^┌─ 📱' "$dir/phone.out" || true; }
seen=-1
for _ in $(seq 1 150); do
  [ "$interrupted" -eq 0 ] || exit 130
  now_seen=$(messages)
  [ "$(notify_sum alertd_notify_consumer_lag)" -eq 0 ] && [ "$(notify_sum alertd_notify_queued)" -eq 0 ] &&
    [ "$now_seen" -eq "$seen" ] && [ "$now_seen" -gt 0 ] && break
  seen=$now_seen
  sleep 0.4
done
echo
echo "== the phone: the first $DEMO_MESSAGES of $(messages) messages alertd-notify delivered (all in $dir/phone.out)"
awk -v n="$DEMO_MESSAGES" '/^┌─ 📱/ { k++ } k > n { exit } { print "   " $0 }' "$dir/phone.out"
echo "   deliveries: $(notify_sum alertd_notify_deliveries_total 'outcome="sent"') sent," \
     "$(notify_sum alertd_notify_deliveries_total 'outcome="failed"') failed"

if [ "$live" -gt 0 ] && [ "$interrupted" -eq 0 ]; then
  echo
  echo "== live: $DEMO_RATE readings/s for ${live} s after the week; escalations as alertd decides them"
  : >"$dir/live.out"  # exists before `tail -f` opens it
  "$bin/cli/alertd-tail" --bootstrap "$bootstrap" --summary --no-color >>"$dir/live.out" 2>>"$dir/tail.log" &
  tail_pid=$!; pids=("$tail_pid" "${pids[@]}")
  tail -n +1 -f "$dir/live.out" &
  follow_pid=$!; pids=("$follow_pid" "${pids[@]}")
  while [ "$interrupted" -eq 0 ] && kill -0 "$sim_pid" 2>/dev/null; do sleep 0.5; done
  stop "$sim_pid"
  sleep 2
  stop "$tail_pid"; sleep 0.3; stop "$follow_pid"
else
  stop "$sim_pid"
fi
stop "$notify_pid" "$phone_pid"  # the people's side ends with the readings, before alertd and Kafka
echo
echo "alertd state in $dir/state, the week's events in $dir/week.out ($dir/week.json), logs in $dir/"
