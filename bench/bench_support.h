// What alertd-bench's phases share: child processes, /metrics and /proc readings, and the readings stream.
#pragma once

#include <librdkafka/rdkafkacpp.h>
#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "health.pb.h"

namespace alertd::bench {

using Clock = std::chrono::steady_clock;

int64_t WallMs();
double Since(Clock::time_point t0);

// Ends the bench with a message, taking every child process down with it.
[[noreturn]] void Die(const std::string& what);
// Kills every child if the bench itself is interrupted, so no cluster or engine outlives it.
void KillChildrenOnSignals();

// Starts a child with stdout and stderr in `log`.
pid_t Spawn(std::vector<std::string> argv, const std::string& log);
// Runs a child to its end; its exit code (128 + signal if killed). Dies after `seconds`.
int RunToEnd(std::vector<std::string> argv, const std::string& log, int seconds);
// SIGTERM, then SIGKILL after 10 s.
void Stop(pid_t pid);
// SIGKILL and reap: a crash, as the engine sees it.
void Kill9(pid_t pid);
// Dies, quoting the child's log, if the child has exited (alertd refuses to start with exit 2 when a
// topic is missing or its partition count is wrong: the bench must say so, not wait for it).
void CheckAlive(pid_t pid, const std::string& log);
// The first line of `path` once it exists and is not empty; dies after `seconds` or when `pid` exits.
std::string WaitForFile(const std::string& path, int seconds, pid_t pid = 0, const std::string& log = {});

long RssKb(pid_t pid, const char* field);
// User + system CPU seconds a process (or, with `task`, one of its threads) has used so far.
double CpuSeconds(pid_t pid, pid_t task = 0);
// What an alertd thread does, told by its name: the engine loop is the main thread; the committer is
// `alertd-commit`; librdkafka names its threads `rdk:*` (the consumer's and the producers' broker
// threads, its main threads), RocksDB `rocksdb:*` (flushes, compactions). The rest: the HTTP server's
// and any thread that ended.
enum class ThreadKind { kEngine, kCommitter, kKafka, kRocksDb, kOther };
inline constexpr std::array<const char*, 5> kThreadKindNames = {"engine thread", "committer", "librdkafka", "RocksDB",
                                                                "other threads"};
ThreadKind KindOfThread(pid_t pid, pid_t tid, const std::string& name);
using CpuByThread = std::array<double, 5>;  // CPU seconds, indexed by ThreadKind
// The CPU seconds a process's threads have used so far, by kind. A thread that ended counts under
// kOther (the process's total less its live threads'), so the kinds always add up to the total.
CpuByThread CpuSecondsByThread(pid_t pid);
// "engine thread 2.26, committer 1.34, librdkafka 1.22, RocksDB 0.30, other threads 0.19".
std::string FormatByThread(const CpuByThread& values);
// Bytes the process (every thread: RocksDB's WAL, flushes and compactions) sent to the block layer so
// far (/proc/PID/io write_bytes).
int64_t DiskWriteBytes(pid_t pid);
// Total size of the regular files under `dir`.
int64_t DirBytes(const std::string& dir);

// Sum of a metric's samples (all label sets) on alertd's /metrics; -1 if alertd did not answer.
double ScrapeMetric(int port, const std::string& name);
// HTTP status of GET `path`; 0 if alertd did not answer.
int HttpStatus(int port, const std::string& path);

// A population of workers and their readings, ~25% hypertensive, like the simulator's.
class ReadingFactory {
 public:
  static constexpr int64_t kSpanMs = 14LL * 86400000;

  explicit ReadingFactory(int workers) : workers_(workers), rng_(42) {}

  std::string WorkerId(int w) const;
  // The i-th reading of the stream: worker round-robin, event time spread over the last 14 days. The
  // span is twice the 7-day window, so in the second half of the stream every worker's window prunes
  // as fast as it grows: the steady state in which memory must stay flat.
  healthgrid::v1::Reading Next(int64_t i, int64_t total, int64_t now_ms);

 private:
  int workers_;
  std::mt19937_64 rng_;
};

using EncodedStream = std::vector<std::pair<std::string, std::string>>;  // (key, Reading bytes)

// `linger_ms` 20 batches a backlog; the latency phases send each reading as it is taken (0), as a
// station does.
std::unique_ptr<RdKafka::Producer> MakeProducer(const std::string& bootstrap, int linger_ms = 20);
// A consumer of `topic` in group `group` (from the start of the topic unless `extra` says otherwise)
// that has joined and has its partitions before it returns: a phase's clock starts after the join, as
// alertd has joined by the time its phase starts.
std::unique_ptr<RdKafka::KafkaConsumer> JoinedConsumer(const std::string& bootstrap, const std::string& group,
                                                       const std::string& topic,
                                                       const std::map<std::string, std::string>& extra = {});
// The fetch wait of alertd and of the bench's latency consumers. The embedded cluster holds a Fetch
// that finds no new record for the whole fetch.wait.max.ms, where a broker answers as soon as a record
// arrives; at a steady rate a consumer often asks again just before the next record, so alertd's 50 ms
// default adds up to 50 ms to each hop (twice per escalation) that a broker would not add. (With 2 ms
// a restored partition once in a while never started fetching and hung the bench; alertd no longer
// assigns an input paused, and its fetch watch assigns again one that stops: README, Operations.)
inline constexpr int kMockFetchWaitMs = 2;

// A consumer of `topic` from its end, in group `group`, that has joined and resolved its start offsets
// before it returns: what it then sees was produced after the call, and its latency is not its start's.
std::unique_ptr<RdKafka::KafkaConsumer> JoinedConsumerAtEnd(const std::string& bootstrap, const std::string& group,
                                                            const std::string& topic);
// `partition` = -1: by key, as the devices' gateways produce.
void Send(RdKafka::Producer& p, const std::string& topic, const std::string& key, const std::string& value,
          int32_t partition = -1);
// Pre-encodes the stream so the producer measures Kafka, not protobuf encoding.
EncodedStream EncodeStream(int64_t n, int workers, int64_t now_ms);
// Produces the stream and waits for it to be acknowledged; returns readings/s.
double ProduceAll(const std::string& bootstrap, const std::string& topic, const EncodedStream& stream);
// One profile per worker on `worker-profiles`, so alertd grades the readings against a known roster.
void ProduceProfiles(const std::string& bootstrap, int workers);

std::vector<std::string> AlertdArgv(const std::string& alertd_bin, const std::string& bootstrap, const std::string& db,
                                    const std::string& port_file, const std::vector<std::string>& extra);

// An alertd of the bench, its own process, with its files under the work directory.
struct Alertd {
  pid_t pid = 0;
  int port = 0;
  std::string db, log;
};
// Starts alertd with state in WORK/db-NAME and its log in WORK/alertd-NAME.log; returns once /metrics
// answers, or dies with the log's last line if alertd exits first.
Alertd StartAlertd(const std::string& alertd_bin, const std::string& bootstrap, const std::string& work,
                   const std::string& name, const std::vector<std::string>& extra);

}  // namespace alertd::bench
