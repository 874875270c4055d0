// alertd-bench's realistic phases (see realistic.h).
#include "bench/realistic.h"

#include <google/protobuf/stubs/logging.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "bench/bench_support.h"
#include "bench/floor.h"
#include "engine/kafka/clients.h"
#include "health.pb.h"
#include "tests/support/records.h"

namespace alertd::bench {
namespace {

namespace hg = healthgrid::v1;

constexpr double kSampleSeconds = 0.5;
constexpr int kProbeEvery = 50;  // one reading in 50 of the latency phase is a probe
// The floor commits as often as alertd does in the drain: ~10,000 records a commit (2.4M records in
// ~200-300 commits).
constexpr int kFloorRecordsPerCommit = 10000;

// One Kafka record as alertd-sim wrote it; replayed to the same partition, so readings stay with their
// worker's profile (alertd's input topics are co-partitioned).
struct Record {
  int32_t partition;
  std::string key, value;
};
using Records = std::vector<Record>;

// What alertd-sim produced for one population, read back from its topics.
struct Population {
  std::string name;
  int workers = 0;
  double readings_per_day = 0;
  Records profiles, readings;
  std::string profiles_topic;
};

std::string SimTopic(const std::string& name, const std::string& kind) { return "sim-" + name + "-" + kind; }
std::string MemoryReadings() { return "memory-readings"; }
std::string RepName(int rep, const std::string& what) { return "real" + std::to_string(rep) + "-" + what; }
std::string GroupOf(const std::string& name) { return "alertd-" + name; }
std::string ChangelogOf(const std::string& name) { return GroupOf(name) + "-state-changelog"; }
std::string CostName(int rep, const std::string& density) { return "cost" + std::to_string(rep) + "-" + density; }

std::vector<std::string> PopulationNames(const RealisticOptions& o) {
  std::vector<std::string> names{"main", "sparse", "dense"};
  if (o.memory_workers > 0) names.push_back("memory");
  return names;
}

// The last line of `log` holding `marker`, or "".
std::string LineWith(const std::string& log, const std::string& marker) {
  std::ifstream in(log);
  std::string line, found;
  while (std::getline(in, line)) {
    if (line.find(marker) != std::string::npos) found = line;
  }
  return found;
}

// Every record of `topic` from the start to its end, on every partition.
Records Capture(const std::string& bootstrap, const std::string& topic, int partitions) {
  auto c = kafka::NewConsumer(bootstrap, "bench-capture-" + topic, {{"enable.partition.eof", "true"}}, nullptr,
                              nullptr);
  if (!c.ok()) Die(std::string(c.status().message()));
  std::vector<RdKafka::TopicPartition*> tps;
  for (int p = 0; p < partitions; ++p) {
    tps.push_back(RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  }
  (*c)->assign(tps);
  RdKafka::TopicPartition::destroy(tps);
  Records out;
  std::set<int32_t> ended;
  const auto t0 = Clock::now();
  while (static_cast<int>(ended.size()) < partitions) {
    if (Since(t0) > 600) Die("reading back " + topic + ": not at its end after 600 s");
    std::unique_ptr<RdKafka::Message> m((*c)->consume(100));
    if (m->err() == RdKafka::ERR_NO_ERROR) {
      const auto* payload = static_cast<const char*>(m->payload());
      out.push_back({m->partition(), m->key() ? *m->key() : std::string(), std::string(payload, payload + m->len())});
    } else if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      ended.insert(m->partition());
    }
  }
  (*c)->close();
  return out;
}

// alertd-sim fills sim-NAME-{readings,profiles}; the records are read back and checked against what it
// says it produced, so a population that outgrew the embedded cluster's retention stops the bench.
Population Fill(const RealisticOptions& o, const std::string& name, int workers, double per_day) {
  Population pop;
  pop.name = name;
  pop.workers = workers;
  pop.readings_per_day = per_day;
  pop.profiles_topic = SimTopic(name, "profiles");
  const std::string readings_topic = SimTopic(name, "readings"), log = o.work + "/sim-" + name + ".log";
  char per_day_text[32];
  std::snprintf(per_day_text, sizeof per_day_text, "%g", per_day);
  const auto t0 = Clock::now();
  const int code = RunToEnd({o.sim_bin, "--bootstrap", o.bootstrap, "--workers", std::to_string(workers), "--days",
                             std::to_string(o.days), "--readings-per-day", per_day_text, "--rate", "0", "--quiet",
                             "--readings-topic", readings_topic, "--profiles-topic", pop.profiles_topic},
                            log, 7200);
  if (code != 0) Die("alertd-sim exited with " + std::to_string(code) + ": " + LineWith(log, "alertd-sim"));
  const double fill_seconds = Since(t0);
  unsigned long long profiles = 0, readings = 0, bp = 0, glucose = 0, body = 0, impossible = 0, garbage = 0;
  const std::string summary = LineWith(log, "alertd-sim: produced");
  if (std::sscanf(summary.c_str(),
                  "alertd-sim: produced %llu profiles, %llu readings (bp %llu, glucose %llu, body %llu), %llu "
                  "impossible, %llu garbage",
                  &profiles, &readings, &bp, &glucose, &body, &impossible, &garbage) != 7) {
    Die("no summary line in " + log + " (alertd-sim's output changed?): '" + summary + "'");
  }
  pop.profiles = Capture(o.bootstrap, pop.profiles_topic, o.partitions);
  pop.readings = Capture(o.bootstrap, readings_topic, o.partitions);
  if (pop.profiles.size() != profiles || pop.readings.size() != readings + garbage) {
    Die("population " + name + ": alertd-sim produced " + std::to_string(profiles) + " profiles and " +
        std::to_string(readings + garbage) + " readings, the topics hold " + std::to_string(pop.profiles.size()) +
        " and " + std::to_string(pop.readings.size()) +
        ": more than the embedded cluster keeps (~5 MiB per partition); give more --partitions or fewer workers");
  }
  uint64_t pre_shift = 0;
  std::map<int32_t, double> partition_bytes;
  // The simulator's deliberately broken records (invalid UTF-8 among them) would make libprotobuf log
  // a line each while they are counted here.
  google::protobuf::LogSilencer silence_broken_records;
  for (const Record& r : pop.readings) {
    partition_bytes[r.partition] += static_cast<double>(r.key.size() + r.value.size());
    hg::Reading reading;
    if (reading.ParseFromString(r.value) && reading.context() == hg::PRE_SHIFT) ++pre_shift;
  }
  for (const Record& r : pop.profiles) {
    partition_bytes[r.partition] += static_cast<double>(r.key.size() + r.value.size());
  }
  double largest = 0;
  for (const auto& [p, bytes] : partition_bytes) largest = std::max(largest, bytes);
  std::printf("population %s: %d workers, %d days at %g readings/day: %llu profiles, %zu records on the readings "
              "topic (blood pressure %llu, of which pre-shift checks %" PRIu64 "; glucose %llu; body %llu; "
              "impossible %llu; not protobuf %llu), %.1f readings per worker-day; alertd-sim took %.1f s; "
              "largest partition %.2f MiB of the payload (the embedded cluster keeps ~5 MiB)\n",
              name.c_str(), workers, o.days, per_day, profiles, pop.readings.size(), bp, pre_shift, glucose, body,
              impossible, garbage, static_cast<double>(pop.readings.size()) / workers / o.days, fill_seconds,
              largest / 1048576);
  return pop;
}

// Writes `records` to `topic`, each to its own partition, and waits for every acknowledgement.
void Produce(const std::string& bootstrap, const std::string& topic, const Records& records) {
  auto p = MakeProducer(bootstrap);
  for (const Record& r : records) {
    Send(*p, topic, r.key, r.value, r.partition);
    p->poll(0);
  }
  if (p->flush(300000) != RdKafka::ERR_NO_ERROR) Die("producing to " + topic + ": not acknowledged within 300 s");
}

// Counts `n` records with the C poll API (the fastest plain consumer, as alertd's loop reads), adding
// a time-series sample every 0.5 s. Returns the count; `first` is when the first record came.
int64_t CountRecords(RdKafka::KafkaConsumer& c, int64_t n, Report& report, const std::string& phase,
                     Clock::time_point* first) {
  int64_t seen = 0, at_sample = 0;
  auto sampled = Clock::now();
  const auto limit = Clock::now();
  while (seen < n && Since(limit) < 600) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c.c_ptr(), 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && seen++ == 0) *first = Clock::now();
    rd_kafka_message_destroy(m);
    if (seen % 1024 == 0 && Since(sampled) >= kSampleSeconds) {
      report.Sample(phase, static_cast<double>(seen - at_sample) / Since(sampled), kNone);
      sampled = Clock::now();
      at_sample = seen;
    }
  }
  return seen;
}

// The bare consumer, joined before the clock starts, reads `records` while they are produced to `topic`.
double ConsumeWhileProduced(const RealisticOptions& o, const std::string& topic, const Records& records,
                            Report& report, const std::string& phase) {
  auto c = JoinedConsumer(o.bootstrap, "bench-" + phase, topic);
  const auto t0 = Clock::now();
  std::thread producer([&] { Produce(o.bootstrap, topic, records); });
  Clock::time_point first;
  const int64_t n = CountRecords(*c, static_cast<int64_t>(records.size()), report, phase, &first);
  const double rate = static_cast<double>(n) / Since(t0);
  producer.join();
  c->close();
  if (n < static_cast<int64_t>(records.size())) Die(phase + ": saw " + std::to_string(n) + " records");
  std::printf("%s: consume-only, %" PRId64 " records while produced at %.0f records/s\n", phase.c_str(), n, rate);
  return rate;
}

// The stack's per-record floor (floor.h) reading `records` while they are produced to `name`-readings,
// as the live ratio's bare consumer and alertd read them: records/s from the start of the producer to
// the floor's last commit. Its CPU is not reported: the producer's threads share its process.
double LiveFloor(const RealisticOptions& o, const std::string& name, const Records& records) {
  const std::string topic = name + "-readings";
  Clock::time_point t0;
  std::thread producer;
  const FloorRun f = DrainFloor(o.bootstrap, topic, ChangelogOf(name), static_cast<int64_t>(records.size()),
                                o.work + "/db-" + name, kFloorRecordsPerCommit, FloorWrites::kPerRecord, [&] {
                                  t0 = Clock::now();
                                  producer = std::thread([&] { Produce(o.bootstrap, topic, records); });
                                });
  producer.join();
  const double rate = static_cast<double>(records.size()) / std::chrono::duration<double>(f.done - t0).count();
  std::printf("%s: the stack's floor read %zu records while produced at %.0f records/s\n", name.c_str(), records.size(),
              rate);
  return rate;
}

// A bare consumer of a new group drains the full topic; records/s from its first record to its last.
double DrainConsume(const RealisticOptions& o, const std::string& topic, int64_t n, Report& report,
                    const std::string& phase) {
  auto c = JoinedConsumer(o.bootstrap, "bench-" + phase, topic);
  Clock::time_point first = Clock::now();
  const int64_t seen = CountRecords(*c, n, report, phase, &first);
  const double rate = static_cast<double>(seen) / Since(first);
  c->close();
  if (seen < n) Die(phase + ": saw " + std::to_string(seen) + " of " + std::to_string(n) + " records");
  std::printf("%s: consume-only, %" PRId64 " records of a full topic at %.0f records/s\n", phase.c_str(), n, rate);
  return rate;
}

// Follows one alertd through a phase: its committed records, and every 0.5 s a sample of its rate and
// RSS for the time series.
class Watch {
 public:
  Watch(const Alertd& a, std::string phase, Report& report) : a_(a), phase_(std::move(phase)), report_(report) {}

  double Scrape(const std::string& metric) {
    CheckAlive(a_.pid, a_.log);
    const double v = ScrapeMetric(a_.port, metric);
    if (v < 0) Die(phase_ + ": alertd's /metrics did not answer (" + a_.log + ")");
    return v;
  }
  // Committed input records; samples when due.
  double Committed() {
    const double v = Scrape("alertd_committed_records_total");
    const double dt = Since(sampled_);
    if (dt >= kSampleSeconds) {
      const double rss = static_cast<double>(RssKb(a_.pid, "VmRSS:")) / 1024;
      report_.Sample(phase_, last_ < 0 ? kNone : (v - last_) / dt, rss);
      rss_.emplace_back(report_.Now(), rss);
      sampled_ = Clock::now();
      last_ = v;
    }
    return v;
  }
  // Polls every 0.1 s until `done` says so; dies after `seconds`.
  template <typename Done>
  void Until(Done done, double seconds, const std::string& what) {
    const auto t0 = Clock::now();
    while (!done()) {
      if (Since(t0) > seconds) Die(phase_ + ": " + what + " not reached after " + std::to_string(seconds) + " s");
      usleep(100000);
    }
  }
  // Forgets the RSS samples so far: the growth is measured from here (the first reading graded).
  void StartGrowth() { rss_.clear(); }
  // RSS at the end minus RSS half way through the samples since StartGrowth, in MiB: growth in the
  // second half.
  double SecondHalfGrowth() const {
    if (rss_.size() < 2) return 0;
    const double mid_t = (rss_.front().first + rss_.back().first) / 2;
    const auto mid = std::find_if(rss_.begin(), rss_.end(), [&](const auto& s) { return s.first >= mid_t; });
    return rss_.back().second - mid->second;
  }

 private:
  const Alertd& a_;
  std::string phase_;
  Report& report_;
  Clock::time_point sampled_ = Clock::now() - std::chrono::seconds(1);
  double last_ = -1;
  std::vector<std::pair<double, double>> rss_;  // (t, MiB)
};

struct AlertdRun {
  double rate = 0, seconds = 0, cpu_us_per_record = 0, peak_rss_mib = 0, second_half_growth_mib = 0;
  CpuByThread cpu_us_by_thread{};  // per record, by ThreadKind
};

double PeakRssMib(const Alertd& a) { return static_cast<double>(RssKb(a.pid, "VmHWM:")) / 1024; }

// A fresh alertd (its own group, state and process) drains topics that were full before it started:
// records/s from the first reading graded to the last one committed, CPU of all its threads over that
// time per record. Leaves it running.
AlertdRun DrainWithAlertd(const Alertd& a, const Population& pop, Report& report, const std::string& phase) {
  Watch w(a, phase, report);
  const double readings = static_cast<double>(pop.readings.size());
  const double total = static_cast<double>(pop.profiles.size()) + readings;
  const double limit = 600 + total / 5000;  // a slow machine's 5,000 records/s
  w.Until([&] { return w.Committed() >= 0 && w.Scrape("alertd_readings_total") > 0; }, 300, "first reading graded");
  const auto first = Clock::now();
  const CpuByThread threads0 = CpuSecondsByThread(a.pid);  // the kinds add up to all threads' CPU
  w.StartGrowth();
  w.Until([&] { return w.Committed() >= total; }, limit, "every record committed");
  AlertdRun run;
  run.seconds = Since(first);
  run.rate = readings / run.seconds;
  const CpuByThread threads1 = CpuSecondsByThread(a.pid);
  for (std::size_t k = 0; k < threads1.size(); ++k) {
    run.cpu_us_by_thread[k] = (threads1[k] - threads0[k]) * 1e6 / readings;
    run.cpu_us_per_record += run.cpu_us_by_thread[k];
  }
  run.peak_rss_mib = PeakRssMib(a);
  run.second_half_growth_mib = w.SecondHalfGrowth();
  std::printf(
      "%s: alertd drained %.0f records of a full topic (%zu profiles first) at %.0f records/s in %.2f s; "
      "%.2f us CPU/record (all threads: %s); peak RSS %.1f MiB\n",
      phase.c_str(), readings, pop.profiles.size(), run.rate, run.seconds, run.cpu_us_per_record,
      FormatByThread(run.cpu_us_by_thread).c_str(), run.peak_rss_mib);
  return run;
}

// alertd, started on an empty topic and holding the roster, grades `records` while they are produced.
AlertdRun LiveWithAlertd(const RealisticOptions& o, const Alertd& a, const std::string& topic,
                         const Population& pop, Report& report, const std::string& phase) {
  Watch w(a, phase, report);
  const double profiles = static_cast<double>(pop.profiles.size());
  w.Until([&] { return w.Committed() >= profiles; }, 300, "the roster committed");
  const double base = w.Committed();
  const double readings = static_cast<double>(pop.readings.size());
  const double cpu0 = CpuSeconds(a.pid);
  const auto t0 = Clock::now();
  std::thread producer([&] { Produce(o.bootstrap, topic, pop.readings); });
  w.Until([&] { return w.Committed() - base >= readings; }, 600 + readings / 5000, "every reading committed");
  AlertdRun run;
  run.seconds = Since(t0);
  run.rate = readings / run.seconds;
  run.cpu_us_per_record = (CpuSeconds(a.pid) - cpu0) * 1e6 / readings;
  producer.join();
  std::printf("%s: alertd graded %.0f records while produced at %.0f records/s in %.2f s; %.2f us CPU/record\n",
              phase.c_str(), readings, run.rate, run.seconds, run.cpu_us_per_record);
  return run;
}

struct LatencyRun {
  double p50 = 0, p99 = 0, p999 = 0, max = 0;
  size_t seen = 0;
  int probes = 0;
};

// o.latency_rate readings/s for o.latency_seconds into `topic`: the population's readings again,
// measured now, and one in 50 a grade-3 reading of a new worker, whose R1 escalation is timed from its
// production to its consumption. Per-second percentiles go to the time series.
LatencyRun MeasureLatency(const RealisticOptions& o, const Alertd& a, const std::string& topic, const Records& replay,
                          const std::string& probe_prefix, Report& report, const std::string& phase) {
  const auto c = JoinedConsumerAtEnd(o.bootstrap, "bench-" + phase, "escalations");
  std::atomic<int> probes{0};
  std::atomic<bool> producing{true};
  std::thread producer([&] {
    auto p = MakeProducer(o.bootstrap, /*linger_ms=*/0);
    // An idempotent producer first fetches metadata and a producer id; that start-up is not latency.
    const auto warm = testing::MakeBp(probe_prefix + "WARMUP", WallMs(), 120, 80);
    Send(*p, topic, warm.worker_id(), warm.SerializeAsString());
    p->flush(30000);
    const auto t0 = Clock::now();
    int64_t i = 0;
    size_t next = 0;
    while (Since(t0) < o.latency_seconds) {
      const auto due = static_cast<int64_t>(Since(t0) * o.latency_rate);
      for (; i < due; ++i) {
        if (i % kProbeEvery == 0) {
          const auto r = testing::MakeBp(probe_prefix + std::to_string(probes.fetch_add(1)), WallMs(), 186, 114);
          Send(*p, topic, r.worker_id(), r.SerializeAsString());
          continue;
        }
        const Record& rec = replay[next++ % replay.size()];
        hg::Reading r;
        if (r.ParseFromString(rec.value)) {
          r.set_measured_at_ms(WallMs());
          Send(*p, topic, rec.key, r.SerializeAsString(), rec.partition);
        } else {
          Send(*p, topic, rec.key, rec.value, rec.partition);  // the population's undecodable share, as it was
        }
      }
      p->poll(1);
    }
    p->flush(60000);
    producing = false;
  });
  std::vector<double> all;
  std::vector<std::pair<int64_t, double>> timed;
  const auto t0 = Clock::now();
  auto checked = Clock::now();
  while (Since(t0) < o.latency_seconds + 15 && (producing || static_cast<int>(all.size()) < probes.load())) {
    if (Since(checked) > 1) {
      CheckAlive(a.pid, a.log);
      report.Sample(phase, kNone, static_cast<double>(RssKb(a.pid, "VmRSS:")) / 1024);
      checked = Clock::now();
    }
    std::unique_ptr<RdKafka::Message> m(c->consume(100));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    const int64_t seen = WallMs();
    hg::Escalation e;
    if (!e.ParseFromArray(m->payload(), static_cast<int>(m->len()))) continue;
    if (e.worker_id().rfind(probe_prefix, 0) != 0 || e.state() != hg::OPEN) continue;
    const auto ms = static_cast<double>(seen - e.trigger_at_ms());
    all.push_back(ms);
    timed.emplace_back(e.trigger_at_ms(), ms);
  }
  producer.join();
  c->close();
  report.SampleLatencies(phase, timed);
  LatencyRun run;
  run.seen = all.size();
  run.probes = probes.load();
  run.p50 = Percentile(all, 0.5);
  run.p99 = Percentile(all, 0.99);
  run.p999 = Percentile(all, 0.999);
  run.max = Percentile(all, 1.0);
  std::printf("%s: %d readings/s for %d s, %zu of %d probe escalations seen: p50 %.0f ms, p99 %.0f ms, p99.9 %.0f "
              "ms, max %.0f ms\n",
              phase.c_str(), o.latency_rate, o.latency_seconds, run.seen, run.probes, run.p50, run.p99, run.p999,
              run.max);
  if (run.seen < static_cast<size_t>(run.probes)) Die(phase + ": probe escalations missing");
  return run;
}

struct Restart {
  double assigned_s = 0, processed_s = 0;
};

// kill -9 of `held` (which holds the population's state), one grade-3 probe reading, then alertd again
// on the same disk and group: seconds from its start to its first partitions assigned (the group's
// share: the embedded cluster waits out the dead incarnation's session, see README "Restarts") and to
// the probe's escalation.
Restart MeasureRestart(const RealisticOptions& o, const Alertd& held, const std::vector<std::string>& extra,
                      const std::string& topic, const std::string& probe_worker, const std::string& phase) {
  const auto c = JoinedConsumerAtEnd(o.bootstrap, "bench-" + phase, "escalations");
  Kill9(held.pid);
  {
    auto p = MakeProducer(o.bootstrap);
    const auto r = testing::MakeBp(probe_worker, WallMs(), 186, 114);
    Send(*p, topic, r.worker_id(), r.SerializeAsString());
    if (p->flush(30000) != RdKafka::ERR_NO_ERROR) Die(phase + ": the probe reading was not acknowledged");
  }
  const std::string log = o.work + "/alertd-" + phase + ".log", port_file = o.work + "/alertd-" + phase + ".port";
  const auto t0 = Clock::now();
  const pid_t pid = Spawn(AlertdArgv(o.alertd_bin, o.bootstrap, held.db, port_file, extra), log);
  Restart r;
  int port = 0;
  auto scraped = Clock::now();
  while (r.processed_s == 0) {
    if (Since(t0) > 300) Die(phase + ": no escalation for the probe 300 s after the restart");
    CheckAlive(pid, log);
    if (r.assigned_s == 0 && Since(scraped) >= 0.05) {
      scraped = Clock::now();
      if (port == 0) {
        std::ifstream in(port_file);
        in >> port;
      }
      if (port > 0 && ScrapeMetric(port, "alertd_assigned_partitions") > 0) r.assigned_s = Since(t0);
    }
    std::unique_ptr<RdKafka::Message> m(c->consume(20));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    hg::Escalation e;
    if (e.ParseFromArray(m->payload(), static_cast<int>(m->len())) && e.worker_id() == probe_worker &&
        e.state() == hg::OPEN) {
      r.processed_s = Since(t0);
    }
  }
  c->close();
  Stop(pid);
  if (r.assigned_s == 0) r.assigned_s = r.processed_s;  // assigned and done between two scrapes
  std::printf("%s: after kill -9, the restarted alertd had partitions %.2f s after its start and processed the "
              "probe reading after %.2f s\n",
              phase.c_str(), r.assigned_s, r.processed_s);
  return r;
}

// Static membership (--instance-id), as deploy/ runs alertd: on a broker, the instance restarted after
// kill -9 gets its partitions back without a rebalance. The embedded cluster ignores it (README,
// "The restart and static membership"), so there the restart waits for the killed member's session.
std::vector<std::string> AlertdExtra(const RealisticOptions& o, const std::string& name, const std::string& topic,
                                     const std::string& profiles_topic) {
  std::vector<std::string> extra{"--group", GroupOf(name), "--instance-id", GroupOf(name) + "-0", "--readings-topic",
                                 topic, "--profiles-topic", profiles_topic};
  extra.insert(extra.end(), o.alertd_flags.begin(), o.alertd_flags.end());
  return extra;
}

struct BytesPerReading {
  double rocksdb = 0, changelog = 0;
};
struct StateBytes {
  BytesPerReading backlog, steady;
};

// Each reading's measured_at; an undecodable record takes the time of the record before it (its place
// in the stream), the first ones the earliest time.
std::vector<int64_t> MeasuredAt(const Records& records) {
  std::vector<int64_t> at(records.size(), INT64_MIN);
  int64_t last = INT64_MIN;
  for (size_t i = 0; i < records.size(); ++i) {
    hg::Reading r;
    if (r.ParseFromString(records[i].value)) last = r.measured_at_ms();
    at[i] = last;
  }
  return at;
}

// The population's readings of the first three quarters of its time span, in the population's order
// (the backlog), and those of the last quarter in the order they were measured (the steady stream).
std::pair<Records, Records> SplitByTime(const Records& readings) {
  const std::vector<int64_t> at = MeasuredAt(readings);
  int64_t first = INT64_MAX, last = INT64_MIN;
  for (int64_t t : at) {
    if (t == INT64_MIN) continue;
    first = std::min(first, t);
    last = std::max(last, t);
  }
  if (first > last) return {readings, {}};  // nothing decodable: all of it is the backlog
  const int64_t cut = first + (last - first) / 4 * 3;
  Records backlog;
  std::vector<std::pair<int64_t, size_t>> steady;
  for (size_t i = 0; i < readings.size(); ++i) {
    if (at[i] < cut) {
      backlog.push_back(readings[i]);
    } else {
      steady.emplace_back(at[i], i);
    }
  }
  std::stable_sort(steady.begin(), steady.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  Records ordered;
  for (const auto& [t, i] : steady) ordered.push_back(readings[i]);
  return {std::move(backlog), std::move(ordered)};
}

// Writes `records` to `topic` in their order at `rate` records/s, each to its own partition.
void ProduceAtRate(const std::string& bootstrap, const std::string& topic, const Records& records, int rate) {
  auto p = MakeProducer(bootstrap, /*linger_ms=*/0);
  const auto t0 = Clock::now();
  size_t sent = 0;
  while (sent < records.size()) {
    const auto due = std::min(records.size(), static_cast<size_t>(Since(t0) * rate));
    for (; sent < due; ++sent) Send(*p, topic, records[sent].key, records[sent].value, records[sent].partition);
    p->poll(1);
  }
  if (p->flush(300000) != RdKafka::ERR_NO_ERROR) Die("producing to " + topic + ": not acknowledged within 300 s");
}

// A fresh alertd takes the population's roster, then the first three quarters of its readings as a
// backlog, then the last quarter at the latency phase's steady rate in the order they were measured, as
// a grid sends them: each worker's windows are full by then, and a commit holds at most a reading or
// two of each worker, so whatever a reading rewrites of its worker shows in full. For each part, RocksDB
// bytes written (the block layer's count for the process, /proc/PID/io write_bytes: WAL, flushes and
// compactions; alertd exposes no RocksDB statistics) and changelog bytes, per reading.
StateBytes MeasureBytes(const RealisticOptions& o, const Population& pop, const std::string& name, Report& report) {
  const std::string topic = name + "-readings";
  const auto [backlog, steady] = SplitByTime(pop.readings);
  const Alertd a =
      StartAlertd(o.alertd_bin, o.bootstrap, o.work, name, AlertdExtra(o, name, topic, pop.profiles_topic));
  Watch w(a, name, report);
  double committed = static_cast<double>(pop.profiles.size());
  w.Until([&] { return w.Committed() >= committed; }, 300, "the roster committed");
  const auto measure = [&](const Records& part, const std::function<void()>& produce) {
    const double changelog0 = w.Scrape("alertd_changelog_bytes_total");
    const int64_t disk0 = DiskWriteBytes(a.pid);
    produce();
    const double n = static_cast<double>(part.size());
    committed += n;
    w.Until([&] { return w.Committed() >= committed; }, 600 + n / 1000, "every reading committed");
    return BytesPerReading{.rocksdb = static_cast<double>(DiskWriteBytes(a.pid) - disk0) / n,
                           .changelog = (w.Scrape("alertd_changelog_bytes_total") - changelog0) / n};
  };
  StateBytes b;
  b.backlog = measure(backlog, [&] { Produce(o.bootstrap, topic, backlog); });
  b.steady = measure(steady, [&] { ProduceAtRate(o.bootstrap, topic, steady, o.latency_rate); });
  Stop(a.pid);
  std::printf(
      "%s: %d workers at %g readings/day: backlog of %zu records: RocksDB %.0f B/reading written, changelog "
      "%.0f B/reading; then %zu records at %d/s: RocksDB %.0f B/reading, changelog %.0f B/reading\n",
      name.c_str(), pop.workers, pop.readings_per_day, backlog.size(), b.backlog.rocksdb, b.backlog.changelog,
      steady.size(), o.latency_rate, b.steady.rocksdb, b.steady.changelog);
  return b;
}

std::string MemoryRunPrefix(const RealisticOptions& o) {
  return "memory run (" + std::to_string(o.memory_workers) + " workers): ";
}

// The dense population: 50 readings a day each, as many readings in all as the sparse one's 1 a day.
int DenseWorkers(const RealisticOptions& o) { return std::max(1, o.workers / 50); }

// The large population: alertd drains it (memory over the run), then kill -9 and a restart. Its
// readings are written again in large batches first, as every other drain's are: alertd-sim's own
// batches hold a few records each, and the embedded cluster serves one batch per partition per fetch.
void MemoryRun(const RealisticOptions& o, const RealisticFigures& names, Report& report) {
  const Population pop = Fill(o, "memory", o.memory_workers, o.memory_readings_per_day);
  const std::string name = "memory", topic = MemoryReadings();
  Produce(o.bootstrap, topic, pop.readings);
  const auto extra = AlertdExtra(o, name, topic, pop.profiles_topic);
  const Alertd a = StartAlertd(o.alertd_bin, o.bootstrap, o.work, name, extra);
  const AlertdRun run = DrainWithAlertd(a, pop, report, name);
  report.Add(MemoryRunPrefix(o) + "alertd drain", "records/s", run.rate);
  report.Add(MemoryRunPrefix(o) + "alertd CPU per record", "us", run.cpu_us_per_record);
  report.Add(names.memory_peak_rss, "MiB", run.peak_rss_mib);
  report.Add(names.memory_growth, "MiB", run.second_half_growth_mib);
  const Restart restart = MeasureRestart(o, a, extra, topic, "RESTART-MEMORY", name + "-restart");
  report.Add(names.memory_restart_processed, "s", restart.processed_s);
  report.Add(names.memory_restart_assigned, "s", restart.assigned_s);
}

}  // namespace

RealisticFigures::RealisticFigures(const RealisticOptions& o) {
  const std::string r = "realistic: ";
  drain_ratio = r + "drain ratio alertd/consume-only";
  live_ratio = r + "live ratio alertd/consume-only";
  cpu_drain = r + "alertd CPU per record, drain (all threads)";
  cpu_live = r + "alertd CPU per record, live (all threads)";
  for (std::size_t k = 0; k < kThreadKindNames.size(); ++k) {
    cpu_drain_by_thread[k] = r + "alertd CPU per record, drain, " + kThreadKindNames[k];
  }
  peak_rss_drain = r + "alertd peak RSS, drain";
  peak_rss_live = r + "alertd peak RSS, live and latency";
  growth_drain = r + "alertd RSS growth over the drain's second half";
  const std::string sparse = "sparse (" + std::to_string(o.workers) + " workers, 1/day)";
  const std::string dense = "dense (" + std::to_string(DenseWorkers(o)) + " workers, 50/day)";
  const std::string steady = r + "bytes per reading at " + std::to_string(o.latency_rate) + "/s, ";
  bytes_sparse_rocksdb = steady + sparse + ", RocksDB written";
  bytes_sparse_changelog = steady + sparse + ", changelog";
  bytes_dense_rocksdb = steady + dense + ", RocksDB written";
  bytes_dense_changelog = steady + dense + ", changelog";
  const std::string backlog = r + "bytes per reading in a backlog, ";
  backlog_bytes_sparse_rocksdb = backlog + sparse + ", RocksDB written";
  backlog_bytes_sparse_changelog = backlog + sparse + ", changelog";
  backlog_bytes_dense_rocksdb = backlog + dense + ", RocksDB written";
  backlog_bytes_dense_changelog = backlog + dense + ", changelog";
  latency_p99 = r + "latency p99 at " + std::to_string(o.latency_rate) + " readings/s";
  restart_processed = r + "restart after kill -9, start to first reading processed";
  restart_assigned = r + "restart after kill -9, start to partitions assigned";
  const std::string floor = r + "the stack's floor (consume, 1 RocksDB put, 1 changelog record per record)";
  floor_drain = floor + ", drain";
  floor_ratio = floor + ", drain ratio floor/consume-only";
  floor_cpu = floor + ", CPU per record";
  floor_live = floor + ", live (while produced)";
  floor_live_ratio = floor + ", live ratio floor/consume-only";
  const std::string coalesced = r + "the stack's floor, one write of each kind per worker and commit";
  coalesced_floor_drain = coalesced + ", drain";
  coalesced_floor_ratio = coalesced + ", drain ratio/consume-only";
  coalesced_floor_cpu = coalesced + ", CPU per record";
  const std::string m = MemoryRunPrefix(o);
  memory_peak_rss = m + "alertd peak RSS";
  memory_growth = m + "alertd RSS growth over the second half";
  memory_restart_processed = m + "restart after kill -9, start to first reading processed";
  memory_restart_assigned = m + "restart after kill -9, start to partitions assigned";
}

std::vector<std::string> RealisticTopics(const RealisticOptions& o) {
  std::vector<std::string> topics;
  for (const auto& name : PopulationNames(o)) {
    topics.push_back(SimTopic(name, "readings"));
    topics.push_back(SimTopic(name, "profiles"));
  }
  if (o.memory_workers > 0) {
    topics.push_back(MemoryReadings());
    topics.push_back(ChangelogOf("memory"));
  }
  for (int rep = 0; rep < o.repetitions; ++rep) {
    topics.push_back(ChangelogOf(RepName(rep, "floor")));
    topics.push_back(ChangelogOf(RepName(rep, "coalesced-floor")));
    topics.push_back(RepName(rep, "floor-live") + "-readings");
    topics.push_back(ChangelogOf(RepName(rep, "floor-live")));
    for (const char* what : {"drain", "live"}) {
      topics.push_back(RepName(rep, what) + "-readings");
      topics.push_back(ChangelogOf(RepName(rep, what)));
    }
    for (const char* density : {"sparse", "dense"}) {
      topics.push_back(CostName(rep, density) + "-readings");
      topics.push_back(ChangelogOf(CostName(rep, density)));
    }
  }
  return topics;
}

Ratios RunRealistic(const RealisticOptions& o, Report& report) {
  const auto fill_t0 = Clock::now();
  const Population main = Fill(o, "main", o.workers, o.readings_per_day);
  const Population sparse = Fill(o, "sparse", o.workers, 1);
  const Population dense = Fill(o, "dense", DenseWorkers(o), 50);
  std::printf("realistic workload: alertd-sim's backfill writes profiles (recipients, conditions, individual "
              "policies), blood pressure (pre-shift checks among them), glucose and body readings; clock-ins and "
              "acknowledgements only in its --scenario week, so none here\n");
  const auto n = static_cast<int64_t>(main.readings.size());
  const RealisticFigures names(o);
  std::printf("the populations were filled and read back in %.0f s\n", Since(fill_t0));

  for (int rep = 0; rep < o.repetitions; ++rep) {
    std::printf("-- realistic, repetition %d of %d\n", rep + 1, o.repetitions);
    const auto rep_t0 = Clock::now();
    const std::string drain = RepName(rep, "drain"), live = RepName(rep, "live");
    // The bare consumer while the stream is produced (this fills the topic the drains read), then
    // draining it full, then alertd draining it.
    const double consume_live =
        ConsumeWhileProduced(o, drain + "-readings", main.readings, report, drain + "-consume-only-live");
    const double consume_drain = DrainConsume(o, drain + "-readings", n, report, drain + "-consume-only");
    AlertdRun alertd_drain;
    {
      const auto extra = AlertdExtra(o, drain, drain + "-readings", main.profiles_topic);
      const Alertd a = StartAlertd(o.alertd_bin, o.bootstrap, o.work, drain, extra);
      alertd_drain = DrainWithAlertd(a, main, report, drain);
      Stop(a.pid);
    }
    const auto drain_floor = [&](const std::string& what, FloorWrites writes) {
      const FloorRun f = DrainFloor(o.bootstrap, drain + "-readings", ChangelogOf(RepName(rep, what)), n,
                                    o.work + "/db-" + RepName(rep, what), kFloorRecordsPerCommit, writes);
      std::printf("%s-%s: the stack's floor drained %" PRId64 " records at %.0f records/s, %.2f us CPU/record, in "
                  "%" PRId64 " commits, %.2f writes per record\n",
                  drain.c_str(), what.c_str(), n, f.rate, f.cpu_us_per_record, f.commits,
                  static_cast<double>(f.writes) / static_cast<double>(n));
      return f;
    };
    const FloorRun floor = drain_floor("floor", FloorWrites::kPerRecord);
    const FloorRun coalesced_floor = drain_floor("coalesced-floor", FloorWrites::kPerWorkerPerCommit);
    const double floor_live = LiveFloor(o, RepName(rep, "floor-live"), main.readings);
    // alertd while the stream is produced; the same instance, holding the population's state, then
    // serves the latency phase and is killed for the restart.
    const auto live_extra = AlertdExtra(o, live, live + "-readings", main.profiles_topic);
    const Alertd a = StartAlertd(o.alertd_bin, o.bootstrap, o.work, live, live_extra);
    const AlertdRun alertd_live = LiveWithAlertd(o, a, live + "-readings", main, report, live);
    const LatencyRun lat = MeasureLatency(o, a, live + "-readings", main.readings, "P" + std::to_string(rep) + "-",
                                          report, live + "-latency");
    const double peak_live = PeakRssMib(a);
    const Restart restart =
        MeasureRestart(o, a, live_extra, live + "-readings", "RESTART-" + std::to_string(rep), live + "-restart");
    const StateBytes sparse_bytes = MeasureBytes(o, sparse, CostName(rep, "sparse"), report);
    const StateBytes dense_bytes = MeasureBytes(o, dense, CostName(rep, "dense"), report);

    report.Add("realistic: consume-only drain", "records/s", consume_drain);
    report.Add("realistic: alertd drain (changelog on, fsync per commit)", "records/s", alertd_drain.rate);
    report.Add(names.drain_ratio, "", alertd_drain.rate / consume_drain);
    report.Add("realistic: consume-only live (while produced)", "records/s", consume_live);
    report.Add("realistic: alertd live (while produced)", "records/s", alertd_live.rate);
    report.Add(names.live_ratio, "", alertd_live.rate / consume_live);
    report.Add(names.cpu_drain, "us", alertd_drain.cpu_us_per_record);
    for (std::size_t k = 0; k < names.cpu_drain_by_thread.size(); ++k) {
      report.Add(names.cpu_drain_by_thread[k], "us", alertd_drain.cpu_us_by_thread[k]);
    }
    report.Add(names.floor_drain, "records/s", floor.rate);
    report.Add(names.floor_ratio, "", floor.rate / consume_drain);
    report.Add(names.floor_cpu, "us", floor.cpu_us_per_record);
    report.Add(names.coalesced_floor_drain, "records/s", coalesced_floor.rate);
    report.Add(names.coalesced_floor_ratio, "", coalesced_floor.rate / consume_drain);
    report.Add(names.coalesced_floor_cpu, "us", coalesced_floor.cpu_us_per_record);
    report.Add(names.floor_live, "records/s", floor_live);
    report.Add(names.floor_live_ratio, "", floor_live / consume_live);
    report.Add(names.cpu_live, "us", alertd_live.cpu_us_per_record);
    report.Add(names.peak_rss_drain, "MiB", alertd_drain.peak_rss_mib);
    report.Add(names.growth_drain, "MiB", alertd_drain.second_half_growth_mib);
    report.Add(names.peak_rss_live, "MiB", peak_live);
    report.Add(names.bytes_sparse_rocksdb, "B", sparse_bytes.steady.rocksdb);
    report.Add(names.bytes_sparse_changelog, "B", sparse_bytes.steady.changelog);
    report.Add(names.bytes_dense_rocksdb, "B", dense_bytes.steady.rocksdb);
    report.Add(names.bytes_dense_changelog, "B", dense_bytes.steady.changelog);
    report.Add(names.backlog_bytes_sparse_rocksdb, "B", sparse_bytes.backlog.rocksdb);
    report.Add(names.backlog_bytes_sparse_changelog, "B", sparse_bytes.backlog.changelog);
    report.Add(names.backlog_bytes_dense_rocksdb, "B", dense_bytes.backlog.rocksdb);
    report.Add(names.backlog_bytes_dense_changelog, "B", dense_bytes.backlog.changelog);
    const std::string at = " at " + std::to_string(o.latency_rate) + " readings/s";
    report.Add("realistic: latency p50" + at, "ms", lat.p50);
    report.Add(names.latency_p99, "ms", lat.p99);
    report.Add("realistic: latency p99.9" + at, "ms", lat.p999);
    report.Add(names.restart_processed, "s", restart.processed_s);
    report.Add(names.restart_assigned, "s", restart.assigned_s);
    std::printf("repetition %d took %.0f s\n", rep + 1, Since(rep_t0));
  }
  if (o.memory_workers > 0) MemoryRun(o, names, report);
  return {report.Of(names.drain_ratio).median, report.Of(names.live_ratio).median};
}

}  // namespace alertd::bench
