// Integration harness implementation: process control, HTTP scraping and Kafka clients for tests.
#include "tests/integration/harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <librdkafka/rdkafkacpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/kafka/clients.h"

extern char** environ;

namespace alertd::testing {
namespace fs = std::filesystem;

Process::Process(std::vector<std::string> argv, std::string log_path) : log_path_(std::move(log_path)) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << argv[0] << ": " << std::strerror(rc);
    pid_ = -1;
  }
}

Process::~Process() {
  if (pid_ > 0 && !reaped_) Kill9();
}

bool Process::Running() {
  if (pid_ <= 0 || reaped_) return false;
  if (waitpid(pid_, &status_, WNOHANG) == pid_) {
    reaped_ = true;
    return false;
  }
  return true;
}

void Process::Kill9() {
  if (pid_ <= 0 || reaped_) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, &status_, 0);
  reaped_ = true;
}

int Process::Terminate(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return -1;
  if (!reaped_) {
    kill(pid_, SIGTERM);
    if (!WaitFor([&] { return !Running(); }, grace)) {
      Kill9();
      return -1;
    }
  }
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
}

std::string Process::LogTail(std::size_t bytes) const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

TempDir::TempDir() {
  std::string tmpl = (fs::path(::testing::TempDir()) / "alertd-it-XXXXXX").string();
  char* made = mkdtemp(tmpl.data());
  if (made == nullptr) ADD_FAILURE() << "mkdtemp " << tmpl;
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (std::getenv("ALERTD_KEEP_TEST_DIRS") == nullptr) fs::remove_all(path_, ec);
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
             std::chrono::milliseconds every) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(every);
  }
  return condition();
}

namespace {
std::string ReadFileTrimmed(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}
}  // namespace

EmbeddedKafka::EmbeddedKafka(const std::string& dir, int partitions, std::vector<std::string> extra_args) {
  const std::string file = dir + "/bootstrap";
  std::vector<std::string> argv{ALERTD_KAFKA_BIN, "--partitions", std::to_string(partitions), "--bootstrap-file", file};
  for (auto& a : extra_args) argv.push_back(std::move(a));
  process_ = std::make_unique<Process>(std::move(argv), dir + "/kafka.log");
  if (!WaitFor([&] { return fs::exists(file); }, std::chrono::seconds(20))) {
    ADD_FAILURE() << "embedded kafka did not start: " << process_->LogTail();
    return;
  }
  bootstrap_ = ReadFileTrimmed(file);
}

AlertdProcess::AlertdProcess(const std::string& bootstrap, const std::string& db_dir, const std::string& log_path,
                             std::vector<std::string> extra_flags) {
  const std::string port_file = log_path + ".port";
  std::error_code ec;
  fs::remove(port_file, ec);
  std::vector<std::string> argv{ALERTD_BIN,      "--bootstrap", bootstrap,   "--db", db_dir,
                                "--http",        "127.0.0.1:0", "--http-port-file", port_file};
  for (auto& f : extra_flags) argv.push_back(std::move(f));
  process_ = std::make_unique<Process>(std::move(argv), log_path);
  if (!WaitFor([&] { return fs::exists(port_file) || !process_->Running(); }, std::chrono::seconds(20)) ||
      !fs::exists(port_file)) {
    ADD_FAILURE() << "alertd did not start: " << process_->LogTail();
    return;
  }
  http_port_ = std::stoi(ReadFileTrimmed(port_file));
}

std::string AlertdProcess::Get(const std::string& path) const {
  httplib::Client c("127.0.0.1", http_port_);
  c.set_connection_timeout(2);
  auto res = c.Get(path);
  return res ? res->body : std::string();
}

int AlertdProcess::GetStatus(const std::string& path) const {
  httplib::Client c("127.0.0.1", http_port_);
  c.set_connection_timeout(2);
  auto res = c.Get(path);
  return res ? res->status : -1;
}

double AlertdProcess::Metric(const std::string& metric, const std::map<std::string, std::string>& labels) const {
  std::istringstream in(Get("/metrics"));
  std::string line;
  double sum = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto name_end = line.find_first_of("{ ");
    if (line.compare(0, name_end, metric) != 0 || name_end != metric.size()) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      if (line.find(k + "=\"" + v + "\"") == std::string::npos) match = false;
    }
    if (match) sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

bool AlertdProcess::CaughtUp() const {
  const std::string body = Get("/metrics");
  if (body.empty() || GetStatus("/readyz") != 200) return false;
  return Metric("alertd_assigned_partitions") > 0 && body.find("alertd_consumer_lag{") != std::string::npos &&
         Metric("alertd_consumer_lag") == 0 && Metric("alertd_outbox_pending") == 0;
}

struct TestProducer::Impl : public RdKafka::DeliveryReportCb {
  void dr_cb(RdKafka::Message& m) override {
    if (m.err() != RdKafka::ERR_NO_ERROR) failures.push_back(m.errstr());
  }
  std::unique_ptr<RdKafka::Producer> producer;
  std::vector<std::string> failures;
};

TestProducer::TestProducer(const std::string& bootstrap) : impl_(std::make_unique<Impl>()) {
  auto p = kafka::NewProducer(bootstrap, {}, impl_.get(), nullptr);
  if (!p.ok()) {
    ADD_FAILURE() << p.status();
    return;
  }
  impl_->producer = std::move(*p);
}

TestProducer::~TestProducer() = default;

void TestProducer::Send(const std::string& topic, const std::string& key, const std::string& value) {
  for (;;) {
    auto rc = impl_->producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                       const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0,
                                       nullptr);
    if (rc == RdKafka::ERR__QUEUE_FULL) {
      impl_->producer->poll(20);
      continue;
    }
    ASSERT_EQ(rc, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(rc);
    impl_->producer->poll(0);
    return;
  }
}

void TestProducer::SendAt(const std::string& topic, const std::string& key, const std::string& value,
                          int64_t timestamp_ms, int32_t partition) {
  for (;;) {
    auto rc = impl_->producer->produce(topic, partition < 0 ? RdKafka::Topic::PARTITION_UA : partition,
                                       RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()), value.size(),
                                       key.data(), key.size(), timestamp_ms, nullptr);
    if (rc == RdKafka::ERR__QUEUE_FULL) {
      impl_->producer->poll(20);
      continue;
    }
    ASSERT_EQ(rc, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(rc);
    impl_->producer->poll(0);
    return;
  }
}

void TestProducer::SendTombstone(const std::string& topic, const std::string& key) {
  auto rc = impl_->producer->produce(topic, RdKafka::Topic::PARTITION_UA, 0, nullptr, 0, key.data(), key.size(), 0,
                                     nullptr);
  ASSERT_EQ(rc, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(rc);
}

void TestProducer::Flush() {
  ASSERT_EQ(impl_->producer->flush(30000), RdKafka::ERR_NO_ERROR) << "producer flush timed out";
  ASSERT_TRUE(impl_->failures.empty()) << impl_->failures.front();
}

std::vector<healthgrid::v1::Escalation> ParseEscalations(const std::vector<ConsumedRecord>& records) {
  std::vector<healthgrid::v1::Escalation> out;
  for (const auto& r : records) {
    healthgrid::v1::Escalation e;
    EXPECT_TRUE(e.ParseFromString(r.value)) << "escalation at offset " << r.offset << " does not decode";
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<ConsumedRecord> ConsumeAll(const std::string& bootstrap, const std::string& topic,
                                       const std::function<bool(const std::vector<ConsumedRecord>&)>& done,
                                       std::chrono::milliseconds timeout) {
  static int group_seq = 0;
  auto c = kafka::NewConsumer(bootstrap, "it-reader-" + std::to_string(getpid()) + "-" + std::to_string(++group_seq),
                              {{"enable.auto.commit", "false"}}, nullptr, nullptr);
  std::vector<ConsumedRecord> out;
  if (!c.ok()) {
    ADD_FAILURE() << c.status();
    return out;
  }
  (*c)->subscribe({topic});
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done(out) && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m((*c)->consume(100));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    ConsumedRecord r;
    if (m->key_pointer()) r.key.assign(static_cast<const char*>(m->key_pointer()), m->key_len());
    if (m->payload()) r.value.assign(static_cast<const char*>(m->payload()), m->len());
    r.partition = m->partition();
    r.offset = m->offset();
    out.push_back(std::move(r));
  }
  (*c)->close();
  return out;
}

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

healthgrid::v1::WorkerProfile MakeProfile(const std::string& worker, const std::string& unit,
                                          const std::string& grid) {
  healthgrid::v1::WorkerProfile p;
  p.set_worker_id(worker);
  p.set_name("Worker " + worker);
  p.set_unit_id(unit);
  p.set_grid_id(grid);
  p.mutable_health_manager()->set_id("HM-" + grid);
  p.mutable_health_manager()->set_name("Manager of " + grid);
  p.mutable_unit_supervisor()->set_id("US-" + unit);
  p.mutable_unit_supervisor()->set_name("Supervisor of " + unit);
  p.set_active(true);
  return p;
}

healthgrid::v1::Reading MakeBp(const std::string& worker, int64_t measured_at_ms, int systolic, int diastolic,
                               int pulse) {
  healthgrid::v1::Reading r;
  r.set_worker_id(worker);
  r.set_device_id("DEV-1");
  r.set_station_id("ST-1");
  r.set_measured_at_ms(measured_at_ms);
  r.set_context(healthgrid::v1::SELF_TEST);
  auto* bp = r.mutable_blood_pressure();
  bp->set_systolic_mmhg(systolic);
  bp->set_diastolic_mmhg(diastolic);
  bp->set_pulse_bpm(pulse);
  return r;
}

healthgrid::v1::Reading MakeGlucose(const std::string& worker, int64_t measured_at_ms, double mmol,
                                    healthgrid::v1::GlucoseTiming timing) {
  healthgrid::v1::Reading r;
  r.set_worker_id(worker);
  r.set_device_id("GM-1");  // a glucometer
  r.set_station_id("ST-1");
  r.set_measured_at_ms(measured_at_ms);
  r.set_context(healthgrid::v1::SELF_TEST);
  r.mutable_glucose()->set_mmol_per_l(mmol);
  r.mutable_glucose()->set_timing(timing);
  return r;
}

}  // namespace alertd::testing
