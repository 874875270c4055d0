// Client of alertd-kafka's fault control API (engine/cli/mock_faults.h), and a cluster started with it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace alertd::testing {

// The embedded cluster with its fault control API on a port picked by the OS.
class FaultyKafka {
 public:
  FaultyKafka(const std::string& dir, int brokers, int partitions = 4);
  const std::string& bootstrap() const { return kafka_->bootstrap(); }
  int partitions() const { return partitions_; }
  int control_port() const { return control_port_; }

  // Each applies one fault and fails the test if the cluster refuses it.
  void BrokerDown(int broker);  // 0 = every broker
  void BrokerUp(int broker);
  void SetRtt(int broker, int ms);
  void FailRequests(const std::string& api, const std::string& error, int count);
  void ClearRequestErrors(const std::string& api);
  // On one broker only: these run out and cannot be cleared, but what is left can be counted.
  void FailRequestsOnBroker(int broker, const std::string& api, const std::string& error, int count);
  int RequestErrorsLeft(int broker, const std::string& api) const;  // -1 if the cluster does not say

  struct Answer {
    int status = -1;  // -1: no answer
    std::string body;
  };
  // A raw request to the control API: `method` is GET, POST or DELETE.
  Answer Call(const std::string& method, const std::string& path_and_query) const;

 private:
  void Apply(const std::string& method, const std::string& path_and_query);

  std::unique_ptr<EmbeddedKafka> kafka_;
  int control_port_ = 0;
  int partitions_ = 0;
};

// Where `topic`'s partitions live now, from the cluster's metadata and watermarks: the mock places
// leaders at random when it creates a topic.
struct PartitionPlace {
  int leader = -1;      // broker id
  int64_t records = 0;  // high watermark
};
std::vector<PartitionPlace> PartitionPlaces(const std::string& bootstrap, const std::string& topic, int partitions);

// Every record value of `topic` up to its end as of the call, read partition by partition from the
// beginning: no consumer group to join, so no rebalance delay. Fails the test if the end is not reached.
std::vector<std::string> ReadTopicToEnd(const std::string& bootstrap, const std::string& topic, int partitions,
                                        std::chrono::milliseconds timeout);

}  // namespace alertd::testing
