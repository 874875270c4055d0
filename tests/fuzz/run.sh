#!/usr/bin/env bash
# Runs each fuzzer of tests/fuzz for a bounded time, from its seed corpus, and says per target how many
# inputs it tried and whether one crashed; a crash fails the run and leaves its reproducer.
# Usage: tests/fuzz/run.sh [--fresh] SECONDS [TARGET...]   (targets: reading profile shift ack policy)
#   --fresh: start from the seeds only (make test); otherwise inputs found earlier are reused (make fuzz).
# Replay a reproducer: build/fuzz/tests/fuzz/fuzz_<target> build/fuzz/crashes/<target>-crash-<sha>
set -uo pipefail
cd "$(dirname "$0")/../.."
fresh=0
if [ "${1:-}" = "--fresh" ]; then fresh=1; shift; fi
seconds=${1:?usage: run.sh [--fresh] SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(reading profile shift ack policy)
build=build/fuzz
mkdir -p "$build/crashes"

failed=()
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/fuzz_$t
  [ -x "$bin" ] || { echo "fuzz_$t: not built (make fuzz builds the preset \"fuzz\")"; failed+=("$t"); continue; }
  # Inputs the fuzzer finds go to the working corpus; the seeds in the repository stay as they are.
  work=$build/corpus/$t
  [ $fresh -eq 1 ] && rm -rf "$work"
  mkdir -p "$work"
  max_len=4096
  [ "$t" = policy ] && max_len=16384  # deploy/policy.yaml is ~6 KB
  log=$build/fuzz_$t.log
  # -timeout: an input running 10 s is a hang, reported like a crash.
  "$bin" "$work" "tests/fuzz/corpus/$t" -max_total_time="$seconds" -max_len=$max_len -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/crashes/$t-" >"$log" 2>&1
  rc=$?
  execs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  reproducer=$(grep -ao 'Test unit written to [^ ]*' "$log" | tail -1 | cut -d' ' -f5)
  if [ $rc -eq 0 ]; then
    echo "fuzz_$t: ${execs:-?} executions in ${seconds}s, no crash"
  else
    echo "fuzz_$t: CRASH after ${execs:-?} executions (exit $rc); reproducer: ${reproducer:-none written}; log: $log"
    grep -aE 'property broken|ERROR: |runtime error|SUMMARY' "$log" | head -5 | sed 's/^/    /'
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]}"
  exit 1
fi
