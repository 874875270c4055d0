// alertd-bench: throughput of alertd against a plain librdkafka consumer on the same embedded cluster,
// produce-to-escalation latency at a steady rate, alertd's memory over the run, and (scale_out.h) what
// the state changelog costs, how fast it restores and how long a failover takes.
//
// Phases, on topics of the same embedded cluster (one alertd-kafka process):
//   1. consume-only: a producer thread writes N readings while a bare KafkaConsumer counts them;
//   2. drain: the topic phase 1 filled is read again from the start, full before either reader
//      starts, by a bare consumer of a new group and then by an alertd of its own (fresh state,
//      group and process, started after the topic is full), once with its state changelog (the
//      default) and once with --no-changelog: no producer in the way, so this is the
//      readers' own speed, which phases 1 and 3 cannot show (there the consumer keeps pace with the
//      producer, so its rate is mostly the producer's);
//   3. alertd: the same producer writes N readings while alertd (its own process) grades them and
//      commits, first with --no-changelog (topic readings-nocl), then with the changelog (`readings`);
//      progress and RSS come from its /metrics and /proc;
//   4. latency: readings at a fixed rate, a share of them grade 3 for workers with no open episode;
//      latency = time the R1 escalation is consumed - time its reading was produced;
//   5. scale-out (scale_out.h): changelog and RocksDB bytes per reading for sparse and dense workers,
//      each run's changelog restored by a fresh instance, and a kill -9 failover between two instances.
// Those are the synthetic workload (--workload synthetic); the realistic one (realistic.h: alertd-sim's
// population and mix) follows them, each figure over --repetitions runs. Every figure goes to
// figures.csv, the run's time series to series.csv and plot.png (report.h); the last two lines are the
// drain and live ratios, of the realistic workload when it ran.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bench/bench_support.h"
#include "bench/realistic.h"
#include "bench/report.h"
#include "bench/scale_out.h"
#include "bench/targets.h"
#include "engine/app/memory_budget.h"
#include "engine/kafka/clients.h"
#include "tests/support/records.h"
#include "health.pb.h"

namespace {

namespace fs = std::filesystem;
using namespace alertd::bench;

struct Percentiles {
  double p50 = 0, p99 = 0, max = 0;
};

Percentiles Of(std::vector<double> v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  p.p50 = v[v.size() / 2];
  p.p99 = v[std::min(v.size() - 1, v.size() * 99 / 100)];
  p.max = v.back();
  return p;
}

// One alertd reads a topic that was full before it started; readings/s from the first reading graded to
// the last one committed (profiles come first, alertd holds a partition's readings until its profiles
// are in, and are not counted).
double DrainWithAlertd(const std::string& alertd_bin, const std::string& bootstrap, const std::string& work,
                       const std::string& name, std::vector<std::string> extra, int64_t readings, int workers) {
  const Alertd a = StartAlertd(alertd_bin, bootstrap, work, name, extra);
  const auto limit = Clock::now();
  while (ScrapeMetric(a.port, "alertd_readings_total") <= 0 && Since(limit) < 120) {
    CheckAlive(a.pid, a.log);
    usleep(20000);
  }
  const auto first = Clock::now();
  double done = 0;
  while (done < readings && Since(limit) < 600) {
    CheckAlive(a.pid, a.log);
    usleep(100000);
    done = ScrapeMetric(a.port, "alertd_committed_records_total") - workers;
  }
  const double rate = done / Since(first);
  const double seconds = Since(first);
  const double changelog_bytes = ScrapeMetric(a.port, "alertd_changelog_bytes_total");
  Stop(a.pid);
  if (done < readings) Die(name + ": committed " + std::to_string(done) + " of " + std::to_string(readings));
  std::printf("%s: %lld readings of a full topic at %.0f readings/s (in %.2f s); changelog %.1f MB\n", name.c_str(),
              static_cast<long long>(readings), rate, seconds, changelog_bytes / 1e6);
  return rate;
}

struct LiveRun {
  double rate = 0, produce_rate = 0, changelog_bytes = 0;
  std::vector<std::pair<double, long>> rss;  // (progress fraction, RSS kB)
};

// alertd grades `stream` on `topic` while the producer writes it.
LiveRun ReadWhileProduced(const Alertd& a, pid_t kafka, const std::string& bootstrap, const std::string& topic,
                          const EncodedStream& stream, int workers, const std::string& label, Report& report) {
  const int64_t readings = static_cast<int64_t>(stream.size());
  // Wait for the profiles to be committed so the phase measures readings only.
  const auto waiting = Clock::now();
  while (ScrapeMetric(a.port, "alertd_committed_records_total") < workers) {
    CheckAlive(a.pid, a.log);
    if (Since(waiting) > 120) {
      Die(label + " alertd committed " + std::to_string(static_cast<long long>(
                      ScrapeMetric(a.port, "alertd_committed_records_total"))) +
          " of " + std::to_string(workers) + " profiles in 120 s: an input partition that never started fetching "
          "(its alertd_consumer_lag series is missing)? alertd is left running: " + a.log);
    }
    usleep(50000);
  }
  const double base = ScrapeMetric(a.port, "alertd_committed_records_total");
  const double changelog0 = ScrapeMetric(a.port, "alertd_changelog_bytes_total");
  LiveRun run;
  auto t0 = Clock::now();
  const double cpu0 = CpuSeconds(a.pid);
  const double main0 = CpuSeconds(a.pid, a.pid);
  const double broker0 = CpuSeconds(kafka);
  std::thread producer([&] { run.produce_rate = ProduceAll(bootstrap, topic, stream); });
  double done = 0, sampled_done = 0;
  auto sampled = Clock::now();
  while (done < readings && Since(t0) < 600) {
    usleep(250000);  // each scrape costs alertd a serialization of its registry
    CheckAlive(a.pid, a.log);
    done = ScrapeMetric(a.port, "alertd_committed_records_total") - base;
    run.rss.emplace_back(done / readings, RssKb(a.pid, "VmRSS:"));
    if (Since(sampled) >= 0.5) {
      report.Sample("synthetic " + label, (done - sampled_done) / Since(sampled), run.rss.back().second / 1024.0);
      sampled = Clock::now();
      sampled_done = done;
    }
  }
  run.rate = done / Since(t0);
  producer.join();
  if (done < readings) Die(label + " phase: committed " + std::to_string(done) + " of " + std::to_string(readings));
  run.changelog_bytes = ScrapeMetric(a.port, "alertd_changelog_bytes_total") - changelog0;
  const double cpu = CpuSeconds(a.pid) - cpu0;
  const double main_cpu = CpuSeconds(a.pid, a.pid) - main0;
  std::printf("%s %lld readings at %.0f readings/s (producer %.0f/s) in %.2f s; alertd used %.2f CPU s "
              "(%.2f us/reading; engine thread %.2f s); broker used %.2f CPU s; changelog %.0f B/reading\n",
              label.c_str(), static_cast<long long>(readings), run.rate, run.produce_rate, Since(t0), cpu,
              cpu * 1e6 / readings, main_cpu, CpuSeconds(kafka) - broker0, run.changelog_bytes / readings);
  return run;
}

// The failover is measured without a standby and with one (none when the failover is skipped).
std::vector<int> FailoverStandbys(int session_timeout_ms) {
  return session_timeout_ms > 0 ? std::vector<int>{0, 1} : std::vector<int>{};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"alertd-bench: alertd vs a plain consumer on the embedded Kafka cluster"};
  std::string alertd_bin, kafka_bin, work = ".bench";
  int64_t readings = 3000000;
  int workers = 20000, partitions = 128, brokers = 1;
  int latency_rate = 5000, latency_seconds = 20;
  cli.add_option("--alertd", alertd_bin, "alertd binary")->required();
  cli.add_option("--kafka", kafka_bin, "alertd-kafka binary")->required();
  cli.add_option("--dir", work, "Working directory (state, logs)")->capture_default_str();
  cli.add_option("--readings", readings, "Readings per synthetic throughput phase")->capture_default_str();
  cli.add_option("--workers", workers, "Distinct workers")->capture_default_str();
  cli.add_option("--partitions", partitions, "Partitions per topic (the mock cluster keeps ~5 MiB each)")
      ->capture_default_str();
  cli.add_option("--brokers", brokers,
                 "Brokers of the embedded cluster: librdkafka sends one Produce request per partition, at most 5 in "
                 "flight per broker, so a commit's changelog write over many partitions takes fewer round trips "
                 "with more brokers")
      ->capture_default_str()
      ->check(CLI::Range(1, 32));
  std::vector<std::string> alertd_flags;
  cli.add_option("--alertd-flag", alertd_flags, "Extra flag for alertd (repeatable), e.g. --alertd-flag=--no-sync");
  cli.add_option("--latency-rate", latency_rate, "Readings/s during the latency phase")->capture_default_str();
  cli.add_option("--latency-seconds", latency_seconds, "Length of the latency phase")->capture_default_str();
  int64_t state_cost_readings = 200000;
  int sparse_workers = 20000, dense_workers = 200;
  cli.add_option("--state-cost-readings", state_cost_readings,
                 "Readings of each state-cost run (sparse and dense workers, same total; 0 = skip)")
      ->capture_default_str();
  cli.add_option("--sparse-workers", sparse_workers, "Workers of the sparse state-cost run")->capture_default_str();
  cli.add_option("--dense-workers", dense_workers, "Workers of the dense state-cost run")->capture_default_str();
  int session_timeout_ms = 3000;
  cli.add_option("--failover-session-timeout-ms", session_timeout_ms,
                 "Session timeout of the failover's two instances (0 = skip the failover)")
      ->capture_default_str();
  int64_t failover_readings = 100000;
  cli.add_option("--failover-readings", failover_readings,
                 "Readings graded before the failover: the state the moved partitions carry")
      ->capture_default_str();
  std::string sim_bin, workload = "both", out;
  cli.add_option("--sim", sim_bin, "alertd-sim binary (the realistic workload)");
  cli.add_option("--workload", workload, "realistic: alertd-sim's population and mix; synthetic: the bench's own "
                                         "stream (--readings); both")
      ->check(CLI::IsMember({"realistic", "synthetic", "both"}))
      ->capture_default_str();
  cli.add_option("--out", out, "Where figures.csv, series.csv and plot.png go (default: --dir)");
  RealisticOptions ro;
  cli.add_option("--repetitions", ro.repetitions, "Runs of each realistic measurement; each figure is their median")
      ->capture_default_str()
      ->check(CLI::Range(1, 99));
  cli.add_option("--days", ro.days, "Days of history alertd-sim writes (realistic)")
      ->capture_default_str()
      ->check(CLI::Range(1, 60));
  cli.add_option("--readings-per-day", ro.readings_per_day, "alertd-sim's self-tests per worker per day (realistic)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  cli.add_option("--memory-workers", ro.memory_workers,
                 "Workers of the memory and restart run (the issue's 1000000; long); 0 = not run")
      ->capture_default_str()
      ->check(CLI::Range(0, 9999999));
  cli.add_option("--memory-readings-per-day", ro.memory_readings_per_day,
                 "alertd-sim's self-tests per worker per day in the memory run (its readings must fit the "
                 "embedded cluster's ~5 MiB per partition)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  CLI11_PARSE(cli, argc, argv);
  const bool synthetic = workload != "realistic", realistic = workload != "synthetic";
  if (realistic && sim_bin.empty()) Die("--sim: the realistic workload needs the alertd-sim binary");
  if (out.empty()) out = work;
  KillChildrenOnSignals();
  // Line by line even into a pipe or file (`make bench | tee`): a long run shows where it is.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (synthetic && (sparse_workers < 1 || dense_workers < 1 || std::max(sparse_workers, dense_workers) > workers)) {
    Die("--sparse-workers and --dense-workers must be between 1 and --workers (the roster of profiles)");
  }

  fs::remove_all(work);
  fs::create_directories(work);
  // Every topic an alertd of the bench reads or writes, changelogs included: one the mock cluster
  // creates on first use has 4 partitions, and alertd refuses (exit 2) a changelog not co-partitioned.
  std::string topics =
      "readings,worker-profiles,shifts,escalation-acks,escalations,dead-letters,referrals,readings-raw,readings-nocl,"
      "alertd-state-changelog,alertd-drain-state-changelog";
  for (const auto& t : ScaleOutTopics({"sparse", "dense"}, FailoverStandbys(session_timeout_ms))) topics += "," + t;
  ro.alertd_bin = alertd_bin;
  ro.sim_bin = sim_bin;
  ro.work = work;
  ro.partitions = partitions;
  ro.workers = workers;
  ro.latency_rate = latency_rate;
  ro.latency_seconds = latency_seconds;
  ro.alertd_flags = alertd_flags;
  if (realistic) {
    for (const auto& t : RealisticTopics(ro)) topics += "," + t;
  }
  pid_t kafka = Spawn({kafka_bin, "--brokers", std::to_string(brokers), "--partitions", std::to_string(partitions),
                       "--topics", topics, "--bootstrap-file", work + "/bootstrap"},
                      work + "/kafka.log");
  const std::string bootstrap = WaitForFile(work + "/bootstrap", 30, kafka, work + "/kafka.log");
  ro.bootstrap = bootstrap;
  std::printf("embedded kafka at %s, %d broker%s, %d partitions per topic, %d workers; workload %s\n",
              bootstrap.c_str(), brokers, brokers == 1 ? "" : "s", partitions, workers, workload.c_str());
  Report report;
  Ratios last_lines;
  if (synthetic) {
    const auto synthetic_t0 = Clock::now();
    std::printf("synthetic: %lld readings per phase\n", static_cast<long long>(readings));

    const int64_t now = WallMs();
    auto stream = EncodeStream(readings, workers, now);

    // Phase 1: consume-only.
    double consume_rate = 0, produce_rate_1 = 0;
    {
      const auto c = JoinedConsumer(bootstrap, "bench-consume-only", "readings-raw");
      std::atomic<bool> produced{false};
      const double broker0 = CpuSeconds(kafka);
      auto t0 = Clock::now();
      std::thread producer([&] {
        produce_rate_1 = ProduceAll(bootstrap, "readings-raw", stream);
        produced = true;
      });
      // The C poll API, as alertd's loop uses: the baseline must be the fastest plain consumer, not the
      // C++ wrapper's per-message allocations.
      int64_t n = 0, bytes = 0;
      while (n < readings && Since(t0) < 300) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(c->c_ptr(), 100);
        if (m == nullptr) continue;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          ++n;
          bytes += static_cast<int64_t>(m->len);
        }
        rd_kafka_message_destroy(m);
      }
      consume_rate = n / Since(t0);
      producer.join();
      c->close();
      if (n < readings) Die("consume-only phase saw " + std::to_string(n) + " of " + std::to_string(readings));
      std::printf(
          "consume-only: %lld readings (%.1f MB) at %.0f readings/s (producer %.0f/s); broker used %.2f CPU s\n",
          static_cast<long long>(n), bytes / 1e6, consume_rate, produce_rate_1, CpuSeconds(kafka) - broker0);
    }

    // The roster first: the drain's alertd reads it before its readings, as alertd in phase 3 does.
    ProduceProfiles(bootstrap, workers);

    // Phase 2: drain the topic phase 1 filled, first with a bare consumer, then with alertd. Each rate
    // runs from the first reading seen to the last, so neither counts its start-up or group join.
    double drain_consume_rate = 0, drain_alertd_rate = 0;
    {
      auto c = alertd::kafka::NewConsumer(bootstrap, "bench-drain", {}, nullptr, nullptr);
      if (!c.ok()) Die(std::string(c.status().message()));
      (*c)->subscribe({"readings-raw"});
      int64_t n = 0;
      Clock::time_point first;
      const auto limit = Clock::now();
      while (n < readings && Since(limit) < 300) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll((*c)->c_ptr(), 100);
        if (m == nullptr) continue;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && n++ == 0) first = Clock::now();
        rd_kafka_message_destroy(m);
      }
      drain_consume_rate = n / Since(first);
      (*c)->close();
      if (n < readings) Die("drain phase (consumer) saw " + std::to_string(n) + " of " + std::to_string(readings));
      std::printf("drain, consumer: %lld readings of a full topic at %.0f readings/s\n", static_cast<long long>(n),
                  drain_consume_rate);
    }
    // With the changelog (the default) and without: the ratio is what the changelog costs.
    double drain_alertd_nocl_rate = 0;
    {
      std::vector<std::string> extra{"--group", "alertd-drain", "--readings-topic", "readings-raw"};
      extra.insert(extra.end(), alertd_flags.begin(), alertd_flags.end());
      drain_alertd_rate = DrainWithAlertd(alertd_bin, bootstrap, work, "drain", extra, readings, workers);
      extra[1] = "alertd-drain-nocl";
      extra.push_back("--no-changelog");
      drain_alertd_nocl_rate = DrainWithAlertd(alertd_bin, bootstrap, work, "drain-nocl", extra, readings, workers);
    }

    // Phase 3: alertd, reading while the producer writes; without the changelog first, on its own topic
    // and group, then with it (that instance stays for the latency phase).
    double alertd_nocl_rate = 0;
    {
      std::vector<std::string> extra{"--group", "alertd-nocl", "--readings-topic", "readings-nocl", "--no-changelog"};
      extra.insert(extra.end(), alertd_flags.begin(), alertd_flags.end());
      const Alertd nocl = StartAlertd(alertd_bin, bootstrap, work, "nocl", extra);
      alertd_nocl_rate =
          ReadWhileProduced(nocl, kafka, bootstrap, "readings-nocl", stream, workers, "alertd --no-changelog:", report)
              .rate;
      Stop(nocl.pid);
    }
    const Alertd main_alertd = StartAlertd(alertd_bin, bootstrap, work, "main", alertd_flags);
    const pid_t alertd = main_alertd.pid;
    const int port = main_alertd.port;
    const LiveRun live =
        ReadWhileProduced(main_alertd, kafka, bootstrap, "readings", stream, workers, "alertd:      ", report);
    const double alertd_rate = live.rate;
    const auto& rss = live.rss;
    std::printf("alertd commits: %.0f, mean %.1f ms; engine loop waited %.2f s for commits\n",
                ScrapeMetric(port, "alertd_commit_duration_seconds_count"),
                1000 * ScrapeMetric(port, "alertd_commit_duration_seconds_sum") /
                    std::max(1.0, ScrapeMetric(port, "alertd_commit_duration_seconds_count")),
                ScrapeMetric(port, "alertd_commit_wait_seconds_total"));
    std::printf("alertd RSS by progress:");
    for (double q : {0.25, 0.5, 0.75, 1.0}) {
      auto it = std::find_if(rss.begin(), rss.end(), [q](const auto& s) { return s.first >= q - 1e-9; });
      if (it != rss.end()) std::printf("  %.0f%%: %.1f MiB", q * 100, it->second / 1024.0);
    }
    std::printf("\n");

    // Phase 4: latency at a steady rate. Probe workers get exactly one grade-3 reading each, so each
    // probe opens one R1 episode; the rest of the traffic is ordinary readings.
    std::vector<double> latencies_ms;
    std::vector<std::pair<int64_t, double>> timed_latencies;  // (trigger ms, latency ms) for the series
    {
      // Joined, with start offsets resolved, before the first probe, so a probe's latency is not the
      // time it took this consumer to start.
      const auto c = JoinedConsumerAtEnd(bootstrap, "bench-latency", "escalations");
      std::atomic<int> probes{0};
      // ALERTD_BENCH_TRACE=file: one line per probe (event time, latency ms, ms until alertd produced it,
      // worker) for looking at the tail.
      FILE* trace = std::getenv("ALERTD_BENCH_TRACE") ? std::fopen(std::getenv("ALERTD_BENCH_TRACE"), "w") : nullptr;
      std::thread producer([&] {
        auto p = MakeProducer(bootstrap, /*linger_ms=*/0);
        // An idempotent producer first fetches metadata and a producer id; that start-up is not latency.
        auto warm = alertd::testing::MakeBp("WARMUP", WallMs(), 120, 80);
        Send(*p, "readings", warm.worker_id(), warm.SerializeAsString());
        p->flush(30000);
        ReadingFactory f(workers);
        const auto t0 = Clock::now();
        int64_t i = 0;
        while (Since(t0) < latency_seconds) {
          const int64_t due = static_cast<int64_t>(Since(t0) * latency_rate);
          for (; i < due; ++i) {
            healthgrid::v1::Reading r;
            if (i % 50 == 0) {
              r = alertd::testing::MakeBp("P" + std::to_string(probes.fetch_add(1)), WallMs(), 186, 114);
            } else {
              r = f.Next(i, readings, now);
              r.set_measured_at_ms(WallMs());
            }
            Send(*p, "readings", r.worker_id(), r.SerializeAsString());
          }
          p->poll(1);
        }
        p->flush(60000);
      });
      const auto t0 = Clock::now();
      while (Since(t0) < latency_seconds + 15 &&
             (static_cast<int>(latencies_ms.size()) < probes.load() || Since(t0) < latency_seconds)) {
        std::unique_ptr<RdKafka::Message> m(c->consume(100));
        if (m->err() != RdKafka::ERR_NO_ERROR) continue;
        const int64_t seen = WallMs();
        healthgrid::v1::Escalation e;
        if (!e.ParseFromArray(m->payload(), static_cast<int>(m->len()))) continue;
        if (e.worker_id().rfind("P", 0) == 0 && e.state() == healthgrid::v1::OPEN) {
          latencies_ms.push_back(static_cast<double>(seen - e.trigger_at_ms()));
          timed_latencies.emplace_back(e.trigger_at_ms(), latencies_ms.back());
          // The escalation's Kafka timestamp is when alertd handed it to its producer: the trace
          // splits each latency into alertd's share and the delivery's.
          if (trace) std::fprintf(trace, "%lld %lld %lld %s\n", static_cast<long long>(e.trigger_at_ms()),
                                  static_cast<long long>(seen - e.trigger_at_ms()),
                                  static_cast<long long>(m->timestamp().timestamp - e.trigger_at_ms()),
                                  e.worker_id().c_str());
        }
      }
      producer.join();
      c->close();
      if (trace) std::fclose(trace);
      std::printf("latency at %d readings/s for %d s: %zu of %d probe escalations seen\n", latency_rate,
                  latency_seconds, latencies_ms.size(), probes.load());
      report.SampleLatencies("synthetic latency", timed_latencies);
    }
    const Percentiles lat = Of(latencies_ms);
    const long peak_kb = RssKb(alertd, "VmHWM:");
    Stop(alertd);

    // Phase 5: scale-out.
    ScaleOut so{alertd_bin, bootstrap, work, partitions, workers, now, alertd_flags, kafka, work + "/kafka.log"};
    std::vector<StateCost> costs;
    if (state_cost_readings > 0) {
      costs.push_back(MeasureStateCost(so, "sparse", sparse_workers, state_cost_readings));
      costs.push_back(MeasureStateCost(so, "dense", dense_workers, state_cost_readings));
    }
    std::vector<Failover> failovers;
    for (int standbys : FailoverStandbys(session_timeout_ms)) {
      failovers.push_back(MeasureFailover(so, session_timeout_ms, standbys, workers, failover_readings));
    }
    if (!realistic) Stop(kafka);

    std::printf("\n");
    std::printf("consume-only readings/s:          %.0f\n", consume_rate);
    std::printf("alertd readings/s:                %.0f (--no-changelog: %.0f)\n", alertd_rate, alertd_nocl_rate);
    std::printf("drain consume-only readings/s:    %.0f\n", drain_consume_rate);
    std::printf("drain alertd readings/s:          %.0f (--no-changelog: %.0f)\n", drain_alertd_rate,
                drain_alertd_nocl_rate);
    std::printf("produce->escalation latency p50:  %.0f ms\n", lat.p50);
    std::printf("produce->escalation latency p99:  %.0f ms (max %.0f ms)\n", lat.p99, lat.max);
    std::printf("alertd peak RSS:                  %.1f MiB\n", peak_kb / 1024.0);
    // Concurrent: both read while the producer writes, so both rates lean on the producer's. Drain: both
    // read the same full topic, so the ratio is alertd's cost against a bare consumer's.
    std::printf("ratio alertd/consume-only, concurrent (both read while the producer writes): %.2f\n",
                alertd_rate / consume_rate);
    std::printf("ratio alertd/consume-only, drain (both read the same full topic):           %.2f\n",
                drain_alertd_rate / drain_consume_rate);
    std::printf("ratio changelog on/off, concurrent:                                           %.2f\n",
                alertd_rate / alertd_nocl_rate);
    std::printf("ratio changelog on/off, drain:                                                %.2f\n",
                drain_alertd_rate / drain_alertd_nocl_rate);
    for (const StateCost& c : costs) {
      std::printf("%-6s (%5d workers): changelog %.0f B/reading, RocksDB disk writes %.0f B/reading, restore "
                  "%.0f records/s %.1f MiB/s\n",
                  c.name.c_str(), c.workers, c.changelog_bytes_per_reading, c.disk_bytes_per_reading,
                  c.restore_records / c.restore_seconds, c.restore_bytes / 1048576 / c.restore_seconds);
    }
    for (const Failover& f : failovers) {
      std::printf("failover, %d standby (kill -9, session.timeout.ms=%d): moved partitions processing again after "
                  "%.2f s (last probe escalation), survivor restored all after %.2f s, %.0f changelog records read\n",
                  f.standby_replicas, f.session_timeout_ms, f.last_probe_s, f.restored_s, f.restored_records);
    }
    report.Add("synthetic: consume-only live (while produced)", "readings/s", consume_rate);
    report.Add("synthetic: alertd live (while produced)", "readings/s", alertd_rate);
    report.Add("synthetic: alertd live --no-changelog", "readings/s", alertd_nocl_rate);
    report.Add("synthetic: consume-only drain", "readings/s", drain_consume_rate);
    report.Add("synthetic: alertd drain", "readings/s", drain_alertd_rate);
    report.Add("synthetic: alertd drain --no-changelog", "readings/s", drain_alertd_nocl_rate);
    report.Add("synthetic: latency p50", "ms", lat.p50);
    report.Add("synthetic: latency p99", "ms", lat.p99);
    report.Add("synthetic: alertd peak RSS", "MiB", peak_kb / 1024.0);
    last_lines = {drain_alertd_rate / drain_consume_rate, alertd_rate / consume_rate};
    std::printf("the synthetic phases took %.0f s\n", Since(synthetic_t0));
  }  // synthetic

  if (realistic) {
    std::printf("\nrealistic workload: alertd-sim, %d workers, %d days at %g readings/day, %d repetitions\n", workers,
                ro.days, ro.readings_per_day, ro.repetitions);
    const auto realistic_t0 = Clock::now();
    last_lines = RunRealistic(ro, report);
    std::printf("the realistic phases took %.0f s\n", Since(realistic_t0));
    Stop(kafka);
  }

  fs::create_directories(out);
  const std::string figures = out + "/figures.csv", series = out + "/series.csv", plot = out + "/plot.png";
  report.WriteFigures(figures);
  report.WriteSeries(series);
  const bool plotted = report.Plot(series, plot, out + "/gnuplot.log");
  std::printf("\nfigures (median over the runs, min..max):\n");
  report.PrintFigures();
  std::printf("every figure: %s\ntime series: %s\n", figures.c_str(), series.c_str());
  if (plotted) std::printf("plot: %s\n", plot.c_str());
  if (realistic) {
    TargetInputs in{.memory_budget_mib = MemoryBudgetOf(alertd_flags, alertd::app::kDefaultMemoryBudgetMiB),
                    .cores = std::thread::hardware_concurrency(),
                    .plotted = plotted,
                    .files = {"figures.csv", "series.csv"}};  // in the directory printed above
    if (plotted) in.files.push_back("plot.png");
    const std::string targets = FormatTargets(JudgeTargets(report, RealisticFigures(ro), ro, in));
    std::printf("\ntargets (the realistic workload, median over the runs):\n%s", targets.c_str());
    std::ofstream(out + "/targets.txt") << targets;
    std::printf("the targets' verdicts: %s/targets.txt\n", out.c_str());
  }
  std::printf("drain ratio alertd/consume-only: %.2f\n", last_lines.drain);
  std::printf("live ratio alertd/consume-only: %.2f\n", last_lines.live);
  return 0;
}
