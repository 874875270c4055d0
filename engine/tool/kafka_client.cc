// librdkafka settings shared by alertd and its tools: flags, defaults, logs, fatal errors, metadata.
#include "engine/tool/kafka_client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace alertd::tool {
namespace {

constexpr auto kRepeatInterval = std::chrono::seconds(10);
constexpr size_t kMaxRememberedComplaints = 256;

// Splits "name=value" at the first '='; the value may itself contain '=' (e.g. SASL JAAS strings).
std::pair<std::string, std::string> SplitProperty(const std::string& text) {
  const auto eq = text.find('=');
  return {text.substr(0, eq), eq == std::string::npos ? std::string() : text.substr(eq + 1)};
}

spdlog::level::level_enum LogLevelOf(RdKafka::Event::Severity severity) {
  switch (severity) {
    case RdKafka::Event::EVENT_SEVERITY_EMERG:
    case RdKafka::Event::EVENT_SEVERITY_ALERT:
    case RdKafka::Event::EVENT_SEVERITY_CRITICAL:
    case RdKafka::Event::EVENT_SEVERITY_ERROR: return spdlog::level::err;
    case RdKafka::Event::EVENT_SEVERITY_WARNING: return spdlog::level::warn;
    case RdKafka::Event::EVENT_SEVERITY_NOTICE:
    case RdKafka::Event::EVENT_SEVERITY_INFO: return spdlog::level::info;
    case RdKafka::Event::EVENT_SEVERITY_DEBUG: return spdlog::level::debug;
  }
  return spdlog::level::info;
}

}  // namespace

void AddKafkaClientOptions(CLI::App& app, KafkaClientOptions* options) {
  app.add_option("--bootstrap", options->bootstrap, "Kafka bootstrap servers, host:port[,host:port...]")
      ->envname("ALERTD_BOOTSTRAP")
      ->required()
      ->check(BootstrapCheck());
  app.add_option("-X,--kafka-property", options->properties,
                 "librdkafka property name=value, applied last (repeatable), e.g. -X security.protocol=ssl")
      ->type_name("NAME=VALUE")
      ->check(KafkaPropertyCheck());
}

CLI::Validator BootstrapCheck() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (text.empty()) return "expected host:port[,host:port...], got an empty list";
        for (absl::string_view broker : absl::StrSplit(text, ',')) {
          // librdkafka also takes a protocol prefix, e.g. SSL://host:9093.
          if (const auto scheme = broker.find("://"); scheme != absl::string_view::npos) broker.remove_prefix(scheme + 3);
          const auto colon = broker.rfind(':');
          int port = 0;
          if (colon == absl::string_view::npos || colon == 0 ||
              !absl::SimpleAtoi(broker.substr(colon + 1), &port) || port < 1 || port > 65535) {
            return "expected host:port[,host:port...] with ports 1-65535, got '" + std::string(broker) + "' in '" +
                   text + "'";
          }
        }
        return {};
      },
      "");
}

CLI::Validator KafkaPropertyCheck() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const auto eq = text.find('=');
        if (eq == std::string::npos || eq == 0) return "expected NAME=VALUE, got '" + text + "'";
        return {};
      },
      "");
}

kafka::Properties ParseKafkaProperties(const std::vector<std::string>& pairs) {
  kafka::Properties properties;
  for (const std::string& text : pairs) {
    auto [name, value] = SplitProperty(text);
    properties[name] = std::move(value);
  }
  return properties;
}

void KafkaEventLog::event_cb(RdKafka::Event& event) {
  switch (event.type()) {
    case RdKafka::Event::EVENT_ERROR: {
      const std::string text = fmt::format("{}: {}", RdKafka::err2str(event.err()), event.str());
      if (event.fatal()) {
        fatal_.store(true, std::memory_order_relaxed);
        spdlog::critical("kafka fatal error: {}", text);
        if (hooks_.fatal) hooks_.fatal(text);
        return;
      }
      if (hooks_.transient_error) hooks_.transient_error(event.err());
      Warn(text);
      return;
    }
    case RdKafka::Event::EVENT_LOG: {
      // A broker failure is logged as FAIL and also raised as an error event; report it once.
      if (event.fac() == "FAIL") return;
      const auto level = LogLevelOf(event.severity());
      if (level < hooks_.min_level) return;
      const std::string text = fmt::format("{}: {}", event.fac(), event.str());
      if (spdlog::should_log(level) && ShouldReport(text)) spdlog::log(level, "librdkafka {}", text);
      return;
    }
    case RdKafka::Event::EVENT_THROTTLE:
      spdlog::debug("kafka: broker {} throttled us for {} ms", event.broker_name(), event.throttle_time());
      return;
    case RdKafka::Event::EVENT_STATS:
      return;  // statistics.interval.ms is not enabled by the tools
  }
}

void KafkaEventLog::Warn(const std::string& text) {
  if (ShouldReport(text)) spdlog::warn("kafka: {}", text);
}

bool KafkaEventLog::ShouldReport(const std::string& text) {
  const auto now = std::chrono::steady_clock::now();
  const std::lock_guard<std::mutex> lock(mutex_);
  // Bounded: a long-running tail facing a flapping cluster must not grow this without end.
  if (last_reported_.size() >= kMaxRememberedComplaints) last_reported_.clear();
  // "... refused (after 0ms in state CONNECT, 3 identical error(s) suppressed)": the tail varies
  // while the complaint is the same.
  auto [it, inserted] = last_reported_.try_emplace(text.substr(0, text.find(" (after ")), now);
  if (inserted) return true;
  if (now - it->second < kRepeatInterval) return false;
  it->second = now;
  return true;
}

kafka::Properties ClientProperties(const KafkaClientOptions& options, const std::string& client_id,
                                   const kafka::Properties& tool_settings) {
  kafka::Properties properties = tool_settings;
  properties.emplace("client.id", client_id);
  for (auto& [name, value] : ParseKafkaProperties(options.properties)) properties[name] = std::move(value);
  return properties;
}

std::map<std::string, int> TopicPartitionCounts(RdKafka::Handle& client, const std::string& bootstrap,
                                                const std::vector<std::string>& topics,
                                                std::chrono::milliseconds timeout) {
  RdKafka::Metadata* raw = nullptr;
  const RdKafka::ErrorCode err = client.metadata(/*all_topics=*/true, /*only_rkt=*/nullptr, &raw,
                                                 static_cast<int>(timeout.count()));
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  if (err != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error(fmt::format("no Kafka broker at {} answered within {} ms: {}", bootstrap,
                                         timeout.count(), RdKafka::err2str(err)));
  }
  std::map<std::string, int> counts;
  for (const RdKafka::TopicMetadata* topic : *metadata->topics()) {
    if (std::find(topics.begin(), topics.end(), topic->topic()) == topics.end()) continue;
    if (topic->err() != RdKafka::ERR_NO_ERROR) continue;
    counts[topic->topic()] = static_cast<int>(topic->partitions()->size());
  }
  return counts;
}

}  // namespace alertd::tool
