// The members topic's reader and announcer (see membership.h).
#include "engine/app/membership.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/app/kafka_error.h"

namespace alertd::app {
namespace {

// How far back a starting instance reads: every live instance has announced itself since.
constexpr int64_t kHistoryMs = 5 * kMemberTimeoutMs;
constexpr int kRecordsPerPoll = 1000;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Membership>> Membership::Create(const std::string& bootstrap, std::string topic,
                                                               std::string instance, std::string http_address,
                                                               const kafka::Properties& consumer_properties,
                                                               const kafka::Properties& producer_properties,
                                                               metrics::EngineMetrics& metrics,
                                                               LogLimiter& log_limiter) {
  auto consumer = kafka::NewCClient(RD_KAFKA_CONSUMER,
                                    {
                                        {"bootstrap.servers", bootstrap},
                                        // Assigned by hand: every instance reads every announcement.
                                        {"group.id", "alertd-members-unused"},
                                        {"enable.auto.commit", "false"},
                                        {"enable.auto.offset.store", "false"},
                                        {"auto.offset.reset", "earliest"},
                                        {"fetch.wait.max.ms", "100"},
                                    },
                                    consumer_properties, "members consumer");
  if (!consumer.ok()) return consumer.status();
  rd_kafka_t* c = *consumer;
  rd_kafka_poll_set_consumer(c);
  auto fail = [&](absl::Status st) {
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return st;
  };

  const absl::StatusOr<int> count = kafka::PartitionCount(c, topic, 10000);
  if (absl::IsNotFound(count.status())) {
    return fail(absl::FailedPreconditionError(absl::StrCat(
        "members topic ", topic, " does not exist: standby replicas need it (create it with 1 partition and "
        "cleanup.policy=compact, or name another with --members-topic)")));
  }
  if (!count.ok()) return fail(count.status());
  const int partitions = *count;

  // Each partition from the first announcement of the last kHistoryMs (or its end if there is none).
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = WallMs() - kHistoryMs;
  }
  if (rd_kafka_offsets_for_times(c, list, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int p = 0; p < partitions; ++p) list->elems[p].offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_error_t* error = rd_kafka_incremental_assign(c, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (error != nullptr) {
    std::string what = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    return fail(absl::InternalError(absl::StrCat("members consumer: assign ", topic, ": ", what)));
  }

  auto producer = kafka::NewCClient(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap}, {"linger.ms", "0"}},
                                    producer_properties, "members producer", [](rd_kafka_conf_t* conf) {
                                      rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m,
                                                                           void*) {
                                        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR || m->_private == nullptr) return;
                                        auto* self = static_cast<Membership*>(m->_private);
                                        self->metrics_.CountKafkaError("members", ErrorName(m->err));
                                        LogLimited(self->log_limiter_, spdlog::level::warn, "members delivery",
                                                   "announcing on {}: {}; announced again at the next heartbeat",
                                                   self->topic_, rd_kafka_err2str(m->err));
                                        self->announced_ms_ = -1;
                                      });
                                    });
  if (!producer.ok()) return fail(producer.status());
  return std::unique_ptr<Membership>(
      new Membership(c, *producer, std::move(topic), std::move(instance), std::move(http_address), metrics, log_limiter));
}

Membership::Membership(rd_kafka_t* consumer, rd_kafka_t* producer, std::string topic, std::string instance,
                       std::string http_address, metrics::EngineMetrics& metrics, LogLimiter& log_limiter)
    : consumer_(consumer),
      producer_(producer),
      topic_(std::move(topic)),
      instance_(std::move(instance)),
      http_address_(std::move(http_address)),
      metrics_(metrics),
      log_limiter_(log_limiter) {}

Membership::~Membership() {
  rd_kafka_consumer_close(consumer_);
  rd_kafka_destroy(consumer_);
  rd_kafka_flush(producer_, 1000);
  rd_kafka_destroy(producer_);
}

void Membership::Read() {
  for (int n = 0; n < kRecordsPerPoll; ++n) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_, 0);
    if (m == nullptr) return;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        metrics_.CountKafkaError("members", ErrorName(m->err));
        LogLimited(log_limiter_, spdlog::level::warn, "members consume", "reading {}: {}", topic_,
                   rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
      continue;
    }
    const std::string instance(static_cast<const char*>(m->key), m->key_len);
    const int64_t at = rd_kafka_message_timestamp(m, nullptr);
    std::string bad;
    if (instance.empty()) {
      bad = "no instance id (the record key)";
    } else if (m->payload == nullptr) {
      plan_.Leave(instance);
      http_of_.erase(instance);
    } else {
      const nlohmann::json j =
          nlohmann::json::parse(static_cast<const char*>(m->payload), static_cast<const char*>(m->payload) + m->len,
                                nullptr, /*allow_exceptions=*/false);
      std::set<int32_t> owned;
      if (j.is_object() && j.contains("owned") && j["owned"].is_array()) {
        for (const auto& p : j["owned"]) {
          if (!p.is_number_integer() || p.get<int64_t>() < 0 || p.get<int64_t>() > INT32_MAX) {
            bad = "\"owned\" holds something that is not a partition number";
            break;
          }
          owned.insert(p.get<int32_t>());
        }
      } else {
        bad = "not a JSON object with an \"owned\" array";
      }
      // "http" is optional: values written before the query API have none.
      if (bad.empty() && j.contains("http") && !j["http"].is_string()) bad = "\"http\" is not a host:port string";
      if (bad.empty()) {
        plan_.Note(instance, owned, at);
        if (j.contains("http")) {
          http_of_[instance] = j["http"].get<std::string>();
        } else {
          http_of_.erase(instance);
        }
      }
    }
    if (!bad.empty()) {
      metrics_.CountKafkaError("members", "BAD_RECORD");
      LogLimited(log_limiter_, spdlog::level::warn, "members record", "{}[{}] offset {}: {}; ignored", topic_,
                 m->partition, m->offset, bad);
    }
    rd_kafka_message_destroy(m);
  }
}

void Membership::Announce(const std::set<int32_t>* owned) {
  std::string value;
  if (owned != nullptr) {
    nlohmann::json announcement{{"owned", std::vector<int32_t>(owned->begin(), owned->end())}};
    if (!http_address_.empty()) announcement["http"] = http_address_;
    value = announcement.dump();
  }
  rd_kafka_vu_t vus[5];
  vus[4].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vus[4].u.i = RD_KAFKA_MSG_F_COPY;  // the value lives on this stack frame
  vus[0].vtype = RD_KAFKA_VTYPE_TOPIC;
  vus[0].u.cstr = topic_.c_str();
  vus[1].vtype = RD_KAFKA_VTYPE_KEY;
  vus[1].u.mem = {const_cast<char*>(instance_.data()), instance_.size()};
  vus[2].vtype = RD_KAFKA_VTYPE_VALUE;
  vus[2].u.mem = {owned != nullptr ? value.data() : nullptr, owned != nullptr ? value.size() : 0};
  vus[3].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vus[3].u.ptr = this;
  rd_kafka_error_t* error = rd_kafka_produceva(producer_, vus, 5);
  if (error != nullptr) {
    metrics_.CountKafkaError("members", ErrorName(rd_kafka_error_code(error)));
    LogLimited(log_limiter_, spdlog::level::warn, "members produce", "announcing on {}: {}; trying again", topic_,
               rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    return;
  }
  if (owned != nullptr) {
    if (*owned != announced_) {
      spdlog::info("announced on {} as {}: owns partitions [{}]", topic_, instance_, absl::StrJoin(*owned, ","));
    }
    announced_ = *owned;
  }
  announced_ms_ = WallMs();
}

void Membership::Poll(const std::set<int32_t>& owned) {
  rd_kafka_poll(producer_, 0);
  Read();
  const int64_t now = WallMs();
  if (announced_ms_ < 0 || owned != announced_ || now - announced_ms_ >= kHeartbeatMs) Announce(&owned);
  metrics_.SetGroupMembers(plan_.Live(now).size());
}

std::set<int32_t> Membership::Standbys(int replicas) const { return plan_.StandbysOf(instance_, replicas, WallMs()); }

std::vector<std::string> Membership::PeerHttpAddresses() const {
  std::vector<std::string> peers;
  for (const std::string& instance : plan_.Live(WallMs())) {
    if (instance == instance_) continue;
    if (auto it = http_of_.find(instance); it != http_of_.end() && !it->second.empty()) peers.push_back(it->second);
  }
  return peers;
}

void Membership::Leave(int wait_ms) {
  Announce(nullptr);
  rd_kafka_flush(producer_, wait_ms);
}

}  // namespace alertd::app
