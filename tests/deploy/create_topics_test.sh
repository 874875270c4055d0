#!/usr/bin/env bash
# Runs deploy/kubernetes/create-topics.sh against a stand-in kafka-topics.sh that records each topic: partition counts and cleanup policies as alertd needs them.
set -euo pipefail
script=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The stand-in keeps one file per topic: "<partitions> <configs...>"; --describe answers like kafka-topics.sh.
cat > "$work/kafka-topics.sh" <<'FAKE'
#!/usr/bin/env bash
set -eu
db=$(dirname "$0")/topics; mkdir -p "$db"
topic="" partitions="" configs="" mode=""
while [ $# -gt 0 ]; do
  case $1 in
    --create) mode=create ;;
    --describe) mode=describe ;;
    --topic) topic=$2; shift ;;
    --partitions) partitions=$2; shift ;;
    --config) configs="$configs $2"; shift ;;
    --bootstrap-server|--replication-factor) shift ;;
    --if-not-exists) ;;
    *) echo "kafka-topics.sh: unexpected $1" >&2; exit 2 ;;
  esac
  shift
done
if [ "$mode" = create ]; then [ -f "$db/$topic" ] || echo "$partitions$configs" > "$db/$topic"; fi
if [ "$mode" = describe ]; then echo "Topic: $topic	TopicId: x	PartitionCount: $(cut -d' ' -f1 "$db/$topic")	ReplicationFactor: 3"; fi
FAKE
chmod +x "$work/kafka-topics.sh"
failures=0
expect() {  # expect TOPIC PARTITIONS CONFIG...
  local topic=$1 partitions=$2; shift 2
  local got; got=$(cat "$work/topics/$topic" 2>/dev/null || echo missing)
  [ "${got%% *}" = "$partitions" ] || { echo "$topic: partitions '${got%% *}', expected $partitions" >&2; failures=$((failures + 1)); }
  for c in "$@"; do
    [[ " $got " == *" $c "* ]] || { echo "$topic: no $c in '$got'" >&2; failures=$((failures + 1)); }
  done
}
BOOTSTRAP=kafka:9092 PARTITIONS=12 KAFKA_TOPICS="$work/kafka-topics.sh" sh "$script" > /dev/null
for t in readings shifts escalation-acks; do expect $t 12 cleanup.policy=delete retention.ms=604800000; done
expect worker-profiles 12 cleanup.policy=compact
expect alertd-state-changelog 12 cleanup.policy=compact min.compaction.lag.ms=3600000
expect alertd-members 1 cleanup.policy=compact
expect escalations 12 cleanup.policy=delete
expect deliveries 12 cleanup.policy=delete
expect referrals 12 cleanup.policy=delete
# alertd-notify's FHIR loop reads referral-deliveries as its changelog: co-partitioned with referrals.
expect referral-deliveries 12 cleanup.policy=delete
expect referrals-fhir 12 cleanup.policy=delete
expect dead-letters 12 cleanup.policy=delete
[ "$(ls "$work/topics" | wc -l)" -eq 12 ] || { echo "topics: $(ls "$work/topics" | tr '\n' ' '), expected 12" >&2; failures=$((failures + 1)); }

# A readings topic that exists with another partition count breaks co-partitioning: the script refuses.
rm -rf "$work/topics"; mkdir "$work/topics"; echo "8 cleanup.policy=delete" > "$work/topics/readings"
if BOOTSTRAP=kafka:9092 PARTITIONS=12 KAFKA_TOPICS="$work/kafka-topics.sh" sh "$script" > /dev/null 2> "$work/err"; then
  echo "an 8-partition readings topic was accepted for 12 partitions" >&2; failures=$((failures + 1))
elif ! grep -q "topic readings has 8 partitions, alertd needs 12" "$work/err"; then
  echo "refused without naming the topic: $(cat "$work/err")" >&2; failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] && echo "12 topics created as alertd needs them; a mis-partitioned one refused"
exit "$failures"
