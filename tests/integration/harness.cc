// Integration harness implementation: process control, HTTP scraping and Kafka clients for tests.
#include "tests/integration/harness.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <librdkafka/rdkafkacpp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "engine/kafka/clients.h"
#include "engine/tool/child_process.h"
#include "tests/support/records.h"

namespace alertd::testing {
namespace fs = std::filesystem;

Process::Process(std::vector<std::string> argv, std::string log_path) : log_path_(std::move(log_path)) {
  const absl::StatusOr<pid_t> pid = tool::SpawnWithLog(std::move(argv), log_path_, tool::ChildLog::kAppend);
  if (!pid.ok()) {
    ADD_FAILURE() << pid.status().message();
    return;
  }
  pid_ = *pid;
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

void Process::Stop() {
  if (pid_ > 0 && !reaped_) kill(pid_, SIGSTOP);
}

void Process::Continue() {
  if (pid_ > 0 && !reaped_) kill(pid_, SIGCONT);
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

std::string Process::HowItEnded() const {
  if (WIFSIGNALED(status_)) {
    return "signal " + std::to_string(WTERMSIG(status_)) + " (" + strsignal(WTERMSIG(status_)) + ")";
  }
  return "exit " + std::to_string(WEXITSTATUS(status_));
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
ConsumedRecord RecordOf(const RdKafka::Message& m) {
  ConsumedRecord r;
  if (m.key_pointer()) r.key.assign(static_cast<const char*>(m.key_pointer()), m.key_len());
  if (m.payload()) r.value.assign(static_cast<const char*>(m.payload()), m.len());
  r.partition = m.partition();
  r.offset = m.offset();
  r.timestamp_ms = m.timestamp().timestamp;
  return r;
}

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

EmbeddedKafka::~EmbeddedKafka() {
  if (process_ != nullptr && !bootstrap_.empty() && !process_->Running()) {
    ADD_FAILURE() << "the embedded kafka at " << bootstrap_ << " died during the test (" << process_->HowItEnded()
                  << "): " << process_->LogTail();
  }
}

AlertdProcess::AlertdProcess(const std::string& bootstrap, const std::string& db_dir, const std::string& log_path,
                             std::vector<std::string> extra_flags)
    : bootstrap_(bootstrap), input_topics_{"readings", "worker-profiles", "shifts", "escalation-acks"} {
  const std::map<std::string, std::size_t> input_flags{
      {"--readings-topic", 0}, {"--profiles-topic", 1}, {"--shifts-topic", 2}, {"--acks-topic", 3}};
  for (std::size_t i = 0; i + 1 < extra_flags.size(); ++i) {
    if (auto it = input_flags.find(extra_flags[i]); it != input_flags.end()) input_topics_[it->second] = extra_flags[i + 1];
  }
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

namespace {

// One sample of a Prometheus text exposition.
struct Sample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Every sample of `metric` in `exposition`.
std::vector<Sample> Samples(const std::string& exposition, const std::string& metric) {
  std::vector<Sample> out;
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto name_end = line.find_first_of("{ ");
    if (name_end != metric.size() || line.compare(0, name_end, metric) != 0) continue;
    Sample sample;
    if (line[name_end] == '{') {
      static const std::regex label(R"re(([A-Za-z_][A-Za-z0-9_]*)="([^"]*)")re");
      const std::string labels = line.substr(name_end + 1, line.find('}', name_end) - name_end - 1);
      for (auto it = std::sregex_iterator(labels.begin(), labels.end(), label); it != std::sregex_iterator(); ++it) {
        sample.labels[(*it)[1]] = (*it)[2];
      }
    }
    sample.value = std::stod(line.substr(line.rfind(' ') + 1));
    out.push_back(std::move(sample));
  }
  return out;
}

using TopicPartitionKey = std::pair<std::string, int32_t>;
using Ends = std::map<TopicPartitionKey, std::pair<int64_t, int64_t>>;  // [low, high)

// A client for metadata and watermark queries and manual assignment: it never subscribes, so its
// group id is never used to join a group.
std::unique_ptr<RdKafka::KafkaConsumer> NewReader(const std::string& bootstrap) {
  static std::atomic<int> seq{0};
  auto c = kafka::NewConsumer(bootstrap, "it-no-group-" + std::to_string(getpid()) + "-" + std::to_string(++seq),
                              {{"enable.auto.commit", "false"}, {"enable.partition.eof", "true"}}, nullptr, nullptr);
  if (!c.ok()) {
    ADD_FAILURE() << c.status();
    return nullptr;
  }
  return std::move(*c);
}

// Fresh watermarks of every partition of `topics` that exist; nullopt if the broker does not answer.
std::optional<Ends> QueryEnds(RdKafka::KafkaConsumer& client, const std::vector<std::string>& topics) {
  RdKafka::Metadata* raw = nullptr;
  if (client.metadata(true, nullptr, &raw, 5000) != RdKafka::ERR_NO_ERROR) return std::nullopt;
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  Ends ends;
  for (const auto* t : *metadata->topics()) {
    if (std::find(topics.begin(), topics.end(), t->topic()) == topics.end()) continue;
    for (const auto* p : *t->partitions()) {
      int64_t low = 0, high = 0;
      if (client.query_watermark_offsets(t->topic(), p->id(), &low, &high, 5000) != RdKafka::ERR_NO_ERROR) {
        return std::nullopt;
      }
      ends[{t->topic(), p->id()}] = {low, high};
    }
  }
  return ends;
}

}  // namespace

std::set<int32_t> AlertdProcess::AssignedPartitions(const std::string& topic) const {
  std::set<int32_t> out;
  for (const Sample& s : Samples(Get("/metrics"), "alertd_consumer_position")) {
    const auto t = s.labels.find("topic"), p = s.labels.find("partition");
    if (t != s.labels.end() && p != s.labels.end() && t->second == topic) out.insert(std::stoi(p->second));
  }
  return out;
}

bool AlertdProcess::CaughtUp() const {
  // What alertd shows about its assignment, positions and unconfirmed output, or nullopt if it is not
  // ready, has nothing assigned, or waits for the broker to confirm output.
  struct Shown {
    double assigned = 0;
    std::vector<Sample> positions, lags;
  };
  auto shown = [&]() -> std::optional<Shown> {
    if (GetStatus("/readyz") != 200) return std::nullopt;
    const std::string body = Get("/metrics");
    if (body.empty()) return std::nullopt;
    Shown s;
    for (const Sample& a : Samples(body, "alertd_assigned_partitions")) s.assigned += a.value;
    double pending = 0;
    for (const Sample& o : Samples(body, "alertd_outbox_pending")) pending += o.value;
    if (s.assigned <= 0 || pending != 0) return std::nullopt;
    s.positions = Samples(body, "alertd_consumer_position");
    s.lags = Samples(body, "alertd_consumer_lag");
    return s;
  };
  auto key_of = [](const Sample& s) -> std::optional<TopicPartitionKey> {
    const auto t = s.labels.find("topic"), p = s.labels.find("partition");
    if (t == s.labels.end() || p == s.labels.end()) return std::nullopt;
    return TopicPartitionKey{t->second, std::stoi(p->second)};
  };

  const auto reader = NewReader(bootstrap_);
  if (!reader) return false;
  const std::optional<Ends> ends = QueryEnds(*reader, input_topics_);
  const std::optional<Shown> before = shown();
  if (!ends || !before) return false;

  if (!before->positions.empty()) {
    // Every assigned partition shows its position, and each is at or past the end read just now.
    if (before->positions.size() != static_cast<std::size_t>(before->assigned)) return false;
    for (const Sample& s : before->positions) {
      const auto key = key_of(s);
      if (!key || !ends->count(*key) || s.value < static_cast<double>(ends->at(*key).second)) return false;
    }
    return true;
  }

  // Without positions, lag is all alertd shows: per partition it has committed a position for, from
  // the watermarks librdkafka cached at its last lag update (once a second).
  auto no_lag = [&](const Shown& s) {
    std::set<TopicPartitionKey> with_lag;
    for (const Sample& l : s.lags) {
      if (l.value != 0) return false;
      if (const auto key = key_of(l)) with_lag.insert(*key);
    }
    // Owning every input partition, it must show each non-empty one: a partition it has never
    // committed a position for shows no lag at all, however far behind it is.
    if (static_cast<std::size_t>(s.assigned) == ends->size()) {
      for (const auto& [key, range] : *ends) {
        if (range.second > range.first && !with_lag.count(key)) return false;
      }
    }
    return true;
  };
  if (!no_lag(*before)) return false;
  // A lag of 0 may come from a watermark cached before the last records arrived: look again once
  // alertd has updated its lag from watermarks fetched after `ends` was read, with no new input since.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  const std::optional<Ends> ends_after = QueryEnds(*reader, input_topics_);
  const std::optional<Shown> after = shown();
  reader->close();
  return ends_after && after && *ends_after == *ends && after->assigned == before->assigned && no_lag(*after);
}

std::vector<ConsumedRecord> AlertdProcess::ReadOutput(const std::string& topic, std::chrono::milliseconds timeout) const {
  if (!WaitFor([&] { return CaughtUp(); }, timeout, std::chrono::milliseconds(100))) {
    ADD_FAILURE() << "alertd did not catch up within " << timeout.count() << " ms: " << process_->LogTail();
  }
  return ReadToEnd(bootstrap_, topic);
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

std::vector<healthgrid::v1::Escalation> DistinctEventsOfRule(const std::vector<ConsumedRecord>& records,
                                                             healthgrid::v1::Rule rule) {
  std::vector<healthgrid::v1::Escalation> out;
  std::set<std::string> ids;
  for (auto& e : ParseEscalations(records)) {
    if (e.rule() == rule && ids.insert(e.event_id()).second) out.push_back(std::move(e));
  }
  return out;
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
    out.push_back(RecordOf(*m));
  }
  (*c)->close();
  return out;
}

std::map<int32_t, std::pair<int64_t, int64_t>> Watermarks(const std::string& bootstrap, const std::string& topic) {
  std::map<int32_t, std::pair<int64_t, int64_t>> out;
  const auto reader = NewReader(bootstrap);
  if (!reader) return out;
  const std::optional<Ends> ends = QueryEnds(*reader, {topic});
  reader->close();
  if (!ends) {
    ADD_FAILURE() << "no watermarks for " << topic << " from " << bootstrap;
    return out;
  }
  for (const auto& [key, range] : *ends) out[key.second] = range;
  return out;
}

std::vector<ConsumedRecord> ReadToEnd(const std::string& bootstrap, const std::string& topic,
                                      std::chrono::milliseconds timeout) {
  std::vector<ConsumedRecord> out;
  const auto reader = NewReader(bootstrap);
  if (!reader) return out;
  const std::optional<Ends> ends = QueryEnds(*reader, {topic});
  if (!ends) {
    ADD_FAILURE() << "no watermarks for " << topic << " from " << bootstrap;
    return out;
  }
  std::map<int32_t, int64_t> end_of;  // partitions still to read, with the end taken above
  std::vector<RdKafka::TopicPartition*> assignment;
  for (const auto& [key, range] : *ends) {
    if (range.second <= range.first) continue;
    end_of[key.second] = range.second;
    assignment.push_back(RdKafka::TopicPartition::create(topic, key.second, range.first));
  }
  if (assignment.empty()) return out;
  const RdKafka::ErrorCode assigned = reader->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  if (assigned != RdKafka::ERR_NO_ERROR) {
    ADD_FAILURE() << "assign " << topic << ": " << RdKafka::err2str(assigned);
    return out;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!end_of.empty() && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(reader->consume(100));
    const auto it = end_of.find(m->partition());
    if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      if (it != end_of.end() && m->offset() >= it->second) end_of.erase(it);
      continue;
    }
    if (m->err() != RdKafka::ERR_NO_ERROR || it == end_of.end()) continue;
    if (m->offset() < it->second) {  // later records are after the call: not this read's to judge
      out.push_back(RecordOf(*m));
    }
    if (m->offset() + 1 >= it->second) end_of.erase(it);
  }
  for (const auto& [partition, end] : end_of) {
    ADD_FAILURE() << "did not reach offset " << end << " of " << topic << "[" << partition << "] within "
                  << timeout.count() << " ms";
  }
  reader->unassign();
  reader->close();
  std::sort(out.begin(), out.end(), [](const ConsumedRecord& a, const ConsumedRecord& b) {
    return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset);
  });
  return out;
}


// ---- alertd-notify and the HTTP receivers its messages reach ----

NotifyProcess::NotifyProcess(const std::string& binary, const std::string& bootstrap, const std::string& config_path,
                             const std::string& templates_dir, const std::string& log_path,
                             std::vector<std::string> extra_flags) {
  const std::string port_file = log_path + ".port";
  std::error_code ec;
  fs::remove(port_file, ec);
  std::vector<std::string> argv{binary,        "--bootstrap", bootstrap,   "--config",         config_path,
                                "--templates", templates_dir, "--http",    "127.0.0.1:0",      "--http-port-file",
                                port_file};
  for (auto& f : extra_flags) argv.push_back(std::move(f));
  process_ = std::make_unique<Process>(std::move(argv), log_path);
  if (!WaitFor([&] { return fs::exists(port_file) || !process_->Running(); }, std::chrono::seconds(20)) ||
      !fs::exists(port_file)) {
    ADD_FAILURE() << "alertd-notify did not start: " << process_->LogTail();
    return;
  }
  http_port_ = std::stoi(ReadFileTrimmed(port_file));
}

double NotifyProcess::Metric(const std::string& metric, const std::map<std::string, std::string>& labels) const {
  httplib::Client c("127.0.0.1", http_port_);
  c.set_connection_timeout(2);
  c.set_read_timeout(2);
  auto res = c.Get("/metrics");
  if (!res || res->status != 200) return 0;
  double sum = 0;
  for (const Sample& s : Samples(res->body, metric)) {
    const bool match = std::all_of(labels.begin(), labels.end(), [&](const auto& l) {
      const auto it = s.labels.find(l.first);
      return it != s.labels.end() && it->second == l.second;
    });
    if (match) sum += s.value;
  }
  return sum;
}

struct NotifyReceiver::Impl {
  Behaviour answer;
  httplib::Server server;
  std::thread thread;
  int port = 0;
  mutable std::mutex mutex;  // guards received
  std::vector<ReceivedMessage> received;
};

NotifyReceiver::NotifyReceiver(Behaviour answer) : impl_(std::make_unique<Impl>()) {
  impl_->answer = std::move(answer);
  Impl* impl = impl_.get();
  impl->server.Post(".*", [impl](const httplib::Request& req, httplib::Response& res) {
    ReceivedMessage message;
    message.path = req.path;
    message.idempotency_key = req.get_header_value("Idempotency-Key");
    message.body = req.body;
    message.arrived = std::chrono::steady_clock::now();
    int seen_before = 0;
    std::size_t index = 0;
    {
      std::lock_guard<std::mutex> lock(impl->mutex);
      for (const ReceivedMessage& m : impl->received) seen_before += m.idempotency_key == message.idempotency_key;
      index = impl->received.size();
      impl->received.push_back(message);
    }
    const ReceiverAnswer reply = impl->answer(seen_before, message);
    if (reply.delay.count() > 0) std::this_thread::sleep_for(reply.delay);
    res.status = reply.status;
    res.set_content(reply.body, "application/json");
    std::lock_guard<std::mutex> lock(impl->mutex);
    impl->received[index].status = reply.status;
    impl->received[index].answer = reply.body;
    impl->received[index].answered = std::chrono::steady_clock::now();
  });
  impl->port = impl->server.bind_to_any_port("127.0.0.1");
  if (impl->port <= 0) {
    ADD_FAILURE() << "receiver cannot listen on 127.0.0.1";
    return;
  }
  impl->thread = std::thread([impl] { impl->server.listen_after_bind(); });
  WaitFor([impl] { return impl->server.is_running(); }, std::chrono::seconds(5), std::chrono::milliseconds(5));
}

NotifyReceiver::~NotifyReceiver() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string NotifyReceiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(impl_->port) + path;
}

std::vector<ReceivedMessage> NotifyReceiver::Received() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->received;
}

int NotifyReceiver::open() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return static_cast<int>(std::count_if(impl_->received.begin(), impl_->received.end(),
                                        [](const ReceivedMessage& m) { return m.status == 0; }));
}

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);  // free again; another process could take it before the caller does, rarely on loopback
  return port;
}

void WriteTextFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::trunc);
  out << content;
  out.close();
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

HttpAnswer HttpGet(int port, const std::string& path, const std::string& bearer) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(2);
  c.set_read_timeout(5);
  httplib::Headers headers;
  if (!bearer.empty()) headers.emplace("Authorization", "Bearer " + bearer);
  auto res = c.Get(path, headers);
  return res ? HttpAnswer{res->status, res->body} : HttpAnswer{};
}

HttpAnswer HttpPostForm(int port, const std::string& path, const std::map<std::string, std::string>& form) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(2);
  c.set_read_timeout(10);
  httplib::Params params(form.begin(), form.end());
  auto res = c.Post(path, params);
  return res ? HttpAnswer{res->status, res->body} : HttpAnswer{};
}

FinishedCommand RunToEnd(std::vector<std::string> argv, const std::string& log_path, std::chrono::milliseconds timeout) {
  Process command(std::move(argv), log_path);
  FinishedCommand done;
  // Terminate() after the command has ended only reads its exit code; at the timeout it stops it.
  const bool ended = WaitFor([&] { return !command.Running(); }, timeout, std::chrono::milliseconds(100));
  const int code = command.Terminate(std::chrono::seconds(5));
  done.exit_code = ended ? code : -1;
  done.output = command.LogTail(1 << 20);
  return done;
}

std::unique_ptr<AlertdProcess> StartAlertdWithLinks(const std::string& dir, const std::string& bootstrap,
                                                    const std::string& api_token, const std::string& link_secret) {
  WriteTextFile(dir + "/policy.yaml", "rules:\n  r1_critical_bp:\n    ack_timeout: 1m\n");
  WriteTextFile(dir + "/token", api_token + "\n");
  WriteTextFile(dir + "/secret", link_secret + "\n");
  return std::make_unique<AlertdProcess>(bootstrap, dir + "/db", dir + "/alertd.log",
                                         std::vector<std::string>{"--clock", "stream", "--policy", dir + "/policy.yaml",
                                                                  "--api-token-file", dir + "/token",
                                                                  "--link-secret-file", dir + "/secret"});
}

void SendTwoCriticalBpEpisodes(TestProducer& producer, int64_t t0, const std::string& acked, const std::string& control,
                               const std::string& clock) {
  for (const std::string& w : {acked, control, clock}) {
    producer.SendAt("worker-profiles", w, MakeProfile(w, "U1", "G1").SerializeAsString(), t0);
  }
  producer.SendAt("readings", acked, MakeBp(acked, t0 + 1000, 186, 114).SerializeAsString(), t0 + 1000);
  producer.SendAt("readings", control, MakeBp(control, t0 + 1000, 185, 112).SerializeAsString(), t0 + 1000);
  producer.Flush();
}

}  // namespace alertd::testing
