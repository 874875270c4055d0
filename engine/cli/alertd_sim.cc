// alertd-sim: simulates a health grid's workers and their station readings, produced to Kafka as protobuf.
//
// It builds a population (units with supervisors, grids with health managers and stations, workers
// with hypertension grades, diabetes, high-risk posts and "one person, one policy"), produces every
// WorkerProfile, then D days of backfilled readings in event-time order, then optionally live ones.
// A run is reproducible from --seed, apart from "now". The model lives in engine/cli/sim; this file is
// the tool: its flags, the producer and the pacing.
#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/cli/grid_time.h"
#include "engine/cli/sim/simulation.h"
#include "engine/cli/sim/week.h"
#include "engine/cli/sim_producer.h"
#include "engine/tool/atomic_file.h"
#include "engine/tool/kafka_client.h"
#include "engine/tool/stop_signal.h"
#include "engine/tool/tool_main.h"
#include "health.pb.h"

namespace alertd::cli {
namespace {

namespace hg = healthgrid::v1;
using namespace sim;  // NOLINT(google-build-using-namespace): the tool is the model's one user

constexpr auto kProgressInterval = std::chrono::seconds(5);
constexpr auto kMetadataTimeout = std::chrono::seconds(10);

struct SimOptions {
  tool::KafkaClientOptions kafka;
  PopulationOptions population;
  ReadingOptions readings;
  uint64_t seed = 42;
  int days = 7;
  double live_seconds = 0;
  double rate = 200;
  std::string readings_topic = "readings";
  std::string profiles_topic = "worker-profiles";
  std::string shifts_topic = "shifts";
  std::string acks_topic = "escalation-acks";
  // --scenario week: a scripted week of history with Kafka timestamps, for alertd --clock=stream.
  std::string scenario = "backfill";
  std::string start;     // YYYY-MM-DD, local: the week's first day; empty = --days before today
  int lead_in_days = 7;  // history before the week, so weekly deadlines fall due inside it
  std::string story_file;
  bool quiet = false;
  bool verbose = false;
};

class Progress {
 public:
  Progress(bool quiet, const SimProducer& producer) : quiet_(quiet), producer_(producer) {}

  void Tick(const ReadingCounts& counts, const std::string& phase) {
    const auto now = SteadyClock::now();
    if (quiet_ || now - last_report_ < kProgressInterval) return;
    const uint64_t sent = counts.total() + counts.garbage;
    const double seconds = std::chrono::duration<double>(now - last_report_).count();
    spdlog::info("{}: {} readings sent, {:.0f}/s, {} records delivered", phase, sent,
                 static_cast<double>(sent - sent_at_last_report_) / seconds, producer_.deliveries().delivered());
    last_report_ = now;
    sent_at_last_report_ = sent;
  }

 private:
  bool quiet_;
  const SimProducer& producer_;
  SteadyClock::time_point last_report_ = SteadyClock::now();
  uint64_t sent_at_last_report_ = 0;
};

// The engine's design assumes every input topic has the same partition count; refuse to fill topics
// it could not join, and refuse to let a metadata request auto-create them with a default count.
void CheckTopics(SimProducer& producer, const SimOptions& options) {
  std::vector<std::string> topics = {options.readings_topic, options.profiles_topic};
  if (options.scenario == "week") {
    topics.push_back(options.shifts_topic);
    topics.push_back(options.acks_topic);
  }
  const std::map<std::string, int> counts =
      tool::TopicPartitionCounts(producer.handle(), options.kafka.bootstrap, topics, kMetadataTimeout);
  for (const std::string& topic : topics) {
    if (counts.count(topic) == 0) {
      throw std::runtime_error(fmt::format("topic '{}' does not exist on {} (start alertd-kafka, or create it)", topic,
                                           options.kafka.bootstrap));
    }
  }
  const int readings = counts.at(options.readings_topic);
  for (const std::string& topic : topics) {
    if (counts.at(topic) != readings) {
      throw std::runtime_error(fmt::format("'{}' has {} partitions but '{}' has {}: input topics must be co-partitioned",
                                           options.readings_topic, readings, topic, counts.at(topic)));
    }
  }
  spdlog::debug("topics {} and {} have {} partitions", options.readings_topic, options.profiles_topic, readings);
}

// worker TAB story TAB expectation, for tools (deploy/demo.sh) that pick the cast out of the tail.
// Written whole, so a reader never sees half of it.
bool WriteStory(const std::string& path, const std::vector<StoryLine>& story) {
  std::string text;
  for (const StoryLine& line : story) {
    fmt::format_to(std::back_inserter(text), "{}\t{}\t{}\n", line.worker, line.story, line.expect);
  }
  if (const absl::Status written = tool::WriteFileAtomically(path, text); !written.ok()) {
    spdlog::error("cannot write --story-file {}: {}", path, std::string(written.message()));
    return false;
  }
  return true;
}

// What a run produced, for the progress lines and the closing summary.
struct Produced {
  uint64_t profiles = 0, shifts = 0, acks = 0;
  ReadingCounts readings;
};

// Producing on after a delivery failed only queues records that will fail the same way.
bool Halted(const SimProducer& producer) {
  return tool::StopRequested() || producer.deliveries().failed() > 0;
}

// Profiles first, all delivered, so an engine reading both topics knows workers before readings.
void ProduceProfiles(const SimOptions& options, const Population& pop, SimProducer& producer, Progress& progress,
                     Produced& produced) {
  for (const Worker& w : pop.workers) {
    if (Halted(producer)) break;
    if (!producer.Send(options.profiles_topic, w.id, MakeProfile(pop, w).SerializeAsString())) break;
    ++produced.profiles;
  }
  producer.Drain([&] { progress.Tick(produced.readings, "profiles"); });
}

const std::string& TopicOf(const SimOptions& options, WeekTopic topic) {
  switch (topic) {
    case WeekTopic::kProfiles: return options.profiles_topic;
    case WeekTopic::kReadings: return options.readings_topic;
    case WeekTopic::kShifts: return options.shifts_topic;
    case WeekTopic::kAcks: return options.acks_topic;
  }
  return options.readings_topic;
}

// Sends the week's records in their order, each stamped with the moment it reached Kafka.
void ProduceWeek(const SimOptions& options, WeekScenario& week, SimProducer& producer, Progress& progress,
                 Produced& produced) {
  const std::string phase = fmt::format("week of {}", FormatGridTime(week.frame().DayStart(0)).substr(0, 10));
  week.Play([&](const WeekRecord& record) {
    if (Halted(producer) ||
        !producer.Send(TopicOf(options, record.topic), record.key, record.value, record.timestamp_ms)) {
      return false;
    }
    switch (record.topic) {
      case WeekTopic::kProfiles: ++produced.profiles; break;
      case WeekTopic::kReadings: Count(*record.reading, &produced.readings); break;
      case WeekTopic::kShifts: ++produced.shifts; break;
      case WeekTopic::kAcks: ++produced.acks; break;
    }
    progress.Tick(produced.readings, phase);
    return true;
  });
  producer.Drain([&] { progress.Tick(produced.readings, "week"); });
}

// Says what the week holds once it is delivered, before any live readings: a script may wait for the
// line or the story file. False if the story file cannot be written.
bool AnnounceWeek(const SimOptions& options, const WeekScenario& week, size_t workers, const Produced& produced) {
  const WeekFrame& frame = week.frame();
  const ReadingCounts& counts = produced.readings;
  fmt::print("alertd-sim: week {} .. {} (history from {}): {} workers; {} readings, {} clock-ins, {} acknowledgements "
             "and snoozes, {} late uploads (> 1 h)\n",
             FormatGridTime(frame.DayStart(0)).substr(0, 10), FormatGridTime(frame.end_ms - 1).substr(0, 10),
             FormatGridTime(frame.history_start_ms).substr(0, 10), workers, counts.total() + counts.garbage,
             produced.shifts, produced.acks, week.late_uploads());
  std::fflush(stdout);
  if (!options.story_file.empty() && !WriteStory(options.story_file, week.story())) return false;
  spdlog::info("the week is delivered ({} records){}",
               produced.profiles + counts.total() + counts.garbage + produced.shifts + produced.acks,
               options.live_seconds > 0 ? "; live readings follow" : "");
  return true;
}

// Sends one reading at the pace of --rate, stamped now. False once the run should stop.
bool SendPaced(const SimOptions& options, Simulation& sim, const PlannedReading& r, SimProducer& producer,
               Pacer& pacer, Produced& produced) {
  if (Halted(producer) || !pacer.Wait(producer)) return false;
  if (!producer.Send(options.readings_topic, sim.population.workers[r.worker].id, sim.encoder.Encode(r))) return false;
  Count(r, &produced.readings);
  return true;
}

// Backfill: one local day at a time, in event-time order across workers.
void ProduceBackfill(const SimOptions& options, int64_t now_ms, Simulation& sim, SimProducer& producer, Pacer& pacer,
                     Progress& progress, Produced& produced) {
  const int64_t window_start_ms = now_ms - options.days * kDayMs;
  const int64_t first_day = GridDay(window_start_ms), last_day = GridDay(now_ms);
  std::vector<PlannedReading> day;
  pacer.Restart();
  for (int64_t d = first_day; d <= last_day && !Halted(producer); ++d) {
    day.clear();
    PlanDay(sim.population, options.readings, d, window_start_ms, now_ms, sim.model, sim.rng, &day);
    // Stable, with the worker as tie-break, so the order (and the run) is reproducible.
    std::sort(day.begin(), day.end(), [](const PlannedReading& a, const PlannedReading& b) {
      return a.measured_at_ms != b.measured_at_ms ? a.measured_at_ms < b.measured_at_ms : a.worker < b.worker;
    });
    const std::string phase = fmt::format("backfill day {}/{} ({})", d - first_day + 1, last_day - first_day + 1,
                                          FormatGridTime(GridDayStartMs(d)).substr(0, 10));
    for (const PlannedReading& r : day) {
      if (!SendPaced(options, sim, r, producer, pacer, produced)) break;
      progress.Tick(produced.readings, phase);
    }
  }
}

// Live: measured now, workers drawn in proportion to how often they test.
void ProduceLive(const SimOptions& options, Simulation& sim, SimProducer& producer, Pacer& pacer, Progress& progress,
                 Produced& produced) {
  if (options.rate <= 0) {
    spdlog::warn("live readings are unthrottled (--rate 0); the embedded cluster keeps only ~5 MiB per partition");
  }
  const Population& pop = sim.population;
  std::vector<double> weights;
  for (const Worker& w : pop.workers) {
    weights.push_back(w.self_tests_per_day * options.readings.readings_per_day + (w.posts.empty() ? 0.0 : 5.0 / 7.0));
  }
  if (std::all_of(weights.begin(), weights.end(), [](double x) { return x <= 0; })) {
    std::fill(weights.begin(), weights.end(), 1.0);
  }
  std::discrete_distribution<uint32_t> pick(weights.begin(), weights.end());
  const auto live_until = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                                   std::chrono::duration<double>(options.live_seconds));
  pacer.Restart();
  while (SteadyClock::now() < live_until) {
    const uint32_t i = pick(sim.rng);
    const bool pre_shift = !pop.workers[i].posts.empty() && Chance(sim.rng, 0.5);
    const PlannedReading r = sim.model.Any(i, NowMs(), pre_shift ? hg::PRE_SHIFT : hg::SELF_TEST);
    if (!SendPaced(options, sim, r, producer, pacer, produced)) break;
    progress.Tick(produced.readings, "live");
  }
}

// The closing lines on stdout; 1 if any record was not delivered.
int Summarize(const SimProducer& producer, const Produced& produced, const std::vector<StoryLine>& story,
              SteadyClock::time_point started) {
  const ReadingCounts& counts = produced.readings;
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  fmt::print("alertd-sim: produced {} profiles, {} readings (bp {}, glucose {}, body {}), {} impossible, {} garbage, "
             "in {:.1f} s\n",
             produced.profiles, counts.total(), counts.bp, counts.glucose, counts.body, counts.impossible,
             counts.garbage, seconds);
  if (!story.empty()) {
    fmt::print("alertd-sim: the week's script:\n");
    for (const StoryLine& line : story) fmt::print("  {}  {:<24} {}\n", line.worker, line.story, line.expect);
  }
  std::fflush(stdout);
  if (producer.deliveries().failed() > 0) {
    spdlog::error("{} of {} records were not delivered", producer.deliveries().failed(),
                  producer.deliveries().failed() + producer.deliveries().delivered());
    return 1;
  }
  return 0;
}

int Run(const SimOptions& options) {
  tool::InstallStopHandlers();
  const auto started = SteadyClock::now();
  const int64_t now_ms = NowMs();

  // Kafka first: a wrong flag or an unreachable cluster should fail before a large population is built.
  SimProducer producer(options.kafka);
  CheckTopics(producer, options);

  // The week's population lives up to the week's end, as the backfill's lives up to now.
  const bool week_mode = options.scenario == "week";
  const WeekFrame frame =
      MakeWeekFrame(options.start.empty() ? GridDay(now_ms) - options.days : *ParseGridDate(options.start),
                    options.days, options.lead_in_days);
  Simulation sim(options.population, options.readings, options.seed, week_mode ? frame.end_ms : now_ms);
  std::optional<WeekScenario> week;
  if (week_mode) week.emplace(frame, sim);
  if (!options.quiet) LogPopulation(sim.population);
  Progress progress(options.quiet, producer);
  Produced produced;

  if (week_mode) {
    producer.Drain([&] { progress.Tick(produced.readings, "profiles"); });
    if (!Halted(producer)) {
      ProduceWeek(options, *week, producer, progress, produced);
      if (!AnnounceWeek(options, *week, sim.population.workers.size(), produced)) return 1;
    }
  } else {
    ProduceProfiles(options, sim.population, producer, progress, produced);
  }
  Pacer pacer(options.rate);
  if (!week_mode && options.days > 0 && !Halted(producer)) {
    ProduceBackfill(options, now_ms, sim, producer, pacer, progress, produced);
  }
  if (options.live_seconds > 0 && !Halted(producer)) ProduceLive(options, sim, producer, pacer, progress, produced);

  if (tool::StopRequested()) spdlog::info("{}: stopped producing; waiting for deliveries", tool::StopSignalName());
  if (producer.deliveries().failed() > 0) spdlog::error("stopped producing: deliveries are failing");
  producer.Drain([&] { progress.Tick(produced.readings, "flush"); });
  return Summarize(producer, produced, week ? week->story() : std::vector<StoryLine>{}, started);
}

// alertd-sim's flags, in the order --help lists them.
void AddSimFlags(CLI::App& app, SimOptions& o) {
  tool::AddKafkaClientOptions(app, &o.kafka);
  app.add_option("--workers", o.population.workers, "Workers (W000001...)")->capture_default_str()->check(CLI::Range(1, 9999999));
  app.add_option("--units", o.population.units, "Operating units (U01...)")->capture_default_str()->check(CLI::Range(1, 99));
  app.add_option("--grids", o.population.grids, "Grids, spread over the units (U01-G01...)")
      ->capture_default_str()
      ->check(CLI::Range(1, 9999));
  app.add_option("--seed", o.seed, "Random seed: same seed, same population and readings")->capture_default_str();
  app.add_option("--days", o.days, "Backfill readings over the last D days before now")
      ->capture_default_str()
      ->check(CLI::Range(0, 3650));
  app.add_option("--readings-per-day", o.readings.readings_per_day,
                 "Self-tests per ordinary worker per day (diagnosed grade 2: 1.5x; plus PRE_SHIFT checks)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  // Bounded so that now + S stays representable on the steady clock; 1e9 s is three decades.
  app.add_option("--live-seconds", o.live_seconds, "After the backfill, produce live readings for S seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  app.add_option("--rate", o.rate, "Readings per second, live and backfill (0 = as fast as possible)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e7));
  app.add_option("--impossible-ratio", o.readings.impossible_ratio, "Share of physiologically impossible readings")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--garbage-ratio", o.readings.garbage_ratio, "Share of records that are not protobuf at all")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--readings-topic", o.readings_topic, "Topic of Reading messages")->capture_default_str();
  app.add_option("--profiles-topic", o.profiles_topic, "Topic of WorkerProfile messages")->capture_default_str();
  app.add_option("--shifts-topic", o.shifts_topic, "Topic of ShiftEvent messages (--scenario week)")
      ->capture_default_str();
  app.add_option("--acks-topic", o.acks_topic, "Topic of EscalationAck messages (--scenario week)")
      ->capture_default_str();
  app.add_option("--scenario", o.scenario,
                 "backfill: --days of readings before now, stamped now (live engines). week: a scripted week of "
                 "history from --start (R3 ladders, acks, a late upload, pre-shift checks and clock-ins, glucose, "
                 "focus tracking), each record stamped with the simulated moment it reached Kafka and produced in "
                 "that order as fast as possible, for alertd --clock=stream; --days is the week's length")
      ->check(CLI::IsMember({"backfill", "week"}))
      ->capture_default_str();
  app.add_option("--start", o.start, "--scenario week: first local day, YYYY-MM-DD (default: --days before today)");
  app.add_option("--lead-in-days", o.lead_in_days,
                 "--scenario week: history before --start, so that weekly self-tests fall due in the week")
      ->capture_default_str()
      ->check(CLI::Range(7, 60));
  app.add_option("--story-file", o.story_file, "--scenario week: write the script's workers here (worker TAB story TAB expectation)");
  app.add_flag("-q,--quiet", o.quiet, "No progress on stderr");
  app.add_flag("-v,--verbose", o.verbose, "Show debug logs");
}

// Checks across flags, once they are parsed.
void CheckSimFlags(const SimOptions& o) {
  // Slower than one reading in 1000 s would stretch the pacing schedule past what the clock holds.
  if (o.rate > 0 && o.rate < 0.001) throw CLI::ValidationError("--rate", "must be 0 or at least 0.001 readings/s");
  if (!o.start.empty() && !ParseGridDate(o.start)) {
    throw CLI::ValidationError("--start", "expected a date YYYY-MM-DD, got '" + o.start + "'");
  }
  if (o.scenario == "week" && o.population.workers < 9) {
    throw CLI::ValidationError("--workers", "--scenario week casts 9 workers in its script: give at least 9");
  }
  if (o.population.grids < o.population.units) {
    throw CLI::ValidationError(
        "--grids", fmt::format("{} grids cannot cover {} units (--units): every unit needs one", o.population.grids,
                               o.population.units));
  }
}

}  // namespace
}  // namespace alertd::cli

int main(int argc, char** argv) {
  using namespace alertd::cli;
  SimOptions o;
  CLI::App app{"alertd-sim: simulate health-grid workers and their station readings into Kafka (protobuf)"};
  AddSimFlags(app, o);
  app.callback([&] { CheckSimFlags(o); });
  return alertd::tool::ToolMain(app, argc, argv, "alertd-sim", &o.verbose, [&] { return Run(o); });
}
