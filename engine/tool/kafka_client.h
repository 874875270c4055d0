// What alertd and its tools add to engine/kafka's client construction: flags and properties; for the
// tools also logs, fatal errors and metadata checks.
//
// Not thread-safe except where noted; each tool builds its clients in main().
#pragma once

#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/kafka/clients.h"

namespace alertd::tool {

// The flags every Kafka client tool has.
struct KafkaClientOptions {
  std::string bootstrap;                // host:port[,host:port...]
  std::vector<std::string> properties;  // "name=value", applied after the tool's defaults
};

// Adds `--bootstrap` (required unless $ALERTD_BOOTSTRAP is set) and the repeatable
// `-X, --kafka-property name=value` (kcat's spelling), which reaches librdkafka unchanged: that is
// how one points a tool at a real cluster with TLS/SASL without new flags.
void AddKafkaClientOptions(CLI::App& app, KafkaClientOptions* options);

// Accepts a non-empty comma-separated list of host:port (an optional PROTOCOL:// prefix each), so a
// mistyped or empty --bootstrap fails at start instead of after librdkafka's metadata timeout.
CLI::Validator BootstrapCheck();

// Accepts "name=value" with a non-empty name (the value may itself hold '=', as SASL JAAS strings do):
// the check of every --kafka-property flag.
CLI::Validator KafkaPropertyCheck();

// "name=value" pairs (already checked) as properties, a later pair winning over an earlier one.
kafka::Properties ParseKafkaProperties(const std::vector<std::string>& pairs);

// Routes librdkafka's logs and error events to the tool's log, without repeating the same complaint
// more than every 10 s (a broker that is down reports itself on every reconnect), and remembers a
// fatal error so the main loop can stop.
//
// Thread-safe: error events arrive on the thread that polls the client, but log lines arrive on
// librdkafka's own threads, concurrently.
//
// The daemon adds what it does beside logging through the hooks: it counts each transient error in
// its metrics and stops its loop on a fatal one.
struct KafkaEventHooks {
  std::function<void(RdKafka::ErrorCode)> transient_error = {};  // a non-fatal error event (librdkafka retries)
  std::function<void(const std::string& text)> fatal = {};       // the client cannot go on
  spdlog::level::level_enum min_level = spdlog::level::trace;  // librdkafka log lines below it are dropped
};

class KafkaEventLog : public RdKafka::EventCb {
 public:
  explicit KafkaEventLog(KafkaEventHooks hooks = {}) : hooks_(std::move(hooks)) {}
  void event_cb(RdKafka::Event& event) override;
  bool fatal() const { return fatal_.load(std::memory_order_relaxed); }

  // Logs a warning the same way, e.g. an error that consume() returned.
  void Warn(const std::string& text);

 private:
  bool ShouldReport(const std::string& text);

  const KafkaEventHooks hooks_;
  std::atomic<bool> fatal_{false};
  std::mutex mutex_;  // guards last_reported_
  std::map<std::string, std::chrono::steady_clock::time_point> last_reported_;
};

// Properties for engine/kafka's NewProducer/NewConsumer: client.id, then the tool's own settings,
// then the user's -X properties, each winning over what came before (and over engine/kafka's
// defaults, which these are merged onto).
kafka::Properties ClientProperties(const KafkaClientOptions& options, const std::string& client_id,
                                   const kafka::Properties& tool_settings = {});

// Partition count of each existing topic among `topics`; a missing topic is absent from the map.
// Asks for the whole cluster's metadata because asking for named topics would auto-create them
// (with the broker's default partition count) on brokers that allow it. Throws std::runtime_error
// naming `bootstrap` if no broker answers within `timeout`.
std::map<std::string, int> TopicPartitionCounts(RdKafka::Handle& client, const std::string& bootstrap,
                                                const std::vector<std::string>& topics,
                                                std::chrono::milliseconds timeout);

}  // namespace alertd::tool
