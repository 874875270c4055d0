// alertd-notify: delivers alertd's escalations to people through Alertmanager and the chat robots.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "engine/app/http_server.h"
#include "engine/notify/notify_config.h"
#include "engine/notify/templates.h"
#include "engine/notifyd/notifier.h"
#include "engine/notifyd/notify_metrics.h"
#include "engine/notifyd/referral_loop.h"
#include "engine/tool/atomic_file.h"
#include "engine/tool/kafka_client.h"
#include "engine/tool/secret_file.h"
#include "engine/tool/stop_signal.h"
#include "engine/tool/tool_main.h"

namespace {

using namespace alertd;

// Exit codes, as alertd's: 2 a bad flag, config or template; 5 a fatal Kafka error; 1 anything else.
int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 0;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
      return 2;
    case absl::StatusCode::kAborted:
      return 5;
    default:
      return 1;
  }
}

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The secret in the file `flag` gives (its first line), "" when the flag is not given; nullopt after
// saying why not (unreadable, or an empty first line where `expected` should be).
std::optional<std::string> SecretFromFlag(const std::string& flag, const std::string& path,
                                          const std::string& expected) {
  absl::StatusOr<std::string> secret = tool::ReadSecretFile(flag, path);
  if (!secret.ok()) {
    spdlog::critical("{}", std::string(secret.status().message()));
    return std::nullopt;
  }
  if (!path.empty() && secret->empty()) {
    spdlog::critical("{} {}: the first line is empty; expected {}", flag, path, expected);
    return std::nullopt;
  }
  return *std::move(secret);
}

struct Flags {
  tool::KafkaClientOptions kafka;
  std::string config_path;
  std::string templates_dir;
  std::string http = "127.0.0.1:0";
  std::string http_port_file;
  std::string link_secret_file;
  int link_ttl_hours = 72;
  int64_t retry_base_ms = 1000;
  int64_t retry_max_ms = 5 * 60 * 1000;
  uint32_t max_attempts = 10;
  std::string fhir_token_file;
  bool verbose = false;
};

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  notifyd::NotifierOptions options;
  CLI::App app{"alertd-notify: delivers escalations to health staff through Alertmanager and chat robots"};
  tool::AddKafkaClientOptions(app, &flags.kafka);
  app.add_option("--config", flags.config_path, "Notification config (deploy/notify/notify.yaml)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--templates", flags.templates_dir, "Message templates directory (deploy/notify/templates)")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--group", options.group, "Consumer group; instances of one group share the partitions")
      ->capture_default_str();
  app.add_option("--escalations-topic", options.escalations_topic)->capture_default_str();
  app.add_option("--deliveries-topic", options.deliveries_topic,
                 "Delivery outcomes, co-partitioned with the escalations (the changelog)")
      ->capture_default_str();
  app.add_option("--dead-letters-topic", options.dead_letters_topic)->capture_default_str();
  app.add_option("--http", flags.http, "host:port of /metrics /healthz /readyz (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--http-port-file", flags.http_port_file, "Write the HTTP port here once listening");
  app.add_option("--page-base-url", options.links.page_base_url,
                 "alertd's page address, e.g. https://alertd.example/ (links <url>/worker/<id>)");
  app.add_option("--link-secret-file", flags.link_secret_file,
                 "HMAC key of the signed acknowledge links, shared with alertd")
      ->check(CLI::ExistingFile);
  app.add_option("--link-ttl-hours", flags.link_ttl_hours,
                 "How long a message's acknowledge, resolve, snooze and page links work after sending")
      ->capture_default_str()
      ->check(CLI::Range(1, 24 * 30));
  app.add_option("--max-in-flight", options.scheduler.max_in_flight_per_channel, "Sends at once per channel")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--max-queued", options.scheduler.max_queued_per_channel,
                 "Deliveries queued per channel before consuming pauses")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--retry-base-ms", flags.retry_base_ms, "First retry waits up to this")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{3600000}));
  app.add_option("--retry-max-ms", flags.retry_max_ms, "No retry waits longer")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{86400000}));
  app.add_option("--max-attempts", flags.max_attempts, "Sends per delivery, the first included")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--connect-timeout-ms", options.timeouts.connect_ms)
      ->capture_default_str()
      ->check(CLI::Range(1L, 600000L));
  app.add_option("--send-timeout-ms", options.timeouts.total_ms, "Whole send, answer included")
      ->capture_default_str()
      ->check(CLI::Range(1L, 600000L));
  app.add_option("--alertmanager-repost-ms", options.alertmanager_repost_ms,
                 "Post open episodes' Alertmanager alerts again this often, within its resolve_timeout; 0: never")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{86400000}));
  notifyd::ReferralLoopOptions fhir;
  app.add_option("--fhir-base-url", fhir.fhir.base_url,
                 "The clinic's FHIR R4 base, e.g. https://clinic.example/fhir: each referral is POSTed there as a "
                 "transaction Bundle")
      ->check([](const std::string& url) -> std::string {
        if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) return "expected an http:// or https:// URL";
        if (url.back() == '/') return "expected no trailing '/'";
        return "";
      });
  app.add_option("--fhir-token-file", flags.fhir_token_file,
                 "Bearer token of the clinic's FHIR endpoint (its first line); never logged")
      ->check(CLI::ExistingFile);
  app.add_option("--referrals-topic", fhir.referrals_topic)->capture_default_str();
  app.add_option("--referral-deliveries-topic", fhir.referral_deliveries_topic,
                 "Referral delivery outcomes, co-partitioned with the referrals (the FHIR loop's changelog)")
      ->capture_default_str();
  app.add_option("--referrals-fhir-topic", fhir.referrals_fhir_topic,
                 "Also produce each referral's Bundle JSON here (key: referral id), once per referral");
  app.add_flag("-v,--verbose", flags.verbose, "Debug log");

  return tool::ToolMain(app, argc, argv, "alertd-notify", &flags.verbose, [&]() -> int {
    tool::InstallStopHandlers(tool::SecondStopSignal::kRecords);
    options.bootstrap = flags.kafka.bootstrap;
    options.consumer_properties = tool::ClientProperties(flags.kafka, "alertd-notify");
    options.producer_properties = tool::ClientProperties(flags.kafka, "alertd-notify");
    options.scheduler.retry = {flags.retry_base_ms, flags.retry_max_ms, flags.max_attempts};

    absl::StatusOr<notify::NotifyConfig> config = notify::LoadNotifyConfig(flags.config_path);
    if (!config.ok()) {
      spdlog::critical("--config {}", std::string(config.status().message()));
      return 2;
    }
    absl::StatusOr<notify::MessageTemplates> templates = notify::MessageTemplates::Load(flags.templates_dir);
    if (!templates.ok()) {
      spdlog::critical("--templates {}", std::string(templates.status().message()));
      return 2;
    }
    std::optional<std::string> link_secret =
        SecretFromFlag("--link-secret-file", flags.link_secret_file, "the HMAC key of the signed links");
    if (!link_secret) return 2;
    if (link_secret->empty() || options.links.page_base_url.empty()) {
      spdlog::warn("messages carry no acknowledge, resolve or snooze links: give --link-secret-file and "
                   "--page-base-url (alertd's address) to sign them");
    }
    options.links.secret = *std::move(link_secret);
    options.links.ttl_ms = int64_t{flags.link_ttl_hours} * 3600 * 1000;

    const bool fhir_loop = !fhir.fhir.base_url.empty() || !fhir.referrals_fhir_topic.empty();
    if (!flags.fhir_token_file.empty() && fhir.fhir.base_url.empty()) {
      spdlog::critical("--fhir-token-file needs --fhir-base-url: the token is for the clinic's FHIR endpoint");
      return 2;
    }
    std::optional<std::string> fhir_token =
        SecretFromFlag("--fhir-token-file", flags.fhir_token_file, "the clinic endpoint's bearer token");
    if (!fhir_token) return 2;
    fhir.bearer_token = *std::move(fhir_token);
    fhir.bootstrap = options.bootstrap;
    fhir.consumer_properties = options.consumer_properties;
    fhir.producer_properties = options.producer_properties;
    fhir.group = options.group + "-fhir";
    fhir.dead_letters_topic = options.dead_letters_topic;
    fhir.scheduler = options.scheduler;
    fhir.timeouts = options.timeouts;

    notifyd::NotifyMetrics metrics;
    std::atomic<bool> ready{false};
    std::atomic<bool> fhir_ready{!fhir_loop};
    std::atomic<int64_t> heartbeat{NowMs()};
    std::atomic<int64_t> fhir_heartbeat{INT64_MAX};
    auto server = app::HttpServer::Start(
        flags.http, {[&] { return metrics.Exposition(); },
                     [&] { return NowMs() - std::min(heartbeat.load(), fhir_heartbeat.load()) < 30000; },
                     [&] { return ready.load() && fhir_ready.load(); }});
    if (!server.ok()) {
      spdlog::critical("{}", std::string(server.status().message()));
      return 2;
    }
    spdlog::info("alertd-notify listening on {} (port {}); group {}, {} -> {}", flags.http, (*server)->port(),
                 options.group, options.escalations_topic, options.deliveries_topic);
    if (!flags.http_port_file.empty()) {
      if (absl::Status written =
              tool::WriteFileAtomically(flags.http_port_file, std::to_string((*server)->port()) + "\n");
          !written.ok()) {
        spdlog::critical("--http-port-file {}: {}", flags.http_port_file, std::string(written.message()));
        return 2;
      }
    }
    // Both loops stop together: on SIGTERM, or when either cannot go on.
    std::atomic<bool> stop{false};
    absl::Status fhir_ran;
    std::thread fhir_thread;
    if (fhir_loop) {
      fhir_heartbeat.store(NowMs());
      spdlog::info("FHIR referrals: group {}, {} -> {}{}{}", fhir.group, fhir.referrals_topic,
                   fhir.fhir.base_url.empty() ? "" : "POST to the clinic's FHIR base, ",
                   fhir.referrals_fhir_topic.empty() ? "" : "Bundles on " + fhir.referrals_fhir_topic + ", ",
                   "outcomes on " + fhir.referral_deliveries_topic);
      fhir_thread = std::thread([&] {
        fhir_ran = notifyd::RunReferralLoop(fhir, metrics, stop, &fhir_ready, &fhir_heartbeat);
        stop.store(true);
      });
    }
    std::thread relay([&] {
      while (!stop.load()) {
        if (tool::StopRequested()) stop.store(true);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
    absl::Status ran = notifyd::RunNotifier(options, *config, *templates, metrics, stop, &ready, &heartbeat);
    stop.store(true);
    if (fhir_thread.joinable()) fhir_thread.join();
    relay.join();
    if (ran.ok()) ran = fhir_ran;
    if (!ran.ok()) {
      spdlog::critical("{}", std::string(ran.message()));
      return ExitCodeFor(ran);
    }
    spdlog::info("stopped by {}", tool::StopSignalName());
    return 0;
  });
}
