#!/bin/sh
# Creates alertd's Kafka topics with their partition counts and cleanup policies, and checks existing ones are co-partitioned.
# Used by the Kubernetes Job (topics.yaml) and the compose file. Environment: BOOTSTRAP (host:port),
# PARTITIONS (of the co-partitioned topics; default 12), REPLICATION (default 3), GROUP (alertd's
# --group; default alertd), KAFKA_TOPICS (the kafka-topics.sh to run).
set -eu
: "${BOOTSTRAP:?set BOOTSTRAP to the Kafka bootstrap servers}"
P=${PARTITIONS:-12}
R=${REPLICATION:-3}
G=${GROUP:-alertd}
KT=${KAFKA_TOPICS:-/opt/kafka/bin/kafka-topics.sh}
WEEK=604800000            # input retention: the longest outage alertd must survive plus catch-up
MONTH=2592000000

# topic partitions cleanup.policy [more configs...]
topic() {
  name=$1 partitions=$2 policy=$3
  shift 3
  configs="--config cleanup.policy=$policy"
  for c in "$@"; do configs="$configs --config $c"; done
  # shellcheck disable=SC2086 # configs is a list of words
  "$KT" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$name" \
    --partitions "$partitions" --replication-factor "$R" $configs
  have=$("$KT" --bootstrap-server "$BOOTSTRAP" --describe --topic "$name" |
    sed -n 's/.*PartitionCount: *\([0-9]*\).*/\1/p' | head -n 1)
  if [ "$have" != "$partitions" ]; then
    echo "topic $name has $have partitions, alertd needs $partitions (co-partitioned with readings)" >&2
    exit 1
  fi
}

# Inputs, keyed by worker id and co-partitioned: one worker's records reach one instance, in order.
topic readings "$P" delete "retention.ms=$WEEK"
topic worker-profiles "$P" compact
topic shifts "$P" delete "retention.ms=$WEEK"
topic escalation-acks "$P" delete "retention.ms=$WEEK"
# alertd's state changelog: compaction keeps exactly the live state; never deleted by time.
topic "$G-state-changelog" "$P" compact min.compaction.lag.ms=3600000 max.message.bytes=1048588
topic "$G-members" 1 compact
# Outputs. alertd-notify's deliveries are co-partitioned with escalations; each outcome is its own record.
topic escalations "$P" delete "retention.ms=$WEEK"
topic deliveries "$P" delete "retention.ms=$((WEEK + 86400000))"
topic referrals "$P" delete "retention.ms=$MONTH"
# alertd-notify's FHIR loop: its changelog, co-partitioned with referrals, and the Bundles for Kafka readers.
topic referral-deliveries "$P" delete "retention.ms=$((WEEK + 86400000))"
topic referrals-fhir "$P" delete "retention.ms=$MONTH"
topic dead-letters "$P" delete "retention.ms=$MONTH"
echo "alertd topics ready: $P partitions, replication $R"
