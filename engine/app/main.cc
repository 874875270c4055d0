// alertd: the daemon's entry point (flags, signals, wiring) and the `dump-state`, `print-policy` and `backtest` commands.
#include <google/protobuf/stubs/logging.h>
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <mutex>
#include <optional>
#include <unistd.h>

#include "engine/app/ack_sender.h"
#include "engine/app/api_routes.h"
#include "engine/app/engine.h"
#include "engine/app/http_server.h"
#include "engine/app/log_limiter.h"
#include "engine/app/memory_budget.h"
#include "engine/app/start_steps.h"
#include "engine/backtest/command.h"
#include "engine/config/policy_file.h"
#include "engine/tool/atomic_file.h"
#include "engine/tool/kafka_client.h"
#include "engine/tool/log.h"
#include "engine/tool/secret_file.h"
#include "engine/tool/stop_signal.h"
#include "engine/web/pages.h"

namespace {

// alertd's exit codes, one set for the daemon and its commands (README, Operations):
enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,   // an unexpected error: see the log
  kExitConfig = 2,     // a bad flag, config file, policy file or Kafka property; a store of another schema
                       // version or in use by another process
  kExitDataLoss = 3,   // the state store is corrupt (a damaged SST, MANIFEST or record)
  kExitDiskFull = 4,   // no space left for the state store: free space, then restart
  kExitKafka = 5,      // a fatal Kafka client error (e.g. the idempotent producer fenced or failed)
};

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
      return kExitConfig;
    case absl::StatusCode::kDataLoss:
      return kExitDataLoss;
    case absl::StatusCode::kResourceExhausted:
      return kExitDiskFull;
    case absl::StatusCode::kAborted:
      return kExitKafka;
    default:
      return kExitInternal;
  }
}

// protobuf reports some parse problems itself (e.g. invalid UTF-8 in a string field), once per bad
// record: a hostile producer could flood stderr at record rate. Its words go to alertd's log instead,
// at most one line per 5 s, each saying how many it stands for; the record itself is dead-lettered.
void LogProtobufComplaint(google::protobuf::LogLevel level, const char* file, int line, const std::string& message) {
  static std::mutex mu;
  static alertd::app::LogLimiter limiter;
  std::lock_guard<std::mutex> lock(mu);
  const auto spd_level = level >= google::protobuf::LOGLEVEL_ERROR ? spdlog::level::warn : spdlog::level::info;
  alertd::app::LogLimited(limiter, spd_level, "protobuf", "protobuf ({}:{}): {}", file, line, message);
}

class SystemClock final : public alertd::domain::Clock {
 public:
  alertd::domain::ProcessingTime Now() const override {
    using namespace std::chrono;
    return {duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()};
  }
};

int DumpState(const std::string& db, int partition) {
  alertd::state::StoreOptions opts;
  opts.path = db;
  opts.read_only = true;
  auto store = alertd::state::OpenRocksStore(opts);
  if (!store.ok()) {
    std::cerr << "alertd dump-state: " << store.status().message() << "\n";
    return ExitCodeFor(store.status());
  }
  auto st = (*store)->ForEachWorker(partition, [](const alertd::state::WorkerKey& k, const alertd::domain::WorkerState& s) {
    nlohmann::json open = nlohmann::json::array();
    for (const auto& e : s.open) {
      open.push_back({{"rule", alertd::domain::Name(e.rule)}, {"episode_id", e.episode_id}, {"sequence", e.last_sequence},
                      {"triggers", e.trigger_count}});
    }
    nlohmann::json line = {{"partition", k.partition},
                           {"worker", k.worker.value},
                           {"readings_accepted", s.readings_accepted},
                           {"bp_readings", s.bp_readings},
                           {"window_samples", s.bp_window.size()},
                           {"has_profile", s.profile.has_value()},
                           {"unit", s.profile ? s.profile->unit_id : ""},
                           {"open", open}};
    std::cout << line.dump() << "\n";
    return true;
  });
  if (!st.ok()) {
    std::cerr << "alertd dump-state: " << st.message() << "\n";
    return ExitCodeFor(st);
  }
  return 0;
}

// Output the broker refused for good, as JSON lines (seq, epoch, topic, key, size, reason, time).
int ListParked(const std::string& db, std::size_t limit) {
  alertd::state::StoreOptions opts;
  opts.path = db;
  opts.read_only = true;
  auto store = alertd::state::OpenRocksStore(opts);
  if (!store.ok()) {
    std::cerr << "alertd parked: " << store.status().message() << "\n";
    return ExitCodeFor(store.status());
  }
  auto parked = (*store)->LoadParked(limit);
  if (!parked.ok()) {
    std::cerr << "alertd parked: " << parked.status().message() << "\n";
    return ExitCodeFor(parked.status());
  }
  for (const alertd::state::ParkedEntry& p : *parked) {
    nlohmann::json line = {{"seq", p.entry.seq},
                           {"epoch", p.entry.epoch},
                           {"topic", p.entry.topic},
                           {"key", nlohmann::json(p.entry.key.substr(0, 128)).dump(-1, ' ', false,
                                                                                    nlohmann::json::error_handler_t::replace)},
                           {"value_bytes", p.entry.value.size()},
                           {"source_partition", p.entry.source_partition},
                           {"reason", p.reason},
                           {"parked_at_ms", p.parked_at_ms}};
    std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  std::cerr << parked->size() << " parked output record" << (parked->size() == 1 ? "" : "s") << "\n";
  return 0;
}

// The global policy: built-in defaults when `path` is empty, else the checked file.
absl::StatusOr<alertd::domain::Policy> EffectivePolicy(const std::string& path) {
  if (path.empty()) return alertd::domain::Policy{};
  return alertd::config::LoadPolicyFile(path);
}

// The stored profile of `worker` in a stopped engine's state; nullopt (after saying why) if none.
// Ids are unique, but state is keyed by (partition, worker): the partition is not known here.
std::optional<alertd::domain::WorkerProfile> StoredProfile(const std::string& state_dir, const std::string& worker) {
  if (!std::filesystem::is_directory(state_dir)) {
    std::cerr << "alertd print-policy: --db " << state_dir << " is not a directory (give the --db alertd runs with)\n";
    return std::nullopt;
  }
  alertd::state::StoreOptions opts;
  opts.path = state_dir;
  opts.read_only = true;
  auto store = alertd::state::OpenRocksStore(opts);
  if (!store.ok()) {
    std::cerr << "alertd print-policy: cannot read alertd's state in " << state_dir << ": " << store.status().message()
              << "\n";
    return std::nullopt;
  }
  bool found = false;
  uint64_t workers = 0;
  std::optional<alertd::domain::WorkerProfile> profile;
  auto st = (*store)->ForEachWorker(-1, [&](const alertd::state::WorkerKey& k, const alertd::domain::WorkerState& s) {
    ++workers;
    if (k.worker.value != worker) return true;
    found = true;
    profile = s.profile;
    return false;
  });
  if (!st.ok()) {
    std::cerr << "alertd print-policy: reading the state in " << state_dir << ": " << st.message() << "\n";
    return std::nullopt;
  }
  if (!found) {
    std::cerr << "alertd print-policy: no worker " << worker << " in the state in " << state_dir << " (" << workers
              << " workers there; ids are case-sensitive)\n";
  } else if (!profile) {
    std::cerr << "alertd print-policy: worker " << worker << " has state in " << state_dir
              << " but no profile (none received yet, or removed by a tombstone), so no individual policy; "
                 "without --worker, print-policy prints the global policy\n";
  }
  return profile;
}

// The global policy; with `worker`, that worker's effective policy (EffectivePolicy) from their stored profile.
int PrintPolicy(const std::string& path, const std::string& worker, const std::string& state_dir) {
  auto policy = EffectivePolicy(path);
  if (!policy.ok()) {
    std::cerr << "alertd print-policy: " << policy.status().message() << "\n";
    return kExitConfig;
  }
  if (worker.empty()) {
    std::cout << alertd::config::FormatPolicy(*policy);
    return 0;
  }
  const std::optional<alertd::domain::WorkerProfile> profile = StoredProfile(state_dir, worker);
  if (!profile) return 1;
  std::cout << alertd::config::FormatWorkerPolicy(*policy, *profile);
  return 0;
}

// What the daemon's command line and --config file say.
struct DaemonFlags {
  alertd::app::EngineOptions engine;
  std::string db = "alertd-state";
  std::string http = "127.0.0.1:9464";
  std::string http_port_file;
  std::string log_level = "info";
  std::string policy_file;
  bool no_sync = false;
  uint64_t disk_reserve_mb = 64;
  uint64_t memory_budget_mb = alertd::app::kDefaultMemoryBudgetMiB;
  alertd::app::MemoryShares memory;  // --memory-budget split, once the flags are parsed
  std::string instance_id;
  std::string changelog_topic;
  bool no_changelog = false;
  std::string members_topic;
  std::vector<std::string> kafka_props;
  std::string clock_mode = "wall";
  std::string api_token_file;
  std::string link_secret_file;
  std::string advertise_http;
};

// The daemon's flags, in the order --help lists them.
void AddDaemonFlags(CLI::App& cli, DaemonFlags& flags) {
  cli.add_option("--bootstrap", flags.engine.bootstrap, "Kafka bootstrap servers, host:port[,host:port] (required)")
      ->check(alertd::tool::BootstrapCheck());
  cli.add_option("--db", flags.db, "RocksDB directory for state, offsets and outbox")->capture_default_str();
  cli.add_option("--group", flags.engine.group_id, "Kafka consumer group")->capture_default_str();
  cli.add_option("--readings-topic", flags.engine.readings_topic)->capture_default_str();
  cli.add_option("--profiles-topic", flags.engine.profiles_topic)->capture_default_str();
  cli.add_option("--escalations-topic", flags.engine.escalations_topic)->capture_default_str();
  cli.add_option("--dead-letters-topic", flags.engine.dead_letters_topic)->capture_default_str();
  cli.add_option("--referrals-topic", flags.engine.referrals_topic, "Clinic referrals (healthgrid.v1.Referral)")->capture_default_str();
  cli.add_option("--shifts-topic", flags.engine.shifts_topic, "Clock-ins (rule R4)")->capture_default_str();
  cli.add_option("--acks-topic", flags.engine.acks_topic, "Acknowledgements of escalations")->capture_default_str();
  cli.add_option("--commit-interval-ms", flags.engine.commit_interval_ms, "Commit at least this often")
      ->check(CLI::Range(1, 60000))
      ->capture_default_str();
  cli.add_flag("--group-commit,!--no-group-commit", flags.engine.group_commit,
               "Start a commit as soon as the previous one is durable when records wait (default on)");
  cli.add_option("--commit-max-records", flags.engine.commit_max_records, "Commit after this many input records")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cli.add_option("--memory-budget", flags.memory_budget_mb,
                 "MiB that RocksDB (block cache and memtables), the decoded worker states and the consumer's prefetch "
                 "share: 30%, 35% and 20%, the rest for the commit window and the engine itself")
      ->check(CLI::Range(alertd::app::kMinMemoryBudgetMiB, uint64_t{1} << 20))
      ->capture_default_str();
  cli.add_option("--http", flags.http, "Listen address of /metrics, /healthz, /readyz (port 0 = any free port)")
      ->capture_default_str();
  cli.add_option("--http-port-file", flags.http_port_file, "Write the HTTP port here once listening");
  cli.add_option("--api-token-file", flags.api_token_file,
                 "File holding the operator's bearer token for the query API (/api/v1) and the grid view's pages; "
                 "absent or empty = both disabled (404)");
  cli.add_option("--link-secret-file", flags.link_secret_file,
                 "File holding the HMAC key of signed links (JWT HS256), the same as alertd-notify's: /act and view "
                 "links work only with it");
  cli.add_option("--advertise-http", flags.advertise_http,
                 "host:port the other instances of the group reach this one's HTTP listener at (announced on the "
                 "members topic); default the --http address with its bound port");
  cli.add_option("--kafka-property", flags.kafka_props, "Extra librdkafka property name=value (repeatable)")
      ->check(alertd::tool::KafkaPropertyCheck());
  cli.add_flag("--no-sync", flags.no_sync, "Do not fsync the RocksDB WAL on commit (survives kill -9, not power loss)");
  cli.add_option("--disk-reserve-mb", flags.disk_reserve_mb,
                 "Free space kept on the state directory's filesystem for RocksDB's flushes and compactions: a "
                 "commit that would eat into it stops alertd cleanly (exit 4) instead of filling the disk")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 20))
      ->capture_default_str();
  cli.add_option("--instance-id", flags.instance_id,
                 "Static group membership (Kafka group.instance.id, KIP-345): a stable name per instance, e.g. the "
                 "host name. A restarted instance then gets its own partitions back without a rebalance, as long as "
                 "it returns within the session timeout; empty = dynamic membership");
  cli.add_option("--changelog-topic", flags.changelog_topic,
                 "State changelog topic: every change to a partition's state is also written here, so that the "
                 "partition's next owner restores it (several instances in one group, failover, a lost disk). "
                 "Needs as many partitions as the inputs and cleanup.policy=compact; default <group>-state-changelog");
  cli.add_option("--changelog-producers", flags.engine.changelog_producers,
                 "Idempotent producers the changelog is written through, partition p by producer p mod N: librdkafka "
                 "sends one request per partition, at most 5 in flight per broker and producer, so a commit touching "
                 "many partitions waits for fewer round trips with more producers")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  cli.add_flag("--no-changelog", flags.no_changelog,
               "Keep state on this machine only: one instance, whose partitions never move (a moved partition "
               "is rebuilt only from what the input topics still hold)");
  cli.add_option("--standby-replicas", flags.engine.standby_replicas,
                 "Warm copies of each partition kept by other instances of the group, which follow its changelog, "
                 "so that a failover to one of them restores only the tail (Kafka Streams' num.standby.replicas). "
                 "Needs the changelog and the members topic")
      ->check(CLI::Range(0, 16))
      ->capture_default_str();
  cli.add_option("--members-topic", flags.members_topic,
                 "Where the instances of the group announce the partitions they own, to place the standby replicas "
                 "(1 partition, cleanup.policy=compact); default <group>-members");
  cli.add_option("--policy", flags.policy_file, "Global clinical policy, YAML (deploy/policy.yaml); empty = built-in defaults");
  cli.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error")->capture_default_str();
  cli.add_option("--clock", flags.clock_mode,
                 "Processing time of the rules. wall: this machine's clock; deadlines are looked up every second. "
                 "stream (replay, backtest): per input partition, the largest Kafka record timestamp seen so far "
                 "(CreateTime, never going backwards); each partition's records are merged across the four input "
                 "topics in timestamp order, and deadlines fire at their own time just before the first record "
                 "past them, so the same input gives the same event ids and emitted_at; with no newer record, "
                 "time stands still. Commits and lag always run on the machine's clock")
      ->check(CLI::IsMember({"wall", "stream"}))
      ->capture_default_str();

}

// The commands that read a stopped engine's state, and their flags.
struct Commands {
  int dump_partition = -1;
  std::string dump_db = "alertd-state";
  std::string print_policy_file;
  std::string print_policy_worker;
  std::string print_policy_state = "alertd-state";
  std::string parked_db = "alertd-state";
  std::size_t parked_limit = 1000;
  CLI::App* dump = nullptr;
  CLI::App* print_policy = nullptr;
  CLI::App* parked = nullptr;
};

void AddCommands(CLI::App& cli, Commands& commands) {
  CLI::App* dump = cli.add_subcommand("dump-state", "Print every worker's state as JSON lines (engine stopped)");
  dump->add_option("--db", commands.dump_db, "RocksDB directory")->capture_default_str();
  dump->add_option("--partition", commands.dump_partition, "Only this input partition (-1 = all)")->capture_default_str();
  CLI::App* print_policy = cli.add_subcommand(
      "print-policy", "Print the effective global policy, or one worker's (--worker), as YAML in the --policy file's schema");
  print_policy->add_option("--policy", commands.print_policy_file, "Policy file to check and print (default: built-in)");
  CLI::Option* print_worker = print_policy->add_option(
      "--worker", commands.print_policy_worker,
      "Print this worker's effective policy: the global one with the overrides of their stored profile");
  CLI::Option* print_state =
      print_policy
          ->add_option("--db", commands.print_policy_state,
                       "RocksDB directory to read --worker's profile from (engine stopped)")
          ->capture_default_str();
  print_state->needs(print_worker);
  CLI::App* parked = cli.add_subcommand(
      "parked", "List output the broker refused for good (parked instead of retried), as JSON lines (engine stopped)");
  parked->add_option("--db", commands.parked_db, "RocksDB directory")->capture_default_str();
  parked->add_option("--limit", commands.parked_limit, "At most this many, oldest first")->capture_default_str();
  commands.dump = dump;
  commands.print_policy = print_policy;
  commands.parked = parked;
}

// The engine options the flags imply; CLI::ParseError for flags that contradict each other.
void ResolveEngineOptions(DaemonFlags& flags) {
  if (flags.engine.bootstrap.empty()) throw CLI::RequiredError("--bootstrap");
  if (flags.no_changelog && !flags.changelog_topic.empty()) {
    throw CLI::ValidationError("--no-changelog", "cannot be combined with --changelog-topic");
  }
  flags.engine.changelog_topic = flags.no_changelog               ? ""
                                 : flags.changelog_topic.empty() ? flags.engine.group_id + "-state-changelog"
                                                                 : flags.changelog_topic;
  if (flags.engine.standby_replicas > 0 && flags.no_changelog) {
    throw CLI::ValidationError("--standby-replicas", "a standby follows the state changelog: drop --no-changelog");
  }
  if (!flags.members_topic.empty() && flags.engine.standby_replicas == 0 && flags.api_token_file.empty()) {
    throw CLI::ValidationError("--members-topic",
                               "is only used with --standby-replicas 1 or more, or the query API (--api-token-file)");
  }
  if (!flags.advertise_http.empty() && flags.advertise_http.rfind(':') == std::string::npos) {
    throw CLI::ValidationError("--advertise-http", "expected host:port, e.g. alertd-1.grid.local:9464");
  }
  flags.engine.members_topic = flags.members_topic.empty() ? flags.engine.group_id + "-members" : flags.members_topic;
  // The name others see on the members topic: the static member name if there is one, else this host
  // and state directory (stable across restarts, so a restarted instance stands by for the same
  // partitions as before and finds its standby copies current up to their checkpoints).
  flags.engine.instance_id = flags.instance_id;
  if (flags.engine.instance_id.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    std::error_code ec;
    const std::filesystem::path abs = std::filesystem::absolute(flags.db, ec);
    flags.engine.instance_id = std::string(host) + ":" + (ec ? flags.db : abs.lexically_normal().string());
  }
  flags.engine.clock_mode =
      flags.clock_mode == "stream" ? alertd::app::ClockMode::kStream : alertd::app::ClockMode::kWall;
}

// The grid view's verdict for a page from the query API's check.
alertd::web::PageAccess PageAccessOf(alertd::app::PageVerdict verdict) {
  switch (verdict) {
    case alertd::app::PageVerdict::kAllowed: return alertd::web::PageAccess::kAllowed;
    case alertd::app::PageVerdict::kExpired: return alertd::web::PageAccess::kExpired;
    case alertd::app::PageVerdict::kForbidden: return alertd::web::PageAccess::kForbidden;
    case alertd::app::PageVerdict::kDisabled: break;
  }
  return alertd::web::PageAccess::kDisabled;
}

// The query API's view of the running engine.
alertd::app::ApiBackend ApiBackendOf(alertd::app::Engine& engine, alertd::app::AckSender& acks,
                                     const alertd::domain::Policy& policy, const alertd::domain::Clock& clock) {
  return {.read_store = [&engine](const auto& read) { return engine.ReadState(read); },
          .served_partitions = [&engine] { return engine.ServedPartitions(); },
          .partition_count = [&engine] { return engine.PartitionCount(); },
          .send_ack = [&acks](const healthgrid::v1::EscalationAck& ack) { return acks.Send(ack); },
          .now_ms = [&clock] { return clock.Now().ms; },
          .peers = [&engine] { return engine.PeerHttpAddresses(); },
          .policy = policy};
}

// Runs the daemon until a stop signal or a fatal error; its exit code.
int RunDaemon(const DaemonFlags& flags) {
  // Checked before Kafka or RocksDB are touched: a bad policy must not half-start the engine.
  auto policy = EffectivePolicy(flags.policy_file);
  if (!policy.ok()) {
    spdlog::critical("{}", std::string(policy.status().message()));
    return kExitConfig;
  }
  spdlog::info("policy: {}", flags.policy_file.empty() ? "built-in defaults" : flags.policy_file);

  alertd::state::StoreOptions store_opts;
  store_opts.path = flags.db;
  store_opts.sync_commits = !flags.no_sync;
  store_opts.disk_reserve_bytes = flags.disk_reserve_mb << 20;
  store_opts.block_cache_bytes = flags.memory.rocks_cache;
  store_opts.memtable_bytes = flags.memory.memtables;
  alertd::app::LogStartStep("opening the state store " + flags.db);
  auto store = alertd::state::OpenRocksStore(store_opts);
  if (!store.ok()) {
    spdlog::critical("{}", store.status().ToString());
    return ExitCodeFor(store.status());
  }
  alertd::app::LogStartStep("state store open (RocksDB opened, its WAL replayed)");
  alertd::metrics::EngineMetrics metrics;
  if (const alertd::state::RecoveryReport recovery = (*store)->Recovery(); !recovery.detail.empty()) {
    // State and offsets rolled back together to the last intact commit; Kafka redelivers the rest.
    spdlog::log(recovery.mid_log_damage ? spdlog::level::err : spdlog::level::warn,
                "state store {}: WAL recovery dropped {} commit(s), {} bytes; their input is consumed again from "
                "Kafka: {}",
                flags.db, recovery.wal_commits_dropped, recovery.wal_bytes_skipped, recovery.detail);
    metrics.SetWalRecovery(recovery.wal_commits_dropped, recovery.wal_bytes_skipped);
  }
  auto api_token = alertd::tool::ReadSecretFile("--api-token-file", flags.api_token_file);
  auto link_secret = alertd::tool::ReadSecretFile("--link-secret-file", flags.link_secret_file);
  for (const auto* secret : {&api_token, &link_secret}) {
    if (!secret->ok()) {
      spdlog::critical("{}", std::string(secret->status().message()));
      return kExitConfig;
    }
  }
  auto acks = alertd::app::AckSender::Create(flags.engine.bootstrap, flags.engine.acks_topic,
                                             flags.engine.producer_properties);
  if (!acks.ok()) {
    spdlog::critical("{}", acks.status().ToString());
    return kExitConfig;
  }
  SystemClock clock;
  const alertd::domain::Policy api_policy = *policy;
  alertd::domain::Rulebook rules{*std::move(policy)};
  alertd::app::Engine engine(flags.engine, **store, rules, metrics, clock);

  const alertd::app::ApiConfig api_config{
      .api_token = *api_token, .link_secret = *link_secret, .instance_id = flags.engine.instance_id, .peer_timeout_ms = 2000};
  auto server = alertd::app::HttpServer::Start(
      flags.http, {.metrics = [&] { return metrics.Exposition(); },
                   .healthy = [&] { return clock.Now().ms - engine.LastLoopMs() < 10000; },
                   .ready = [&] { return engine.Ready(); },
                   .register_api =
                       [&](httplib::Server& http) {
                         alertd::app::RegisterApiRoutes(http, api_config,
                                                        ApiBackendOf(engine, **acks, api_policy, clock));
                       },
                   // The grid view's pages, each checked like the API (none without an operator token).
                   .register_pages =
                       [&](httplib::Server& http) {
                         alertd::web::RegisterPages(
                             http, {.authorize = [authorize = alertd::app::MakePageAuthorizer(
                                                      api_config, ApiBackendOf(engine, **acks, api_policy, clock))](
                                                     const httplib::Request& request, std::string_view scope) {
                               return PageAccessOf(authorize(request, scope));
                             }});
                       }});
  if (!server.ok()) {
    spdlog::critical("{}", server.status().ToString());
    return kExitConfig;  // the --http address cannot be bound
  }
  const std::string host = flags.http.substr(0, flags.http.rfind(':'));
  spdlog::info("metrics at http://{}:{}/metrics", host, (*server)->port());
  if (!api_token->empty()) {
    // The others reach this instance's ?local=1 answers here: the bound port, and this host's name
    // when the listener is on every interface.
    std::string advertised = flags.advertise_http;
    if (advertised.empty()) {
      std::string advertised_host = host;
      if (advertised_host.empty() || advertised_host == "0.0.0.0" || advertised_host == "::") {
        char name[256] = {};
        gethostname(name, sizeof name - 1);
        advertised_host = name;
      }
      advertised = advertised_host + ":" + std::to_string((*server)->port());
    }
    engine.SetAdvertisedHttp(advertised);
  }
  if (!flags.http_port_file.empty()) {
    if (const absl::Status written =
            alertd::tool::WriteFileAtomically(flags.http_port_file, std::to_string((*server)->port()) + "\n");
        !written.ok()) {
      spdlog::critical("cannot write --http-port-file {}: {}", flags.http_port_file, std::string(written.message()));
      return kExitConfig;
    }
  }

  if (auto st = engine.Start(); !st.ok()) {
    spdlog::critical("start: {} (exit {})", st.ToString(), ExitCodeFor(st));
    return ExitCodeFor(st);
  }
  alertd::app::LogStartStep("Kafka clients created; joining the consumer group " + flags.engine.group_id);
  if (auto st = engine.Run(alertd::tool::StopFlag()); !st.ok()) {
    spdlog::critical("{} (exit {})", st.ToString(), ExitCodeFor(st));
    return ExitCodeFor(st);
  }
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace

#ifdef ALERTD_JEMALLOC
// jemalloc's options; MALLOC_CONF in the environment overrides them. Its default of four arenas per
// core only spreads the slack: the engine and the committer allocate through their thread caches, and
// two arenas hold ~15 MiB less of a 20,000-worker drain at the same CPU (bench/JOURNAL.md, "The
// allocator").
extern "C" const char* malloc_conf;
const char* malloc_conf = "narenas:2";
#endif

int main(int argc, char** argv) {
#ifndef ALERTD_JEMALLOC
  // glibc gives each thread that allocates its own arena (up to 8 per core), each holding freed memory
  // of its own; librdkafka's, RocksDB's and the committer's threads then keep several copies of the
  // slack. Two arenas keep RSS close to what the budget counts.
  mallopt(M_ARENA_MAX, 2);
#endif
  CLI::App cli{"alertd: real-time health alert engine (readings -> rules -> escalations)"};
  cli.set_config("--config", "", "TOML config file whose keys are these flags' long names");
  cli.allow_config_extras(false);

  DaemonFlags flags;
  AddDaemonFlags(cli, flags);
  Commands commands;
  AddCommands(cli, commands);
  const auto backtest = alertd::backtest::AddBacktestCommand(cli);
  try {
    cli.parse(argc, argv);
    auto props = alertd::tool::ParseKafkaProperties(flags.kafka_props);
    flags.memory = alertd::app::SplitMemoryBudget(flags.memory_budget_mb << 20);
    flags.engine.state_cache_bytes = flags.memory.state_cache;
    // The budget's prefetch bounds, unless a --kafka-property sets its own: the input consumer's and,
    // beside it, the changelog's.
    flags.engine.consumer_properties = alertd::app::BudgetedConsumerProperties(flags.memory.prefetch, props);
    flags.engine.restore_consumer_properties = alertd::app::BudgetedConsumerProperties(flags.memory.restore, props);
    if (!flags.instance_id.empty()) flags.engine.consumer_properties["group.instance.id"] = flags.instance_id;
    flags.engine.producer_properties = props;
    if (*commands.dump) return DumpState(commands.dump_db, commands.dump_partition);
    if (*commands.parked) return ListParked(commands.parked_db, commands.parked_limit);
    if (backtest->given()) return backtest->Run(flags.policy_file);
    // `alertd --policy F print-policy` (or a --config file naming one) prints what the daemon would use.
    if (*commands.print_policy) {
      return PrintPolicy(commands.print_policy_file.empty() ? flags.policy_file : commands.print_policy_file,
                         commands.print_policy_worker, commands.print_policy_state);
    }
    ResolveEngineOptions(flags);
  } catch (const CLI::ParseError& e) {
    // A bad key or value in a --config file: name the file, since CLI11's message names only the key.
    const CLI::Option* config = cli.get_config_ptr();
    if (e.get_exit_code() != 0 && config != nullptr && config->count() > 0) {
      std::cerr << "alertd: config file " << config->as<std::string>()
                << " (keys are the long flag names, see alertd --help): ";
    }
    // CLI11 prints the message; the exit code is the project's for a configuration error, not CLI11's
    // own numbers (105 for a validation error), so a supervisor reads every bad flag the same way.
    return cli.exit(e) == 0 ? kExitOk : kExitConfig;
  }

  alertd::tool::InitLog("alertd", spdlog::level::from_str(flags.log_level), alertd::tool::LogStyle::kDaemon);
  google::protobuf::SetLogHandler(LogProtobufComplaint);  // before any thread parses: not thread-safe
  // Every signal only flips the stop flag: the loop finishes its commit and shuts down in order.
  alertd::tool::InstallStopHandlers(alertd::tool::SecondStopSignal::kRecords);
  return RunDaemon(flags);
}
