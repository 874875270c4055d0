#!/usr/bin/env bash
# Regenerates the fuzzers' seed corpus (tests/fuzz/corpus/<target>/) from text-format messages and
# policy files: valid records of each topic, the edge cases around every check, and past findings.
# Usage: tests/fuzz/make_seeds.sh   (needs protoc; the files it writes are kept in the repository)
#
# A record seed is what fuzz_record.h reads: [flags][key length][key][value]. Flags: 1 = tombstone
# (null value), 2 = the rules start from the prepared state of worker W0001 (open R1 episode).
set -euo pipefail
export LC_ALL=C  # ${#key} counts bytes
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
corpus=$here/corpus
rm -rf "$corpus"
mkdir -p "$corpus"/{reading,profile,shift,ack,policy}

# Event times around the fuzzers' processing time kNow (fuzz_record.h): 2024-06-03 07:33:20 UTC.
now=1717400000000
hour_ago=$((now - 3600000))
day=86400000

header() {  # flags key
  printf "\\x$(printf %02x "$1")\\x$(printf %02x "${#2}")"
  printf '%s' "$2"
}

# record TARGET NAME FLAGS KEY TYPE TEXT: TEXT is a healthgrid.v1.TYPE in protobuf text format.
record() {
  { header "$3" "$4"; printf '%s' "$6" | protoc --encode="healthgrid.v1.$5" -I "$root/proto" health.proto; } \
    > "$corpus/$1/$2"
}

# raw TARGET NAME FLAGS KEY BYTES: BYTES is a printf format (\xNN escapes) for a value that is no message.
raw() {
  { header "$3" "$4"; printf "$5"; } > "$corpus/$1/$2"
}

# --- readings -----------------------------------------------------------------------------------
bp() {  # name flags key worker systolic diastolic pulse context measured_at
  record reading "$1" "$2" "$3" Reading "worker_id: \"$4\" device_id: \"omron-17\" station_id: \"ST-12\"
    measured_at_ms: $9 context: $8 reading_id: \"r-$1\"
    blood_pressure { systolic_mmhg: $5 diastolic_mmhg: $6 pulse_bpm: $7 }"
}
glucose() {  # name flags mmol timing
  record reading "$1" "$2" W0001 Reading "worker_id: \"W0001\" device_id: \"accu-3\" station_id: \"ST-12\"
    measured_at_ms: $hour_ago context: SELF_TEST glucose { mmol_per_l: $3 timing: $4 }"
}
bp bp_normal 0 W0002 W0002 118 76 70 SELF_TEST $hour_ago
bp bp_grade2 2 W0001 W0001 165 104 80 CHECKUP $hour_ago
bp bp_critical 2 W0001 W0001 186 112 88 PRE_SHIFT $hour_ago
bp bp_critical_new_worker 0 W0003 W0003 200 125 95 CLINIC $hour_ago
bp bp_hypotension_pre_shift 2 W0001 W0001 85 55 50 PRE_SHIFT $hour_ago
bp bp_isolated_systolic 0 W0002 W0002 150 82 0 SELF_TEST $hour_ago
bp bp_systolic_impossible 0 W0002 W0002 301 90 70 SELF_TEST $hour_ago
bp bp_systolic_uint32_max 0 W0002 W0002 4294967295 90 70 SELF_TEST $hour_ago
bp bp_diastolic_above_systolic 0 W0002 W0002 120 130 70 SELF_TEST $hour_ago
bp bp_pulse_too_low 0 W0002 W0002 120 80 19 SELF_TEST $hour_ago
bp bp_unknown_context 2 W0001 W0001 140 90 70 9 $hour_ago
bp bp_future 0 W0002 W0002 120 80 70 SELF_TEST $((now + 11 * 60000))
bp bp_too_old 0 W0002 W0002 120 80 70 SELF_TEST $((now - 31 * day))
bp bp_no_time 0 W0002 W0002 120 80 70 SELF_TEST 0
bp bp_time_max 0 W0002 W0002 120 80 70 SELF_TEST 9223372036854775807
bp bp_time_min 0 W0002 W0002 120 80 70 SELF_TEST -9223372036854775808
bp bp_key_mismatch 0 W0009 W0002 120 80 70 SELF_TEST $hour_ago
bp bp_no_key 2 "" W0001 190 100 70 SELF_TEST $hour_ago
bp bp_no_worker 0 W0002 "" 120 80 70 SELF_TEST $hour_ago
bp bp_worker_unicode 0 "王伟" "王伟" 120 80 70 SELF_TEST $hour_ago
glucose glucose_severe_hypo 2 2.5 RANDOM
glucose glucose_high_fasting 2 7.5 FASTING
glucose glucose_high_postprandial 0 12.0 POSTPRANDIAL_2H
glucose glucose_nan 2 nan FASTING
glucose glucose_inf 2 inf RANDOM
glucose glucose_negative 2 -1 RANDOM
glucose glucose_unknown_timing 2 9.0 7
record reading body 0 W0002 Reading "worker_id: \"W0002\" measured_at_ms: $hour_ago body { weight_kg: 82.5 height_cm: 176 }"
record reading body_no_height 0 W0002 Reading "worker_id: \"W0002\" measured_at_ms: $hour_ago body { weight_kg: 400 }"
record reading no_measurement 0 W0002 Reading "worker_id: \"W0002\" measured_at_ms: $hour_ago"
raw reading garbage 0 W0002 '\xff\xff\xff not protobuf'
raw reading empty_value 0 W0002 ''
raw reading tombstone 1 W0002 ''
raw reading binary_key 0 $'W\xff\x01' ''  # the dead letter quotes this key (codec.cc Quoted)
{ printf '\x00\x04W\xff\x01\\'; printf 'worker_id: "W1" measured_at_ms: %s blood_pressure { systolic_mmhg: 120 diastolic_mmhg: 80 }' \
    $hour_ago | protoc --encode=healthgrid.v1.Reading -I "$root/proto" health.proto; } > "$corpus/reading/binary_key_mismatch"

# --- profiles -----------------------------------------------------------------------------------
profile_text="worker_id: \"W0001\" name: \"Wang Wei\" unit_id: \"U07\" unit_name: \"Rail maintenance\"
  grid_id: \"U07-G12\" grid_name: \"Depot 12\" health_manager { id: \"hm-31\" name: \"Li Na\" }
  unit_supervisor { id: \"sup-12\" name: \"Chen Jun\" } high_risk_posts: DRIVER high_risk_posts: HOT_WORK
  conditions { hypertension_grade: 2 diabetes: true } active: true updated_at_ms: $hour_ago"
record profile full 0 W0001 WorkerProfile "$profile_text"
record profile full_known 2 W0001 WorkerProfile "$profile_text"
record profile own_policy 2 W0001 WorkerProfile "$profile_text policy { critical_systolic_mmhg: 170
  critical_diastolic_mmhg: 105 self_test_interval_days: 3 focus_tracking: true
  extra_recipients { id: \"dr-5\" name: \"Zhao Min\" } abnormal_systolic_mmhg: 135 abnormal_diastolic_mmhg: 85
  ack_timeout_minutes: 10 renotify_interval_hours: 6 self_test_enrolled: true }"
record profile own_policy_extremes 2 W0001 WorkerProfile "$profile_text policy { critical_systolic_mmhg: 4294967295
  critical_diastolic_mmhg: 0 self_test_interval_days: 4294967295 ack_timeout_minutes: 4294967295
  renotify_interval_hours: 4294967295 abnormal_systolic_mmhg: 0 self_test_enrolled: true }"
record profile own_policy_zero 0 W0001 WorkerProfile "$profile_text policy { self_test_interval_days: 0
  ack_timeout_minutes: 0 renotify_interval_hours: 0 }"
record profile grade_out_of_range 0 W0001 WorkerProfile "worker_id: \"W0001\" conditions { hypertension_grade: 7 }
  high_risk_posts: 9 active: true"
record profile inactive 2 W0001 WorkerProfile "worker_id: \"W0001\" active: false"
record profile no_worker_id 0 W0004 WorkerProfile "name: \"Sun Li\" active: true"
record profile key_mismatch 0 W0009 WorkerProfile "$profile_text"
record profile no_key 0 "" WorkerProfile "$profile_text"
raw profile tombstone 1 W0001 ''
raw profile tombstone_known 3 W0001 ''
raw profile empty_value 0 W0001 ''
raw profile garbage 0 W0001 '\x0a\xff\xff'
raw profile binary_key 0 $'W\xff\xfe' ''

# --- shifts -------------------------------------------------------------------------------------
shift() {  # name flags key worker post clock_in
  record shift "$1" "$2" "$3" ShiftEvent "worker_id: \"$4\" post: $5 clock_in_at_ms: $6 site: \"depot 12\""
}
shift driver_known 2 W0001 W0001 DRIVER $now
shift driver_new_worker 0 W0005 W0005 DRIVER $now
shift electrical_known 2 W0001 W0001 ELECTRICAL $((now + 30 * 60000))
shift unknown_post 2 W0001 W0001 9 $now
shift no_post 0 W0001 W0001 HIGH_RISK_POST_UNSPECIFIED $now
shift no_clock_in 0 W0001 W0001 DRIVER 0
shift clock_in_max 2 W0001 W0001 DRIVER 9223372036854775807
shift clock_in_min 2 W0001 W0001 DRIVER -9223372036854775808
shift key_mismatch 0 W0009 W0001 DRIVER $now
shift no_worker 0 W0001 "" DRIVER $now
raw shift garbage 0 W0001 '\x10\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80'
raw shift tombstone 1 W0001 ''

# --- acks ---------------------------------------------------------------------------------------
ack() {  # name flags text-after-worker
  record ack "$1" "$2" W0001 EscalationAck "worker_id: \"W0001\" by { id: \"hm-31\" name: \"Li Na\" } $3"
}
ack acknowledge_r1 2 "rule: R1_CRITICAL_BP action: ACKNOWLEDGE at_ms: $now"
ack resolve_r1 2 "rule: R1_CRITICAL_BP action: RESOLVE at_ms: $now"
ack snooze_r1 2 "rule: R1_CRITICAL_BP action: SNOOZE snooze_until_ms: $((now + 3600000)) at_ms: $now"
ack snooze_r1_forever 2 "rule: R1_CRITICAL_BP action: SNOOZE snooze_until_ms: 9223372036854775807"
ack snooze_r1_past 2 "rule: R1_CRITICAL_BP action: SNOOZE snooze_until_ms: 1 at_ms: $now"
ack snooze_without_until 2 "rule: R1_CRITICAL_BP action: SNOOZE"
ack acknowledge_no_time 2 "rule: R1_CRITICAL_BP action: ACKNOWLEDGE at_ms: -5"
ack acknowledge_r2_nothing_open 2 "rule: R2_SUSTAINED_HYPERTENSION action: ACKNOWLEDGE at_ms: $now"
ack unknown_episode 2 "episode_id: \"ep-unknown\" rule: R1_CRITICAL_BP action: RESOLVE at_ms: $now"
ack unknown_rule 2 "rule: 77 action: ACKNOWLEDGE"
ack no_action 2 "rule: R1_CRITICAL_BP"
ack acknowledge_empty_state 0 "rule: R1_CRITICAL_BP action: ACKNOWLEDGE at_ms: $now"
record ack key_mismatch 2 W0009 EscalationAck "worker_id: \"W0001\" rule: R1_CRITICAL_BP action: ACKNOWLEDGE"
raw ack garbage 0 W0001 '\x22\x05ep-1'
raw ack tombstone 1 W0001 ''

# --- policy file ----------------------------------------------------------------------------------
cp "$root/deploy/policy.yaml" "$corpus/policy/deploy_policy.yaml"
policy() { printf '%s' "$2" > "$corpus/policy/$1"; }
policy one_override $'limits:\n  max_evidence: 3\n'
policy every_section $'blood_pressure:\n  grade_3: {systolic: 175, diastolic: 108}\nglucose:\n  fasting_high: 6.9\nplausible:\n  pulse_bpm: {min: 25, max: 240}\ntime:\n  max_future_skew: 5m\n  day_offset: "-05:30"\nrules:\n  r2_sustained_hypertension:\n    window: 14d\n    min_category: GRADE_1\n  r4_pre_shift_fitness:\n    retest_advice: "rest 10 min, then measure again"\nescalation:\n  renotify_interval: 12h\nlimits:\n  max_window_samples: 64\n'
policy extremes $'time:\n  retention_horizon: 3650d\n  day_offset: "+14:00"\nrules:\n  r1_critical_bp:\n    ack_timeout: 1ms\n  r2_sustained_hypertension:\n    min_readings: 1\n    min_days: 1\nlimits:\n  max_window_samples: 10000\n  max_evidence: 100\n'
policy unknown_key $'limits:\n  max_evidense: 5\n'
policy wrong_type $'rules:\n  r2_sustained_hypertension:\n    min_days: two\n'
policy quoted_number $'limits:\n  max_evidence: "5"\n'
policy bounds_out_of_order $'blood_pressure:\n  grade_2: {systolic: 190}\n'
policy duplicate_key $'limits:\n  max_evidence: 5\n  max_evidence: 6\n'
policy huge_number $'limits:\n  max_evidence: 99999999999999999999999\n'
policy negative_duration $'time:\n  max_future_skew: -5m\n'
policy tab_indent $'limits:\n\tmax_evidence: 5\n'
policy unclosed_flow $'limits: {max_evidence: [5\n'
policy two_documents $'limits: {}\n---\nlimits: {}\n'
policy anchors $'blood_pressure:\n  grade_1: &g {systolic: 140, diastolic: 90}\n  grade_2: *g\n'
policy nested_list $'[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n'
policy top_level_scalar $'hello\n'
policy empty ''
policy stray_comma "'',"$'\xef'  # fuzz_policy's first find: yaml-cpp 0.7's LoadAll never returned
policy lone_comma $'\n,\n'
echo "seeds: $(find "$corpus" -type f | wc -l) files in $corpus"
