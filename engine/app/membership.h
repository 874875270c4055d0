// The members topic: each instance announces the partitions it owns there and reads everyone's
// announcements, from which it decides which partitions it keeps standby copies of (standby_plan.h).
//
// Record format (the topic's contract; cleanup.policy=compact keeps each instance's latest):
//   key = the instance id (--instance-id, by default host:state directory), value = JSON
//   {"owned":[0,3,5],"http":"host:port"}, the partitions of the readings topic the instance owns and
//   where its HTTP listener answers the query API's ?local=1 requests (--advertise-http; absent in
//   values written before it, or when the instance serves no API); null value = the instance left the
//   group cleanly. The record timestamp (CreateTime, the announcer's clock) says
//   when: an instance not heard from for kMemberTimeoutMs is not live. An instance announces when its
//   assignment changes and every kHeartbeatMs.
#pragma once

#include <cstdint>
#include <memory>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/app/log_limiter.h"
#include "engine/app/standby_plan.h"
#include "engine/kafka/clients.h"
#include "engine/metrics/engine_metrics.h"

typedef struct rd_kafka_s rd_kafka_t;

namespace alertd::app {

inline constexpr int64_t kHeartbeatMs = 2000;
inline constexpr int64_t kMemberTimeoutMs = 10000;

// Thread-compatible: the engine thread polls it.
class Membership {
 public:
  // FailedPrecondition, naming the topic and how to create it, if the topic does not exist.
  static absl::StatusOr<std::unique_ptr<Membership>> Create(const std::string& bootstrap, std::string topic,
                                                            std::string instance, std::string http_address,
                                                            const kafka::Properties& consumer_properties,
                                                            const kafka::Properties& producer_properties,
                                                            metrics::EngineMetrics& metrics, LogLimiter& log_limiter);
  ~Membership();
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  const std::string& instance() const { return instance_; }
  const std::string& topic() const { return topic_; }

  // Reads the announcements that arrived, and announces `owned` if it changed since the last
  // announcement or a heartbeat has passed. Never blocks.
  void Poll(const std::set<int32_t>& owned);
  // The partitions this instance stands by for, `replicas` standbys per partition, now.
  std::set<int32_t> Standbys(int replicas) const;
  // The announced HTTP addresses of the other live instances, now.
  std::vector<std::string> PeerHttpAddresses() const;
  // A clean shutdown: the others stop counting this instance at once. Waits up to `wait_ms` for the
  // broker.
  void Leave(int wait_ms);

 private:
  Membership(rd_kafka_t* consumer, rd_kafka_t* producer, std::string topic, std::string instance,
             std::string http_address, metrics::EngineMetrics& metrics, LogLimiter& log_limiter);
  void Read();
  void Announce(const std::set<int32_t>* owned);  // nullptr: the tombstone

  rd_kafka_t* consumer_;
  rd_kafka_t* producer_;
  const std::string topic_;
  const std::string instance_;
  const std::string http_address_;  // "" = not announced
  metrics::EngineMetrics& metrics_;
  LogLimiter& log_limiter_;
  StandbyPlan plan_{kMemberTimeoutMs};
  std::map<std::string, std::string> http_of_;  // instance -> its latest announced HTTP address
  std::set<int32_t> announced_;
  int64_t announced_ms_ = -1;  // wall clock of the last announcement; -1: none yet
};

}  // namespace alertd::app
