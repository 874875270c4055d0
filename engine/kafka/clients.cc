// librdkafka client construction shared by the daemon, its tools and its tests.
#include "engine/kafka/clients.h"

#include "absl/status/status.h"

namespace alertd::kafka {
namespace {

absl::StatusOr<std::unique_ptr<RdKafka::Conf>> MakeConf(const Properties& props) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  for (const auto& [name, value] : props) {
    if (conf->set(name, value, err) != RdKafka::Conf::CONF_OK) {
      return absl::InvalidArgumentError("kafka property " + name + "=" + value + ": " + err);
    }
  }
  return conf;
}

// A broker that comes back is noticed within a second: librdkafka's default backoff grows to 10 s
// between attempts, which would hold escalations back up to 10 s after an outage ends. Retrying a
// down broker once a second costs nothing worth counting.
constexpr const char* kReconnectBackoffMaxMs = "1000";

Properties Merge(Properties defaults, const Properties& extra) {
  for (const auto& [k, v] : extra) defaults[k] = v;
  return defaults;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> NewConsumer(const std::string& bootstrap,
                                                                    const std::string& group_id,
                                                                    const Properties& extra,
                                                                    RdKafka::RebalanceCb* rebalance,
                                                                    RdKafka::EventCb* events) {
  Properties props = Merge(
      {
          {"bootstrap.servers", bootstrap},
          {"group.id", group_id},
          {"enable.auto.commit", "false"},
          {"enable.auto.offset.store", "false"},
          {"auto.offset.reset", "earliest"},  // a new deployment grades everything retained
          {"enable.partition.eof", "false"},
          // A deep prefetch queue, so the engine thread never waits for the next fetch, bounded in
          // bytes: each queued record costs librdkafka a few hundred bytes besides its payload, so
          // 16 MiB of ~50-byte readings is already ~100 MiB of memory.
          {"queued.min.messages", "1000000"},
          {"queued.max.messages.kbytes", "16384"},
          // An escalation must not wait for a fetch to time out on a quiet partition.
          {"fetch.wait.max.ms", "50"},
          {"partition.assignment.strategy", "range"},
          // A crashed instance's partitions move to a survivor after this long: alerts must not wait 45 s.
          {"session.timeout.ms", "10000"},
          {"heartbeat.interval.ms", "2000"},
          {"reconnect.backoff.max.ms", kReconnectBackoffMaxMs},
      },
      extra);
  auto conf = MakeConf(props);
  if (!conf.ok()) return conf.status();
  std::string err;
  if (rebalance && (*conf)->set("rebalance_cb", rebalance, err) != RdKafka::Conf::CONF_OK) {
    return absl::InternalError("kafka rebalance_cb: " + err);
  }
  if (events && (*conf)->set("event_cb", events, err) != RdKafka::Conf::CONF_OK) {
    return absl::InternalError("kafka event_cb: " + err);
  }
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf->get(), err));
  if (!consumer) return absl::InvalidArgumentError("kafka consumer: " + err);
  return consumer;
}

absl::StatusOr<std::unique_ptr<RdKafka::Producer>> NewProducer(const std::string& bootstrap, const Properties& extra,
                                                              RdKafka::DeliveryReportCb* delivery,
                                                              RdKafka::EventCb* events) {
  Properties props = Merge(
      {
          {"bootstrap.servers", bootstrap},
          {"enable.idempotence", "true"},
          // An escalation leaves within a millisecond of its commit; a commit's output is produced in
          // one burst, which batches without waiting.
          {"linger.ms", "1"},
          {"partitioner", "murmur2_random"},  // same partition for a key as Java clients
          {"message.timeout.ms", "30000"},
          {"reconnect.backoff.max.ms", kReconnectBackoffMaxMs},
      },
      extra);
  auto conf = MakeConf(props);
  if (!conf.ok()) return conf.status();
  std::string err;
  if (delivery && (*conf)->set("dr_cb", delivery, err) != RdKafka::Conf::CONF_OK) {
    return absl::InternalError("kafka dr_cb: " + err);
  }
  if (events && (*conf)->set("event_cb", events, err) != RdKafka::Conf::CONF_OK) {
    return absl::InternalError("kafka event_cb: " + err);
  }
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf->get(), err));
  if (!producer) return absl::InvalidArgumentError("kafka producer: " + err);
  return producer;
}

absl::StatusOr<rd_kafka_t*> NewCClient(rd_kafka_type_t type, Properties defaults, const Properties& extra,
                                       std::string_view client,
                                       const std::function<void(rd_kafka_conf_t*)>& configure) {
  defaults.try_emplace("reconnect.backoff.max.ms", kReconnectBackoffMaxMs);
  const Properties props = Merge(std::move(defaults), extra);
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [name, value] : props) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(std::string(client) + ": kafka property " + name + "=" + value + ": " + err);
    }
  }
  if (configure) configure(conf);
  rd_kafka_t* handle = rd_kafka_new(type, conf, err, sizeof(err));
  if (handle == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(std::string(client) + ": " + err);
  }
  return handle;  // owns conf now
}

absl::StatusOr<int> PartitionCount(rd_kafka_t* client, const std::string& topic, int timeout_ms) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(client, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(client, 0, rkt, &md, timeout_ms);
  int count = 0;
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1) {
    err = md->topics[0].err;
    count = md->topics[0].partition_cnt;
  }
  if (md != nullptr) rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || (err == RD_KAFKA_RESP_ERR_NO_ERROR && count == 0)) {
    return absl::NotFoundError("topic " + topic + " does not exist");
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError("metadata of topic " + topic + ": " + rd_kafka_err2str(err));
  }
  return count;
}

}  // namespace alertd::kafka
