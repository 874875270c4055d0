// alertd-bench: throughput of alertd against a plain librdkafka consumer on the same embedded cluster,
// produce-to-escalation latency at a steady rate, and alertd's memory over the run.
//
// Phases, on topics of the same embedded cluster (one alertd-kafka process):
//   1. consume-only: a producer thread writes N readings while a bare KafkaConsumer counts them;
//   2. drain: the topic phase 1 filled is read again from the start, full before either reader
//      starts, by a bare consumer of a new group and then by an alertd of its own (fresh state,
//      group and process, started after the topic is full): no producer in the way, so this is the
//      readers' own speed, which phases 1 and 3 cannot show (there the consumer keeps pace with the
//      producer, so its rate is mostly the producer's);
//   3. alertd: the same producer writes N readings to `readings` while alertd (its own process)
//      grades them and commits; progress and RSS come from its /metrics and /proc;
//   4. latency: readings at a fixed rate, a share of them grade 3 for workers with no open episode;
//      latency = time the R1 escalation is consumed - time its reading was produced.
#include <fcntl.h>
#include <httplib.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "engine/kafka/clients.h"
#include "health.pb.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int64_t WallMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::vector<pid_t>& Children();

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "alertd-bench: %s\n", what.c_str());
  for (pid_t p : Children()) kill(p, SIGKILL);
  std::exit(1);
}

// Children to take down if the bench itself is interrupted, so no cluster or engine outlives it.
std::vector<pid_t> g_children;
std::vector<pid_t>& Children() { return g_children; }

extern "C" void OnSignal(int sig) {
  for (pid_t p : g_children) kill(p, SIGKILL);
  signal(sig, SIG_DFL);
  raise(sig);
}

pid_t Spawn(std::vector<std::string> argv, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) Die("cannot start " + argv[0]);
  posix_spawn_file_actions_destroy(&fa);
  g_children.push_back(pid);
  return pid;
}

void Stop(pid_t pid) {
  kill(pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 200 && waitpid(pid, &status, WNOHANG) == 0; ++i) usleep(50000);
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
}

std::string WaitForFile(const std::string& path, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    std::ifstream in(path);
    std::string s;
    if (std::getline(in, s) && !s.empty()) return s;
    usleep(50000);
  }
  Die("timed out waiting for " + path);
}

long RssKb(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::strlen(field)));
  }
  return -1;
}

// User + system CPU seconds a process (or, with `task`, one of its threads) has used so far.
double CpuSeconds(pid_t pid, pid_t task = 0) {
  std::ifstream in("/proc/" + std::to_string(pid) + (task ? "/task/" + std::to_string(task) : std::string()) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(all.substr(all.rfind(')') + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; fields >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(f);
    if (i == 15) break;
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double ScrapeMetric(int port, const std::string& name) {
  httplib::Client c("127.0.0.1", port);
  auto res = c.Get("/metrics");
  if (!res) return -1;
  std::istringstream in(res->body);
  std::string line;
  double sum = 0;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) == 0 && (line[name.size()] == ' ' || line[name.size()] == '{')) {
      sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return sum;
}

// A population of workers and their readings, ~25% hypertensive, like the simulator's.
class ReadingFactory {
 public:
  static constexpr int64_t kSpanMs = 14LL * 86400000;

  explicit ReadingFactory(int workers) : workers_(workers), rng_(42) {}

  std::string WorkerId(int w) const {
    char id[16];
    std::snprintf(id, sizeof id, "B%06d", w);
    return id;
  }

  // The i-th reading of the stream: worker round-robin, event time spread over the last 14 days. The
  // span is twice the 7-day window, so in the second half of the stream every worker's window prunes
  // as fast as it grows: the steady state in which memory must stay flat.
  healthgrid::v1::Reading Next(int64_t i, int64_t total, int64_t now_ms) {
    const int w = static_cast<int>(i % workers_);
    const int64_t per_worker = std::max<int64_t>(1, total / workers_);
    const int64_t step = kSpanMs / per_worker;
    const bool hypertensive = w % 4 == 0;
    std::normal_distribution<double> sys(hypertensive ? 162 : 121, 9), dia(hypertensive ? 100 : 77, 6);
    int s = static_cast<int>(sys(rng_)), d = static_cast<int>(dia(rng_));
    d = std::min(d, s - 20);
    return Bp(WorkerId(w), now_ms - kSpanMs + (i / workers_) * step, s, d);
  }

  static healthgrid::v1::Reading Bp(const std::string& worker, int64_t at, int s, int d) {
    healthgrid::v1::Reading r;
    r.set_worker_id(worker);
    r.set_device_id("BENCH-DEV");
    r.set_station_id("ST-BENCH");
    r.set_measured_at_ms(at);
    r.set_context(healthgrid::v1::SELF_TEST);
    r.mutable_blood_pressure()->set_systolic_mmhg(s);
    r.mutable_blood_pressure()->set_diastolic_mmhg(d);
    r.mutable_blood_pressure()->set_pulse_bpm(70);
    return r;
  }

 private:
  int workers_;
  std::mt19937_64 rng_;
};

std::unique_ptr<RdKafka::Producer> MakeProducer(const std::string& bootstrap) {
  auto p = alertd::kafka::NewProducer(bootstrap, {{"linger.ms", "20"}, {"batch.num.messages", "10000"},
                                                  {"queue.buffering.max.messages", "1000000"}},
                                      nullptr, nullptr);
  if (!p.ok()) Die(std::string(p.status().message()));
  return std::move(*p);
}

void Send(RdKafka::Producer& p, const std::string& topic, const std::string& key, const std::string& value) {
  while (p.produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                   value.size(), key.data(), key.size(), 0, nullptr) == RdKafka::ERR__QUEUE_FULL) {
    p.poll(10);
  }
}

// Pre-encodes the stream so the producer thread measures Kafka, not protobuf encoding.
std::vector<std::pair<std::string, std::string>> EncodeStream(int64_t n, int workers, int64_t now_ms) {
  ReadingFactory f(workers);
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    auto r = f.Next(i, n, now_ms);
    out.emplace_back(r.worker_id(), r.SerializeAsString());
  }
  return out;
}

double ProduceAll(const std::string& bootstrap, const std::string& topic,
                  const std::vector<std::pair<std::string, std::string>>& stream) {
  auto p = MakeProducer(bootstrap);
  auto t0 = Clock::now();
  for (const auto& [k, v] : stream) {
    Send(*p, topic, k, v);
    p->poll(0);
  }
  p->flush(120000);
  return stream.size() / Since(t0);
}

// One profile per worker on `worker-profiles`, so alertd grades the readings against a known roster.
void ProduceProfiles(const std::string& bootstrap, int workers) {
  auto p = MakeProducer(bootstrap);
  ReadingFactory f(workers);
  for (int w = 0; w < workers; ++w) {
    healthgrid::v1::WorkerProfile prof;
    prof.set_worker_id(f.WorkerId(w));
    prof.set_unit_id("U" + std::to_string(1 + w % 17));
    prof.set_grid_id(prof.unit_id() + "-G" + std::to_string(w % 12));
    prof.mutable_health_manager()->set_id("HM-" + prof.grid_id());
    prof.set_active(true);
    Send(*p, "worker-profiles", prof.worker_id(), prof.SerializeAsString());
    p->poll(0);
  }
  p->flush(60000);
}

std::vector<std::string> AlertdArgv(const std::string& alertd_bin, const std::string& bootstrap, const std::string& db,
                                    const std::string& port_file, const std::vector<std::string>& extra) {
  std::vector<std::string> argv{alertd_bin,  "--bootstrap",      bootstrap, "--db",        db,    "--http",
                                "127.0.0.1:0", "--http-port-file", port_file, "--log-level", "warn"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"alertd-bench: alertd vs a plain consumer on the embedded Kafka cluster"};
  std::string alertd_bin, kafka_bin, work = ".bench";
  int64_t readings = 3000000;
  int workers = 20000, partitions = 128;
  int latency_rate = 5000, latency_seconds = 20;
  cli.add_option("--alertd", alertd_bin, "alertd binary")->required();
  cli.add_option("--kafka", kafka_bin, "alertd-kafka binary")->required();
  cli.add_option("--dir", work, "Working directory (state, logs)")->capture_default_str();
  cli.add_option("--readings", readings, "Readings per throughput phase")->capture_default_str();
  cli.add_option("--workers", workers, "Distinct workers")->capture_default_str();
  cli.add_option("--partitions", partitions, "Partitions per topic (the mock cluster keeps ~5 MiB each)")
      ->capture_default_str();
  std::vector<std::string> alertd_flags;
  cli.add_option("--alertd-flag", alertd_flags, "Extra flag for alertd (repeatable), e.g. --alertd-flag=--no-sync");
  cli.add_option("--latency-rate", latency_rate, "Readings/s during the latency phase")->capture_default_str();
  cli.add_option("--latency-seconds", latency_seconds, "Length of the latency phase")->capture_default_str();
  CLI11_PARSE(cli, argc, argv);
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);

  fs::remove_all(work);
  fs::create_directories(work);
  const std::string topics = "readings,worker-profiles,shifts,escalation-acks,escalations,dead-letters,readings-raw";
  pid_t kafka = Spawn({kafka_bin, "--partitions", std::to_string(partitions), "--topics", topics, "--bootstrap-file",
                       work + "/bootstrap"},
                      work + "/kafka.log");
  const std::string bootstrap = WaitForFile(work + "/bootstrap", 30);
  std::printf("embedded kafka at %s, %d partitions per topic, %lld readings per phase, %d workers\n",
              bootstrap.c_str(), partitions, static_cast<long long>(readings), workers);

  const int64_t now = WallMs();
  auto stream = EncodeStream(readings, workers, now);

  // Phase 1: consume-only.
  double consume_rate = 0, produce_rate_1 = 0;
  {
    auto c = alertd::kafka::NewConsumer(bootstrap, "bench-consume-only", {}, nullptr, nullptr);
    if (!c.ok()) Die(std::string(c.status().message()));
    (*c)->subscribe({"readings-raw"});
    // Join the group before the clock starts: alertd has joined by the time its phase starts too.
    std::vector<RdKafka::TopicPartition*> assigned;
    for (int i = 0; i < 300 && assigned.empty(); ++i) {
      std::unique_ptr<RdKafka::Message>((*c)->consume(100));
      (*c)->assignment(assigned);
    }
    RdKafka::TopicPartition::destroy(assigned);
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
      rd_kafka_message_t* m = rd_kafka_consumer_poll((*c)->c_ptr(), 100);
      if (m == nullptr) continue;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++n;
        bytes += static_cast<int64_t>(m->len);
      }
      rd_kafka_message_destroy(m);
    }
    consume_rate = n / Since(t0);
    producer.join();
    (*c)->close();
    if (n < readings) Die("consume-only phase saw " + std::to_string(n) + " of " + std::to_string(readings));
    std::printf("consume-only: %lld readings (%.1f MB) at %.0f readings/s (producer %.0f/s); broker used %.2f CPU s\n",
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
  {
    const std::string port_file = work + "/alertd-drain.port";
    std::vector<std::string> extra{"--group", "alertd-drain", "--readings-topic", "readings-raw"};
    extra.insert(extra.end(), alertd_flags.begin(), alertd_flags.end());
    const pid_t drainer = Spawn(AlertdArgv(alertd_bin, bootstrap, work + "/db-drain", port_file, extra),
                                work + "/alertd-drain.log");
    const int port = std::stoi(WaitForFile(port_file, 30));
    // The first reading graded starts the clock; the last one committed stops it. Profiles come first
    // (alertd holds a partition's readings until its profiles are in), and are not counted.
    const auto limit = Clock::now();
    while (ScrapeMetric(port, "alertd_readings_total") <= 0 && Since(limit) < 120) usleep(20000);
    const auto first = Clock::now();
    double done = 0;
    while (done < readings && Since(limit) < 600) {
      usleep(100000);
      done = ScrapeMetric(port, "alertd_committed_records_total") - workers;
    }
    drain_alertd_rate = done / Since(first);
    Stop(drainer);
    if (done < readings) Die("drain phase (alertd): committed " + std::to_string(done) + " of " + std::to_string(readings));
    std::printf("drain, alertd:   %lld readings of a full topic at %.0f readings/s (in %.2f s)\n",
                static_cast<long long>(readings), drain_alertd_rate, Since(first));
  }

  // Phase 3: alertd, reading while the producer writes.
  const std::string port_file = work + "/alertd.port";
  pid_t alertd = Spawn(AlertdArgv(alertd_bin, bootstrap, work + "/db", port_file, alertd_flags), work + "/alertd.log");
  const int port = std::stoi(WaitForFile(port_file, 30));
  // Wait for the profiles to be committed so the phase measures readings only.
  while (ScrapeMetric(port, "alertd_committed_records_total") < workers) usleep(50000);
  const double base = ScrapeMetric(port, "alertd_committed_records_total");

  double alertd_rate = 0, produce_rate_2 = 0;
  std::vector<std::pair<double, long>> rss;  // (progress fraction, RSS kB)
  {
    auto t0 = Clock::now();
    const double cpu0 = CpuSeconds(alertd);
    const double main0 = CpuSeconds(alertd, alertd);
    const double broker0 = CpuSeconds(kafka);
    std::thread producer([&] { produce_rate_2 = ProduceAll(bootstrap, "readings", stream); });
    double done = 0;
    while (done < readings && Since(t0) < 600) {
      usleep(250000);  // each scrape costs alertd a serialization of its registry
      done = ScrapeMetric(port, "alertd_committed_records_total") - base;
      rss.emplace_back(done / readings, RssKb(alertd, "VmRSS:"));
    }
    alertd_rate = done / Since(t0);
    producer.join();
    if (done < readings) Die("alertd phase: committed " + std::to_string(done) + " of " + std::to_string(readings));
    const double cpu = CpuSeconds(alertd) - cpu0;
    const double main_cpu = CpuSeconds(alertd, alertd) - main0;
    std::printf("alertd:       %lld readings at %.0f readings/s (producer %.0f/s) in %.2f s; alertd used %.2f CPU s "
                "(%.2f us/reading; engine thread %.2f s); broker used %.2f CPU s\n",
                static_cast<long long>(readings), alertd_rate, produce_rate_2, Since(t0), cpu, cpu * 1e6 / readings,
                main_cpu, CpuSeconds(kafka) - broker0);
  }
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
  {
    auto c = alertd::kafka::NewConsumer(bootstrap, "bench-latency", {{"auto.offset.reset", "latest"}}, nullptr, nullptr);
    if (!c.ok()) Die(std::string(c.status().message()));
    (*c)->subscribe({"escalations"});
    // Join the group and resolve the start offsets before the first probe, so a probe's latency is
    // not the time it took this consumer to start.
    std::vector<RdKafka::TopicPartition*> assigned;
    for (int i = 0; i < 300 && assigned.empty(); ++i) {
      std::unique_ptr<RdKafka::Message>((*c)->consume(100));
      (*c)->assignment(assigned);
    }
    for (int i = 0; i < 100; ++i) {
      (*c)->position(assigned);
      if (std::all_of(assigned.begin(), assigned.end(), [](auto* tp) { return tp->offset() >= 0; })) break;
      std::unique_ptr<RdKafka::Message>((*c)->consume(100));
    }
    RdKafka::TopicPartition::destroy(assigned);
    std::atomic<int> probes{0};
    // ALERTD_BENCH_TRACE=file: one line per probe (event time, latency ms, worker) for looking at the tail.
    FILE* trace = std::getenv("ALERTD_BENCH_TRACE") ? std::fopen(std::getenv("ALERTD_BENCH_TRACE"), "w") : nullptr;
    std::thread producer([&] {
      auto p = MakeProducer(bootstrap);
      // An idempotent producer first fetches metadata and a producer id; that start-up is not latency.
      auto warm = ReadingFactory::Bp("WARMUP", WallMs(), 120, 80);
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
            r = ReadingFactory::Bp("P" + std::to_string(probes.fetch_add(1)), WallMs(), 186, 114);
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
      std::unique_ptr<RdKafka::Message> m((*c)->consume(100));
      if (m->err() != RdKafka::ERR_NO_ERROR) continue;
      const int64_t seen = WallMs();
      healthgrid::v1::Escalation e;
      if (!e.ParseFromArray(m->payload(), static_cast<int>(m->len()))) continue;
      if (e.worker_id().rfind("P", 0) == 0 && e.state() == healthgrid::v1::OPEN) {
        latencies_ms.push_back(static_cast<double>(seen - e.trigger_at_ms()));
        if (trace) std::fprintf(trace, "%lld %lld %s\n", static_cast<long long>(e.trigger_at_ms()),
                                static_cast<long long>(seen - e.trigger_at_ms()), e.worker_id().c_str());
      }
    }
    producer.join();
    (*c)->close();
    if (trace) std::fclose(trace);
    std::printf("latency at %d readings/s for %d s: %zu of %d probe escalations seen\n", latency_rate, latency_seconds,
                latencies_ms.size(), probes.load());
  }
  const Percentiles lat = Of(latencies_ms);
  const long peak_kb = RssKb(alertd, "VmHWM:");
  Stop(alertd);
  Stop(kafka);

  std::printf("\n");
  std::printf("consume-only readings/s:          %.0f\n", consume_rate);
  std::printf("alertd readings/s:                %.0f\n", alertd_rate);
  std::printf("drain consume-only readings/s:    %.0f\n", drain_consume_rate);
  std::printf("drain alertd readings/s:          %.0f\n", drain_alertd_rate);
  std::printf("produce->escalation latency p50:  %.0f ms\n", lat.p50);
  std::printf("produce->escalation latency p99:  %.0f ms (max %.0f ms)\n", lat.p99, lat.max);
  std::printf("alertd peak RSS:                  %.1f MiB\n", peak_kb / 1024.0);
  // Concurrent: both read while the producer writes, so both rates lean on the producer's. Drain: both
  // read the same full topic, so the ratio is alertd's cost against a bare consumer's.
  std::printf("ratio alertd/consume-only, concurrent (both read while the producer writes): %.2f\n",
              alertd_rate / consume_rate);
  std::printf("ratio alertd/consume-only, drain (both read the same full topic):           %.2f\n",
              drain_alertd_rate / drain_consume_rate);
  return 0;
}
