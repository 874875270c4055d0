// `alertd backtest`: flags, input (Kafka or an export file), the two replays, the report.
#include "engine/backtest/command.h"

#include <chrono>
#include <iostream>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "engine/backtest/backtest.h"
#include "engine/backtest/export_file.h"
#include "engine/backtest/kafka_history.h"
#include "engine/backtest/progress.h"
#include "engine/backtest/report.h"
#include "engine/config/policy_file.h"
#include "engine/config/policy_values.h"
#include "engine/tool/log.h"
#include "health.pb.h"
#include "engine/tool/stop_signal.h"

namespace alertd::backtest {

struct CommandFlags {
  std::string from, to;
  std::string policy, baseline_policy;
  std::string bootstrap;
  std::vector<std::string> kafka_props;
  std::string input, output;
  std::string utc_offset = "+08:00";
  std::string lead_in = "30d";
  std::string events;
  std::string post;
  std::size_t max_workers = 20;
  std::size_t buffer_records = 2000;
  bool json = false;
  bool verbose = false;
  app::Topics topics{.readings = "readings",
                     .profiles = "worker-profiles",
                     .shifts = "shifts",
                     .acks = "escalation-acks",
                     .escalations = "escalations",
                     .dead_letters = "dead-letters",
                     .referrals = "referrals"};
};

namespace {

constexpr int kExitInternal = 1;
constexpr int kExitConfig = 2;
constexpr int kExitKafka = 5;

int ExitFor(const absl::Status& st) {
  if (st.ok()) return 0;
  if (absl::IsUnavailable(st) || absl::IsAborted(st)) return kExitKafka;
  if (absl::IsInvalidArgument(st) || absl::IsDataLoss(st)) return kExitConfig;
  return kExitInternal;
}

// "2025-03-10" (local midnight) or "2025-03-10T08:30" / "2025-03-10 08:30" (local), at `offset_ms`.
std::optional<int64_t> ParseLocalTime(const std::string& text, int64_t offset_ms) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  char sep = 0, tail = 0;
  const int n = std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d%c", &y, &mo, &d, &sep, &h, &mi, &tail);
  const bool date_only = n == 3 && text.size() == 10;
  const bool with_time = n == 6 && (sep == 'T' || sep == ' ') && text.size() == 16;
  if (!date_only && !with_time) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59) return std::nullopt;
  const int64_t days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  return days * 86400000 + (int64_t{h} * 60 + mi) * 60000 - offset_ms;
}

void AddTopicFlags(CLI::App& app, app::Topics& topics) {
  app.add_option("--readings-topic", topics.readings)->capture_default_str();
  app.add_option("--profiles-topic", topics.profiles)->capture_default_str();
  app.add_option("--shifts-topic", topics.shifts)->capture_default_str();
  app.add_option("--acks-topic", topics.acks)->capture_default_str();
}

void AddKafkaFlags(CLI::App& app, CommandFlags& f) {
  app.add_option("--bootstrap", f.bootstrap, "Kafka bootstrap servers: read the retained input topics");
  app.add_option("-X,--kafka-property", f.kafka_props, "Extra librdkafka property name=value (repeatable)")
      ->check(tool::KafkaPropertyCheck());
  AddTopicFlags(app, f.topics);
  app.add_option("--lead-in", f.lead_in,
                 "History read before --from so that windows (R2's 7 days, R5's 30) and the weekly self-test "
                 "clocks are warm; events it triggers are not counted. <whole number><unit>, unit ms s m h d")
      ->capture_default_str();
}

struct Resolved {
  Period period;
  int64_t start_ms = 0;  // --from minus the lead-in
};

// The period and the start of reading; ValidationError naming the flag otherwise.
Resolved ParsePeriod(const CommandFlags& f, bool need_to) {
  Resolved r;
  const std::optional<int> offset = config::ParseDayOffset(f.utc_offset);
  if (!offset) throw CLI::ValidationError("--utc-offset", "expected +HH:MM or -HH:MM, got '" + f.utc_offset + "'");
  r.period.utc_offset_ms = int64_t{*offset} * 60000;
  const std::optional<int64_t> lead_in = config::ParseDuration(f.lead_in);
  if (!lead_in) throw CLI::ValidationError("--lead-in", "expected <whole number><unit> (e.g. 30d), got '" + f.lead_in + "'");
  if (!f.from.empty()) {
    const auto from = ParseLocalTime(f.from, r.period.utc_offset_ms);
    if (!from) throw CLI::ValidationError("--from", "expected YYYY-MM-DD or YYYY-MM-DDTHH:MM, got '" + f.from + "'");
    r.period.from_ms = *from;
    r.start_ms = std::max<int64_t>(0, *from - *lead_in);
  }
  if (need_to) {
    const auto to = ParseLocalTime(f.to, r.period.utc_offset_ms);
    if (!to) throw CLI::ValidationError("--to", "expected YYYY-MM-DD or YYYY-MM-DDTHH:MM, got '" + f.to + "'");
    if (*to <= r.period.from_ms) throw CLI::ValidationError("--to", "must be after --from");
    r.period.to_ms = *to;
  }
  return r;
}

// The period, or nullopt after telling `command`'s user which flag is wrong.
std::optional<Resolved> ResolvePeriod(const CommandFlags& f, bool need_to, const std::string& command) {
  try {
    return ParsePeriod(f, need_to);
  } catch (const CLI::ValidationError& e) {
    std::cerr << command << ": " << e.what() << "\n";
    return std::nullopt;
  }
}

absl::StatusOr<domain::Policy> LoadPolicy(const std::string& path) {
  if (path.empty()) return domain::Policy{};
  return config::LoadPolicyFile(path);
}

// Reads the Kafka history into `merge`, with progress.
absl::Status ReadKafka(const CommandFlags& f, int64_t start_ms, const std::function<void(const HistoryRecord&)>& visit) {
  KafkaHistoryOptions options;
  options.bootstrap = f.bootstrap;
  options.properties = tool::ParseKafkaProperties(f.kafka_props);
  options.topics = InputTopicNames(f.topics);
  options.start_ms = start_ms;
  auto history = KafkaHistory::Open(options);
  if (!history.ok()) return history.status();
  for (const std::string& t : (*history)->missing_topics()) {
    std::cerr << "alertd backtest: topic " << t << " does not exist at " << f.bootstrap << ": read as empty\n";
  }
  Progress progress("reading " + f.bootstrap, (*history)->total());
  HistoryMerge merge(f.buffer_records, visit);
  uint64_t done = 0;
  absl::Status st = (*history)->ReadInto(merge, [&](uint64_t n) { progress.Update(done = n); }, tool::StopFlag());
  progress.Finish(done);
  return st;
}

// Reads an export file in its order; like Kafka's offsetsForTimes, each input partition starts at
// its first record at or after `start_ms`.
absl::Status ReadFile(const CommandFlags& f, int64_t start_ms, const std::function<void(const HistoryRecord&)>& visit) {
  std::optional<Progress> progress;
  std::set<std::pair<int, int32_t>> started;
  uint64_t done = 0;
  absl::Status st = ReadExport(
      f.input, [&](const ExportHeader& h) { progress.emplace("reading " + f.input, h.records); },
      [&](const HistoryRecord& r) {
        ++done;
        if (done % 1024 == 0) progress->Update(done);
        if (!started.count({r.input, r.partition})) {
          if (r.timestamp < start_ms) return;
          started.insert({r.input, r.partition});
        }
        visit(r);
      });
  if (progress) progress->Finish(done);
  return st;
}

int RunExport(const CommandFlags& f) {
  if (f.bootstrap.empty() || f.output.empty()) {
    std::cerr << "alertd backtest export: --bootstrap and --output are required\n";
    return kExitConfig;
  }
  const std::optional<Resolved> r = ResolvePeriod(f, /*need_to=*/false, "alertd backtest export");
  if (!r) return kExitConfig;
  auto writer = ExportWriter::Create(f.output, InputTopicNames(f.topics));
  if (!writer.ok()) {
    std::cerr << "alertd backtest export: " << writer.status().message() << "\n";
    return kExitConfig;
  }
  absl::Status written;
  absl::Status st = ReadKafka(f, r->start_ms, [&](const HistoryRecord& rec) {
    if (written.ok()) written = (*writer)->Write(rec);
  });
  if (st.ok()) st = written;
  if (st.ok()) st = (*writer)->Close();
  if (!st.ok()) {
    std::cerr << "alertd backtest export: " << st.message() << "\n";
    return ExitFor(st);
  }
  std::cerr << "alertd backtest export: " << (*writer)->records() << " records to " << f.output << "\n";
  return 0;
}

int RunBacktest(const CommandFlags& f, const std::string& daemon_policy) {
  for (const auto& [flag, value] : {std::pair{"--from", &f.from}, {"--to", &f.to}, {"--policy", &f.policy}}) {
    if (value->empty()) {
      std::cerr << "alertd backtest: " << flag << " is required (alertd backtest --help)\n";
      return kExitConfig;
    }
  }
  if (f.bootstrap.empty() == f.input.empty()) {
    std::cerr << "alertd backtest: give exactly one of --bootstrap (read Kafka) and --input (an export file)\n";
    return kExitConfig;
  }
  const std::optional<Resolved> r = ResolvePeriod(f, /*need_to=*/true, "alertd backtest");
  if (!r) return kExitConfig;
  const std::string baseline_path = f.baseline_policy.empty() ? daemon_policy : f.baseline_policy;
  auto baseline = LoadPolicy(baseline_path);
  if (!baseline.ok()) {
    std::cerr << "alertd backtest: baseline policy: " << baseline.status().message() << "\n";
    return kExitConfig;
  }
  auto candidate = LoadPolicy(f.policy);
  if (!candidate.ok()) {
    std::cerr << "alertd backtest: --policy: " << candidate.status().message() << "\n";
    return kExitConfig;
  }
  std::optional<domain::HighRiskPost> post;
  if (!f.post.empty()) {
    healthgrid::v1::HighRiskPost value{};
    if (!healthgrid::v1::HighRiskPost_Parse(f.post, &value) || value == healthgrid::v1::HIGH_RISK_POST_UNSPECIFIED) {
      std::cerr << "alertd backtest: --post: expected DRIVER, WORK_AT_HEIGHT, HOT_WORK or CONFINED_SPACE, got '"
                << f.post << "'\n";
      return kExitConfig;
    }
    post = static_cast<domain::HighRiskPost>(value);  // equal numbers: engine/wire/convert.cc checks it
  }
  Backtest backtest({.period = r->period,
                     .baseline = *std::move(baseline),
                     .candidate = *std::move(candidate),
                     .topics = f.topics,
                     .max_changed = f.max_workers,
                     .events_path = f.events,
                     .post = post});
  if (absl::Status st = backtest.Start(); !st.ok()) {
    std::cerr << "alertd backtest: " << st.message() << "\n";
    return kExitConfig;
  }
  const auto visit = [&](const HistoryRecord& rec) { backtest.Replay(rec); };
  absl::Status st = f.input.empty() ? ReadKafka(f, r->start_ms, visit) : ReadFile(f, r->start_ms, visit);
  if (st.ok()) st = backtest.status();
  if (!st.ok()) {
    std::cerr << "alertd backtest: " << st.message() << "\n";
    return ExitFor(st);
  }
  const ReportLabels labels{baseline_path.empty() ? "built-in defaults" : baseline_path, f.policy, f.post};
  const BacktestReport report = backtest.Finish();
  if (f.json) std::cout << ReportJson(report, labels).dump(2) << "\n";
  else PrintReport(report, labels, std::cout);
  return 0;
}

}  // namespace

BacktestCommand::BacktestCommand(CLI::App& cli) : flags_(std::make_unique<CommandFlags>()) {
  CommandFlags& f = *flags_;
  backtest_ = cli.add_subcommand(
      "backtest",
      "Replay retained input history through the baseline and a new policy side by side, as alertd --clock=stream "
      "would, and print the difference (events by rule, severity, unit and week; the workers whose escalations "
      "change; alerts per worker per day; referrals). Never joins or commits the live consumer group");
  backtest_->add_option("--from", f.from, "First local day (or YYYY-MM-DDTHH:MM) of the events compared (required)");
  backtest_->add_option("--to", f.to, "End of the period, exclusive: events triggered before it are compared (required)");
  backtest_->add_option("--policy", f.policy, "The new policy, YAML (deploy/policy.yaml's schema) (required)");
  backtest_->add_option("--baseline-policy", f.baseline_policy,
                        "The policy in force (default: the daemon's --policy, else the built-in defaults)");
  AddKafkaFlags(*backtest_, f);
  backtest_->add_option("--input", f.input, "An export file (alertd backtest export) instead of Kafka");
  backtest_->add_option("--utc-offset", f.utc_offset, "Local time of --from, --to and the report's days")
      ->capture_default_str();
  backtest_->add_option("--workers", f.max_workers, "Workers listed whose escalations change (all are counted)")
      ->capture_default_str();
  backtest_->add_option("--events", f.events, "Also write every compared event of both policies here, as JSON lines");
  backtest_->add_option("--post", f.post,
                        "Count only the events of workers whose profile lists this high-risk post (DRIVER, "
                        "WORK_AT_HEIGHT, HOT_WORK, CONFINED_SPACE); both policies still apply to everyone");
  backtest_->add_flag("--json", f.json, "Print the report as one JSON document");
  backtest_->add_flag("-v,--verbose", f.verbose, "Log what the engine logs (ignored acks, dead letters) on stderr");
  backtest_->require_subcommand(0, 1);
  export_ = backtest_->add_subcommand(
      "export", "Write the retained input history (from --from minus --lead-in) to a file that alertd backtest "
                "--input replays without Kafka, in the order alertd --clock=stream processes it");
  export_->add_option("--output", f.output, "The export file to write")->required();
  export_->add_option("--from", f.from, "Export from this local day minus --lead-in (default: all retained)");
  export_->add_option("--utc-offset", f.utc_offset, "Local time of --from")->capture_default_str();
  AddKafkaFlags(*export_, f);
}

BacktestCommand::~BacktestCommand() = default;

bool BacktestCommand::given() const { return backtest_->parsed(); }

int BacktestCommand::Run(const std::string& daemon_policy) const {
  // The engine's own lines (an ignored ack, a dead letter) are counted in the report instead.
  tool::InitLog("alertd backtest", flags_->verbose ? spdlog::level::info : spdlog::level::warn, tool::LogStyle::kTool);
  tool::InstallStopHandlers();
  if (export_->parsed()) return RunExport(*flags_);
  return RunBacktest(*flags_, daemon_policy);
}

std::unique_ptr<BacktestCommand> AddBacktestCommand(CLI::App& cli) { return std::make_unique<BacktestCommand>(cli); }

}  // namespace alertd::backtest
