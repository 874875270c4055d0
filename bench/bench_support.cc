// What alertd-bench's phases share (see bench_support.h).
#include "bench/bench_support.h"

#include <fmt/format.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "engine/kafka/clients.h"
#include "tests/support/records.h"
#include "engine/tool/child_process.h"

namespace alertd::bench {
namespace {

namespace fs = std::filesystem;

std::vector<pid_t> g_children;

void Forget(pid_t pid) { g_children.erase(std::remove(g_children.begin(), g_children.end(), pid), g_children.end()); }

extern "C" void OnSignal(int sig) {
  for (pid_t p : g_children) kill(p, SIGKILL);
  signal(sig, SIG_DFL);
  raise(sig);
}

std::string LastLine(const std::string& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

}  // namespace

int64_t WallMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void Die(const std::string& what) {
  std::fflush(stdout);
  std::fprintf(stderr, "alertd-bench: %s\n", what.c_str());
  for (pid_t p : g_children) kill(p, SIGKILL);
  std::exit(1);
}

void KillChildrenOnSignals() {
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
}

pid_t Spawn(std::vector<std::string> argv, const std::string& log) {
  const absl::StatusOr<pid_t> pid = tool::SpawnWithLog(std::move(argv), log, tool::ChildLog::kTruncate);
  if (!pid.ok()) Die(std::string(pid.status().message()));
  g_children.push_back(*pid);
  return *pid;
}

int RunToEnd(std::vector<std::string> argv, const std::string& log, int seconds) {
  const std::string what = argv.empty() ? std::string() : argv[0] + (argv.size() > 1 ? " " + argv[1] : "");
  const pid_t pid = Spawn(std::move(argv), log);
  int status = 0;
  for (int i = 0; waitpid(pid, &status, WNOHANG) == 0; ++i) {
    if (i >= seconds * 20) Die(what + " still running after " + std::to_string(seconds) + " s (log: " + log + ")");
    usleep(50000);
  }
  Forget(pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void Stop(pid_t pid) {
  kill(pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 200 && waitpid(pid, &status, WNOHANG) == 0; ++i) usleep(50000);
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  Forget(pid);
}

void Kill9(pid_t pid) {
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  Forget(pid);
}

void CheckAlive(pid_t pid, const std::string& log) {
  int status = 0;
  if (pid <= 0 || waitpid(pid, &status, WNOHANG) != pid) return;
  Forget(pid);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  Die("a child exited (code " + std::to_string(code) + "), " + log + ": " + LastLine(log));
}

std::string WaitForFile(const std::string& path, int seconds, pid_t pid, const std::string& log) {
  for (int i = 0; i < seconds * 20; ++i) {
    std::ifstream in(path);
    std::string s;
    if (std::getline(in, s) && !s.empty()) return s;
    CheckAlive(pid, log);
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

double CpuSeconds(pid_t pid, pid_t task) {
  std::ifstream in("/proc/" + std::to_string(pid) + (task ? "/task/" + std::to_string(task) : std::string()) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t name_end = all.rfind(')');
  if (name_end == std::string::npos || name_end + 2 > all.size()) return 0;  // the thread has ended
  std::istringstream fields(all.substr(name_end + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; fields >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(f);
    if (i == 15) break;
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

ThreadKind KindOfThread(pid_t pid, pid_t tid, const std::string& name) {
  if (tid == pid) return ThreadKind::kEngine;
  if (name.rfind("alertd-commit", 0) == 0) return ThreadKind::kCommitter;
  if (name.rfind("rdk:", 0) == 0) return ThreadKind::kKafka;
  if (name.rfind("rocksdb:", 0) == 0) return ThreadKind::kRocksDb;
  return ThreadKind::kOther;
}

CpuByThread CpuSecondsByThread(pid_t pid) {
  CpuByThread cpu{};
  double live = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    const pid_t tid = static_cast<pid_t>(std::stol(entry.path().filename().string()));
    std::ifstream comm(entry.path() / "comm");
    std::string name;
    std::getline(comm, name);
    const double seconds = CpuSeconds(pid, tid);
    cpu[static_cast<std::size_t>(KindOfThread(pid, tid, name))] += seconds;
    live += seconds;
  }
  // Read after the threads, so that it holds all they had used: what it has more is the ended threads'.
  const double total = CpuSeconds(pid);
  cpu[static_cast<std::size_t>(ThreadKind::kOther)] += std::max(0.0, total - live);
  return cpu;
}

std::string FormatByThread(const CpuByThread& values) {
  std::string out;
  for (std::size_t k = 0; k < values.size(); ++k) {
    out += fmt::format("{}{} {:.2f}", k == 0 ? "" : ", ", kThreadKindNames[k], values[k]);
  }
  return out;
}

int64_t DiskWriteBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/io");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("write_bytes:", 0) == 0) return std::stoll(line.substr(12));
  }
  Die("no write_bytes in /proc/" + std::to_string(pid) + "/io (kernel without I/O accounting?)");
}

int64_t DirBytes(const std::string& dir) {
  int64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    // A file RocksDB deletes between listing and stat (an obsolete WAL or SST) no longer counts.
    if (it->is_regular_file(size_ec)) {
      const auto size = it->file_size(size_ec);
      if (!size_ec) total += static_cast<int64_t>(size);
    }
  }
  return total;
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

int HttpStatus(int port, const std::string& path) {
  httplib::Client c("127.0.0.1", port);
  auto res = c.Get(path);
  return res ? res->status : 0;
}

std::string ReadingFactory::WorkerId(int w) const {
  char id[16];
  std::snprintf(id, sizeof id, "B%06d", w);
  return id;
}

healthgrid::v1::Reading ReadingFactory::Next(int64_t i, int64_t total, int64_t now_ms) {
  const int w = static_cast<int>(i % workers_);
  const int64_t per_worker = std::max<int64_t>(1, total / workers_);
  const int64_t step = kSpanMs / per_worker;
  const bool hypertensive = w % 4 == 0;
  std::normal_distribution<double> sys(hypertensive ? 162 : 121, 9), dia(hypertensive ? 100 : 77, 6);
  int s = static_cast<int>(sys(rng_)), d = static_cast<int>(dia(rng_));
  d = std::min(d, s - 20);
  return testing::MakeBp(WorkerId(w), now_ms - kSpanMs + (i / workers_) * step, s, d);
}

std::unique_ptr<RdKafka::KafkaConsumer> JoinedConsumer(const std::string& bootstrap, const std::string& group,
                                                       const std::string& topic,
                                                       const std::map<std::string, std::string>& extra) {
  auto c = alertd::kafka::NewConsumer(bootstrap, group, extra, nullptr, nullptr);
  if (!c.ok()) Die(std::string(c.status().message()));
  (*c)->subscribe({topic});
  std::vector<RdKafka::TopicPartition*> assigned;
  for (int i = 0; i < 300 && assigned.empty(); ++i) {
    std::unique_ptr<RdKafka::Message>((*c)->consume(100));
    (*c)->assignment(assigned);
  }
  RdKafka::TopicPartition::destroy(assigned);
  return std::move(*c);
}

std::unique_ptr<RdKafka::KafkaConsumer> JoinedConsumerAtEnd(const std::string& bootstrap, const std::string& group,
                                                            const std::string& topic) {
  auto c = JoinedConsumer(bootstrap, group, topic,
                          {{"auto.offset.reset", "latest"}, {"fetch.wait.max.ms", std::to_string(kMockFetchWaitMs)}});
  std::vector<RdKafka::TopicPartition*> assigned;
  c->assignment(assigned);
  for (int i = 0; i < 100; ++i) {
    c->position(assigned);
    if (std::all_of(assigned.begin(), assigned.end(), [](auto* tp) { return tp->offset() >= 0; })) break;
    std::unique_ptr<RdKafka::Message>(c->consume(100));
  }
  RdKafka::TopicPartition::destroy(assigned);
  return c;
}

std::unique_ptr<RdKafka::Producer> MakeProducer(const std::string& bootstrap, int linger_ms) {
  auto p = alertd::kafka::NewProducer(bootstrap, {{"linger.ms", std::to_string(linger_ms)}, {"batch.num.messages", "10000"},
                                                  {"queue.buffering.max.messages", "1000000"}},
                                      nullptr, nullptr);
  if (!p.ok()) Die(std::string(p.status().message()));
  return std::move(*p);
}

void Send(RdKafka::Producer& p, const std::string& topic, const std::string& key, const std::string& value,
          int32_t partition) {
  while (p.produce(topic, partition < 0 ? RdKafka::Topic::PARTITION_UA : partition, RdKafka::Producer::RK_MSG_COPY,
                   const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0,
                   nullptr) == RdKafka::ERR__QUEUE_FULL) {
    p.poll(10);
  }
}

EncodedStream EncodeStream(int64_t n, int workers, int64_t now_ms) {
  ReadingFactory f(workers);
  EncodedStream out;
  out.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    auto r = f.Next(i, n, now_ms);
    out.emplace_back(r.worker_id(), r.SerializeAsString());
  }
  return out;
}

double ProduceAll(const std::string& bootstrap, const std::string& topic, const EncodedStream& stream) {
  auto p = MakeProducer(bootstrap);
  auto t0 = Clock::now();
  for (const auto& [k, v] : stream) {
    Send(*p, topic, k, v);
    p->poll(0);
  }
  p->flush(120000);
  return stream.size() / Since(t0);
}

void ProduceProfiles(const std::string& bootstrap, int workers) {
  auto p = MakeProducer(bootstrap);
  ReadingFactory f(workers);
  for (int w = 0; w < workers; ++w) {
    healthgrid::v1::WorkerProfile prof;
    prof.set_worker_id(f.WorkerId(w));
    prof.set_unit_id("U" + std::to_string(1 + w % 17));
    prof.set_grid_id(prof.unit_id() + "-G" + std::to_string(w % 12));
    prof.mutable_health_manager()->set_id("HM-" + prof.grid_id());
    Send(*p, "worker-profiles", prof.worker_id(), prof.SerializeAsString());
    p->poll(0);
  }
  p->flush(60000);
}

std::vector<std::string> AlertdArgv(const std::string& alertd_bin, const std::string& bootstrap, const std::string& db,
                                    const std::string& port_file, const std::vector<std::string>& extra) {
  std::vector<std::string> argv{alertd_bin, "--bootstrap", bootstrap, "--db", db, "--http", "127.0.0.1:0",
                                "--http-port-file", port_file};
  // warn unless the phase reads alertd's info lines (the failover's assigned partitions).
  if (std::find(extra.begin(), extra.end(), "--log-level") == extra.end()) argv.insert(argv.end(), {"--log-level", "warn"});
  argv.insert(argv.end(), {"--kafka-property", "fetch.wait.max.ms=" + std::to_string(kMockFetchWaitMs)});
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

Alertd StartAlertd(const std::string& alertd_bin, const std::string& bootstrap, const std::string& work,
                   const std::string& name, const std::vector<std::string>& extra) {
  Alertd a;
  a.db = work + "/db-" + name;
  a.log = work + "/alertd-" + name + ".log";
  const std::string port_file = work + "/alertd-" + name + ".port";
  a.pid = Spawn(AlertdArgv(alertd_bin, bootstrap, a.db, port_file, extra), a.log);
  a.port = std::stoi(WaitForFile(port_file, 30, a.pid, a.log));
  return a;
}

}  // namespace alertd::bench
