// alertd-kafka: librdkafka's mock Kafka cluster on loopback, with the health-grid topics, until SIGINT/SIGTERM.
//
// Debian ships no Kafka broker. The mock speaks the real Kafka protocol over TCP, so kcat, alertd and
// the other tools use it like any cluster. Its limits (DESIGN.md §7): a partition keeps ~5 MiB, older
// data is dropped like retention; no compaction; transactions are not fenced. With --control it also
// takes faults from outside (mock_faults.h): brokers down, failing requests, slow answers.
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/cli/mock_faults.h"
#include "engine/tool/atomic_file.h"
#include "engine/tool/stop_signal.h"
#include "engine/tool/tool_main.h"

namespace alertd::cli {
namespace {

using tool::BlockStopSignals;
using tool::InstallStopHandlers;
using tool::StopSignalName;
using tool::WaitForStop;

constexpr int kMaxPartitions = 100000;
constexpr int kMetadataTimeoutMs = 10000;

struct MockClusterOptions {
  int brokers = 1;
  int partitions = 8;
  // The changelog (alertd's default for group `alertd`) is co-partitioned with the inputs: partition N's
  // state is restored from changelog partition N. The members topic (standby replicas) has one
  // partition, as has any topic named *-members unless --topic-partitions says otherwise. `deliveries`
  // (alertd-notify's outcomes and changelog) is co-partitioned with `escalations` likewise, and
  // `referral-deliveries` (its FHIR loop's) with `referrals`; `referrals-fhir` holds the FHIR Bundles.
  std::vector<std::string> topics = {"readings",        "worker-profiles",        "escalations",
                                     "dead-letters",    "referrals",              "shifts",
                                     "escalation-acks", "alertd-state-changelog", "alertd-members",
                                     "deliveries",      "referral-deliveries",    "referrals-fhir"};
  std::vector<std::string> topic_partitions;  // "name=N" overrides of `partitions`
  std::string bootstrap_file;
  std::string control;  // HOST:PORT of the fault control API; empty: none
  std::string control_port_file;
  bool verbose = false;
};

struct TopicSpec {
  std::string name;
  int partitions;
};

struct KafkaHandleDeleter {
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaHandleDeleter>;

struct MockClusterDeleter {
  void operator()(rd_kafka_mock_cluster_t* cluster) const { rd_kafka_mock_cluster_destroy(cluster); }
};
using MockCluster = std::unique_ptr<rd_kafka_mock_cluster_t, MockClusterDeleter>;

// Kafka's own rule for topic names (legal characters, at most 249 of them).
std::string CheckTopicName(const std::string& name) {
  if (name.empty() || name.size() > 249) return "topic name must have 1..249 characters: '" + name + "'";
  for (char c : name) {
    const bool legal = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                       c == '_' || c == '-';
    if (!legal) return "topic name may only hold [a-zA-Z0-9._-]: '" + name + "'";
  }
  return {};
}

// Parses "name=N"; returns an error message, or "" with `out` filled.
std::string ParseTopicPartitions(const std::string& text, TopicSpec* out) {
  const auto eq = text.find('=');
  if (eq == std::string::npos) return "expected NAME=PARTITIONS, got '" + text + "'";
  const std::string name = text.substr(0, eq);
  if (std::string error = CheckTopicName(name); !error.empty()) return error;
  const std::string count = text.substr(eq + 1);
  size_t used = 0;
  int partitions = 0;
  try {
    partitions = std::stoi(count, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != count.size() || partitions < 1 || partitions > kMaxPartitions) {
    return "partition count of '" + name + "' must be a whole number in 1.." + std::to_string(kMaxPartitions) +
           ", got '" + count + "'";
  }
  *out = {name, partitions};
  return {};
}

extern "C" void LogFromLibrdkafka(const rd_kafka_t* /*handle*/, int level, const char* facility, const char* text) {
  // syslog levels: 0..3 errors, 4 warning, 5..6 notice/info, 7 debug. Called on librdkafka threads;
  // the spdlog logger is the thread-safe (_mt) kind.
  const auto spd = level <= 3 ? spdlog::level::err
                   : level == 4 ? spdlog::level::warn
                   : level <= 6 ? spdlog::level::info
                                : spdlog::level::debug;
  spdlog::log(spd, "librdkafka {}: {}", facility, text);
}

// The cluster's owner handle never connects anywhere, so librdkafka's warning that it has no
// bootstrap.servers is noise; everything else it says (the mock cluster logs through it) is kept.
extern "C" void LogFromClusterOwner(const rd_kafka_t* handle, int level, const char* facility, const char* text) {
  if (std::strcmp(facility, "CONFWARN") == 0 && std::strstr(text, "bootstrap.servers") != nullptr) return;
  LogFromLibrdkafka(handle, level, facility, text);
}

KafkaHandle MakeProducerHandle(const char* bootstrap) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  auto set = [&](const char* name, const char* value) {
    if (rd_kafka_conf_set(conf, name, value, error, sizeof error) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(std::string("kafka property ") + name + ": " + error);
    }
  };
  set("client.id", "alertd-kafka");
  if (bootstrap != nullptr) set("bootstrap.servers", bootstrap);
  rd_kafka_conf_set_log_cb(conf, bootstrap == nullptr ? LogFromClusterOwner : LogFromLibrdkafka);
  // rd_kafka_new takes ownership of conf only on success.
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (handle == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("rd_kafka_new: ") + error);
  }
  return KafkaHandle(handle);
}

// Asks the cluster, as any client would, whether every topic is served with its partition count:
// the bootstrap file must not appear before the cluster is usable.
void VerifyTopics(const std::string& bootstrap, const std::vector<TopicSpec>& topics) {
  KafkaHandle client = MakeProducerHandle(bootstrap.c_str());
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(client.get(), 1, nullptr, &metadata, kMetadataTimeoutMs);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(std::string("metadata from the mock cluster: ") + rd_kafka_err2str(err));
  }
  std::map<std::string, int> served;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    served[metadata->topics[i].topic] = metadata->topics[i].partition_cnt;
  }
  rd_kafka_metadata_destroy(metadata);
  for (const TopicSpec& topic : topics) {
    const auto it = served.find(topic.name);
    if (it == served.end()) throw std::runtime_error("mock cluster does not serve topic " + topic.name);
    if (it->second != topic.partitions) {
      throw std::runtime_error("mock cluster serves " + topic.name + " with " + std::to_string(it->second) +
                               " partitions, wanted " + std::to_string(topic.partitions));
    }
  }
}

// Readers either see no file or the whole line.
void WriteWholeFile(const std::string& path, const std::string& content) {
  if (const absl::Status written = tool::WriteFileAtomically(path, content); !written.ok()) {
    throw std::runtime_error(std::string(written.message()));
  }
}

// Removes the bootstrap file on exit so nobody dials a dead port, unless another cluster has since
// written its own address there.
void RemoveFileIfStillOurs(const std::string& path, const std::string& content) {
  std::ifstream in(path);
  if (!in) return;
  std::stringstream current;
  current << in.rdbuf();
  if (current.str() == content) std::remove(path.c_str());
}

std::vector<TopicSpec> ResolveTopics(const MockClusterOptions& options) {
  std::map<std::string, int> overrides;
  for (const std::string& text : options.topic_partitions) {
    TopicSpec spec{};
    if (std::string error = ParseTopicPartitions(text, &spec); !error.empty()) {
      throw CLI::ValidationError("--topic-partitions", error);
    }
    if (std::find(options.topics.begin(), options.topics.end(), spec.name) == options.topics.end()) {
      throw CLI::ValidationError("--topic-partitions", "topic '" + spec.name + "' is not in --topics");
    }
    overrides[spec.name] = spec.partitions;
  }
  std::vector<TopicSpec> topics;
  for (const std::string& name : options.topics) {
    const bool seen = std::any_of(topics.begin(), topics.end(), [&](const TopicSpec& t) { return t.name == name; });
    if (seen) continue;
    const auto it = overrides.find(name);
    const bool members = name.size() > 8 && name.compare(name.size() - 8, 8, "-members") == 0;
    topics.push_back({name, it != overrides.end() ? it->second : members ? 1 : options.partitions});
  }
  return topics;
}

int Run(const MockClusterOptions& options, const std::vector<TopicSpec>& topics) {
  // Before librdkafka starts its threads: they inherit the mask, so the signal reaches WaitForStop.
  BlockStopSignals();
  InstallStopHandlers();

  // The mock cluster lives inside a client handle; this one never produces.
  KafkaHandle owner = MakeProducerHandle(nullptr);
  MockCluster cluster(rd_kafka_mock_cluster_new(owner.get(), options.brokers));
  if (!cluster) throw std::runtime_error("rd_kafka_mock_cluster_new failed (see the librdkafka log above)");
  const std::string bootstrap = rd_kafka_mock_cluster_bootstraps(cluster.get());
  const int nodelay = DisableNagleOnListeners();
  if (nodelay < options.brokers) {
    spdlog::warn("TCP_NODELAY set on {} of {} broker listeners: answers to pipelined requests may wait ~40 ms",
                 nodelay, options.brokers);
  }

  // Each creation is a synchronous request to the mock cluster's thread; librdkafka 2.0.2 sometimes
  // serves one only at that thread's 1 s poll timeout, so start-up can take a few seconds.
  for (const TopicSpec& topic : topics) {
    const rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(cluster.get(), topic.name.c_str(), topic.partitions, /*replication_factor=*/1);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("cannot create topic " + topic.name + ": " + rd_kafka_err2str(err));
    }
  }
  spdlog::debug("topics created; asking the cluster for its metadata");
  VerifyTopics(bootstrap, topics);
  spdlog::debug("metadata confirms the topics");

  // Declared after the cluster, so it stops before the cluster it breaks is destroyed. Its port file
  // is written before the bootstrap file: whoever waits for the cluster finds its controls ready.
  std::unique_ptr<MockFaultServer> control;
  std::string control_port_content;
  if (!options.control.empty()) {
    std::vector<std::string> names;
    for (const TopicSpec& topic : topics) names.push_back(topic.name);
    control = std::make_unique<MockFaultServer>(cluster.get(), options.brokers, std::move(names), options.control);
    control_port_content = std::to_string(control->port()) + "\n";
    if (!options.control_port_file.empty()) WriteWholeFile(options.control_port_file, control_port_content);
  }

  const std::string file_content = bootstrap + "\n";
  if (!options.bootstrap_file.empty()) WriteWholeFile(options.bootstrap_file, file_content);

  std::string topic_list;
  for (const TopicSpec& topic : topics) {
    if (!topic_list.empty()) topic_list += ',';
    topic_list += topic.name;
    if (topic.partitions != options.partitions) topic_list += "=" + std::to_string(topic.partitions);
  }
  fmt::print("alertd-kafka: bootstrap {} partitions {} topics {}\n", bootstrap, options.partitions, topic_list);
  std::fflush(stdout);
  spdlog::info("{} broker(s) up; each partition keeps at most ~5 MiB, older messages are dropped", options.brokers);

  WaitForStop();
  spdlog::info("stopping on {}", StopSignalName());
  if (!options.bootstrap_file.empty()) RemoveFileIfStillOurs(options.bootstrap_file, file_content);
  if (!options.control_port_file.empty()) RemoveFileIfStillOurs(options.control_port_file, control_port_content);
  return 0;
}

}  // namespace
}  // namespace alertd::cli

int main(int argc, char** argv) {
  using namespace alertd::cli;
  MockClusterOptions options;
  CLI::App app{"alertd-kafka: embedded Kafka (librdkafka mock cluster) on 127.0.0.1 with the health-grid topics"};
  app.add_option("--brokers", options.brokers, "Number of brokers")->capture_default_str()->check(CLI::Range(1, 32));
  app.add_option("--partitions", options.partitions, "Partitions of each topic")
      ->capture_default_str()
      ->check(CLI::Range(1, kMaxPartitions));
  app.add_option("--topics", options.topics, "Topics to create, comma-separated")
      ->delimiter(',')
      ->capture_default_str()
      ->type_name("TOPIC")
      ->check(CLI::Validator([](std::string& name) { return CheckTopicName(name); }, ""));
  app.add_option("--topic-partitions", options.topic_partitions,
                 "Partition count of one topic, overriding --partitions (repeatable)")
      ->type_name("NAME=N")
      ->check(CLI::Validator(
          [](std::string& text) {
            TopicSpec ignored{};
            return ParseTopicPartitions(text, &ignored);
          },
          ""));
  app.add_option("--bootstrap-file", options.bootstrap_file,
                 "Write the bootstrap address here (atomically) once the topics exist; removed on exit");
  app.add_option("--control", options.control,
                 "Serve the fault control API here (HOST:PORT, port 0 = any): brokers down/up, request errors, "
                 "added round-trip time, topic errors; GET / lists it. A POST needs a body, even empty: curl -d '' "
                 "'http://HOST:PORT/requests/Produce/errors?error=NOT_LEADER_FOR_PARTITION&count=5'")
      ->type_name("HOST:PORT");
  app.add_option("--control-port-file", options.control_port_file,
                 "Write the control API's port here (atomically) before the bootstrap file; removed on exit")
      ->needs("--control");
  app.add_flag("-v,--verbose", options.verbose, "Show debug logs");

  std::vector<TopicSpec> topics;
  app.callback([&] { topics = ResolveTopics(options); });
  return alertd::tool::ToolMain(app, argc, argv, "alertd-kafka", &options.verbose,
                                [&] { return Run(options, topics); });
}
