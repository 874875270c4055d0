// Faults from outside: an HTTP control API that breaks a running mock cluster on purpose, for operators and tests.
//
// The API, listed in full by GET / (kUsage in mock_faults.cc), answers one line of text, 400 with the
// reason for a bad request. Its faults: a broker down and up (/brokers/{ID|all}/down, /up), added
// round-trip time (/brokers/{ID|all}/rtt?ms=N), the next N requests of one API failing with a named
// error, on every broker until dropped or on one broker until spent (/requests/{API}/errors), and a
// topic error in metadata answers (/topics/{TOPIC}/error).
// A POST must carry a body, if empty (curl -d ''): cpp-httplib 0.11.4 otherwise waits 5 s for one and
// answers 400. Broker ids are 1..brokers. APIs are named as Kafka names them (Produce, Fetch, OffsetCommit,
// JoinGroup...), errors as librdkafka does without its prefix (NOT_LEADER_FOR_PARTITION,
// REQUEST_TIMED_OUT...; _TRANSPORT makes the broker drop the connection).
//
// Threading (librdkafka 2.0.2, src/rdkafka_mock.c): the error stacks are guarded by the cluster's
// lock, and broker and topic changes are posted to the mock cluster's thread and waited for, so
// the server's threads may call them while the cluster serves clients.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>  // after rdkafka.h, which it requires

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace alertd::cli {

// The mock brokers leave Nagle's algorithm on. A client with several requests in flight (a producer
// writing to many partitions sends one request per partition) then gets the second answer only when
// its delayed ACK of the first fires, ~40 ms later: a changelog write to 32 partitions took 48 ms
// instead of 1-7 ms. Linux gives an accepted socket its listener's TCP_NODELAY, so this sets it on
// every listening TCP socket of the process (the brokers', and the control server's, which is harmless).
// Called after the cluster is made and after a broker comes back up (which opens a new listener).
// Returns how many listeners it set.
int DisableNagleOnListeners();

// The Kafka API key of a request type the mock cluster serves, by its protocol name; nullopt if unknown.
std::optional<int16_t> MockApiKeyByName(std::string_view name);

// An error a broker can answer with (or _TRANSPORT), by its librdkafka name without the
// RD_KAFKA_RESP_ERR_ prefix; nullopt for an unknown name, NO_ERROR or another local error.
std::optional<rd_kafka_resp_err_t> KafkaErrorByName(std::string_view name);

// Serves the control API on its own threads from construction until destruction. The cluster must
// outlive it.
class MockFaultServer {
 public:
  // `address` is HOST:PORT (port 0: any free one). Throws std::runtime_error if it cannot listen.
  MockFaultServer(rd_kafka_mock_cluster_t* cluster, int brokers, std::vector<std::string> topics,
                  const std::string& address);
  ~MockFaultServer();
  MockFaultServer(const MockFaultServer&) = delete;
  MockFaultServer& operator=(const MockFaultServer&) = delete;

  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace alertd::cli
