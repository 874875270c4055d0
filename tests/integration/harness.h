// Integration harness: real processes (embedded Kafka, alertd, kcat) and a real Kafka client.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/notify/ack_link.h"
#include "health.pb.h"
#include "tests/support/records.h"

namespace alertd::testing {

// A child process whose stdout and stderr go to a log file. Killed with SIGKILL when destroyed.
class Process {
 public:
  Process(std::vector<std::string> argv, std::string log_path);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool Running();
  void Kill9();
  // SIGSTOP and SIGCONT: a process that stalls (a long GC pause, a frozen VM) and later wakes up.
  void Stop();
  void Continue();
  // SIGTERM, then waits; returns the exit code, or -1 if it had to be killed.
  int Terminate(std::chrono::milliseconds grace = std::chrono::seconds(20));
  const std::string& log_path() const { return log_path_; }
  std::string LogTail(std::size_t bytes = 4000) const;
  // How a process that ended did: "exit N" or "signal N (name)".
  std::string HowItEnded() const;

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
  std::string log_path_;
};

// A fresh directory under the test temp dir, removed when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
             std::chrono::milliseconds every = std::chrono::milliseconds(50));

// librdkafka's mock cluster in its own process (the alertd-kafka tool), on loopback TCP.
class EmbeddedKafka {
 public:
  // `extra_args` go to alertd-kafka as they are (e.g. {"--topics", "a,b"}).
  explicit EmbeddedKafka(const std::string& dir, int partitions = 8, std::vector<std::string> extra_args = {});
  // Fails the test, with how it ended and its log's tail, if the cluster died before the test ended
  // (nothing stops it but this destructor).
  ~EmbeddedKafka();
  EmbeddedKafka(const EmbeddedKafka&) = delete;
  EmbeddedKafka& operator=(const EmbeddedKafka&) = delete;
  const std::string& bootstrap() const { return bootstrap_; }

 private:
  std::unique_ptr<Process> process_;
  std::string bootstrap_;
};

// A record read back from a topic.
struct ConsumedRecord {
  std::string key;
  std::string value;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;  // the record timestamp (CreateTime)
};

// alertd as its own process, with an HTTP port picked by the OS.
class AlertdProcess {
 public:
  AlertdProcess(const std::string& bootstrap, const std::string& db_dir, const std::string& log_path,
                std::vector<std::string> extra_flags = {});
  Process& process() { return *process_; }
  int http_port() const { return http_port_; }
  std::string Get(const std::string& path) const;  // body, or "" if unreachable
  int GetStatus(const std::string& path) const;    // HTTP status, or -1
  // Sum of every sample of `metric` whose labels include all of `labels`.
  double Metric(const std::string& metric, const std::map<std::string, std::string>& labels = {}) const;
  // The partitions of `topic` alertd shows a position for (alertd_consumer_position): those it owns.
  std::set<int32_t> AssignedPartitions(const std::string& topic) const;
  // Ready with partitions assigned, nothing waiting for broker confirmation, and alertd's positions
  // at or past the high watermarks this call reads from the broker itself for every partition of the
  // input topics. Uses alertd_consumer_position{topic,partition} when alertd exposes it; otherwise
  // alertd_consumer_lag, which must exist for every non-empty input partition alertd owns (when it
  // owns them all) and must still be 0 after alertd has refreshed its cached watermarks (~1.2 s).
  bool CaughtUp() const;
  // Waits until CaughtUp() (fails the test if it never is), then every record of `topic` up to its
  // high watermarks: all the output alertd has made of the input so far, with any duplicates that
  // at-least-once delivery allows.
  std::vector<ConsumedRecord> ReadOutput(const std::string& topic,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;

 private:
  std::unique_ptr<Process> process_;
  int http_port_ = 0;
  std::string bootstrap_;
  std::vector<std::string> input_topics_;  // readings, profiles, shifts, acks, as the flags name them
};

// A producer keyed by worker id with the Java-compatible partitioner, like the stations' gateways.
class TestProducer {
 public:
  explicit TestProducer(const std::string& bootstrap);
  ~TestProducer();
  void Send(const std::string& topic, const std::string& key, const std::string& value);
  // With the record timestamp (CreateTime) set, which stream mode takes as processing time; to one
  // partition, or by key when `partition` < 0.
  void SendAt(const std::string& topic, const std::string& key, const std::string& value, int64_t timestamp_ms,
              int32_t partition = -1);
  void SendTombstone(const std::string& topic, const std::string& key);
  void Flush();  // waits for every delivery; fails the test on a delivery error

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Escalations decoded from consumed records.
std::vector<healthgrid::v1::Escalation> ParseEscalations(const std::vector<ConsumedRecord>& records);
// The escalations of one rule, each event id once (output is at least once), in the order first seen.
std::vector<healthgrid::v1::Escalation> DistinctEventsOfRule(const std::vector<ConsumedRecord>& records,
                                                             healthgrid::v1::Rule rule);

// Reads a topic from the beginning with a throwaway group until `done(records)` or the timeout. It
// stops as soon as `done` holds, so it proves "at least", never "exactly": for exact sets use
// ReadToEnd (or AlertdProcess::ReadOutput). A new group's first join takes ~3 s on the embedded
// cluster, so an empty result within a few seconds proves nothing either.
std::vector<ConsumedRecord> ConsumeAll(const std::string& bootstrap, const std::string& topic,
                                       const std::function<bool(const std::vector<ConsumedRecord>&)>& done,
                                       std::chrono::milliseconds timeout);

// The [low, high) offsets of each partition of `topic` now, read from the broker (no cache, no
// group); empty if the topic does not exist. Fails the test if the broker does not answer.
std::map<int32_t, std::pair<int64_t, int64_t>> Watermarks(const std::string& bootstrap, const std::string& topic);

// Every record of every partition of `topic` up to the high watermarks taken at the call, read with
// manual assignment (no group, no join), sorted by partition and offset. Fails the test if a
// partition's end is not reached within `timeout`.
std::vector<ConsumedRecord> ReadToEnd(const std::string& bootstrap, const std::string& topic,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(30));


// ---- alertd-notify and the HTTP receivers its messages reach (issue 10) ----

// alertd-notify as its own process (`binary`: the test's ALERTD_NOTIFY_BIN), with an HTTP port
// picked by the OS; the port is known once the constructor returns.
class NotifyProcess {
 public:
  NotifyProcess(const std::string& binary, const std::string& bootstrap, const std::string& config_path,
                const std::string& templates_dir, const std::string& log_path,
                std::vector<std::string> extra_flags = {});
  Process& process() { return *process_; }
  int http_port() const { return http_port_; }
  // Sum of every sample of `metric` whose labels include all of `labels` (0 if unreachable).
  double Metric(const std::string& metric, const std::map<std::string, std::string>& labels = {}) const;

 private:
  std::unique_ptr<Process> process_;
  int http_port_ = 0;
};

// One request a NotifyReceiver got.
struct ReceivedMessage {
  std::string path;
  std::string idempotency_key;  // the Idempotency-Key header: alertd-notify's delivery key
  std::string body;
  int status = 0;               // what the receiver answered; 0 while the answer is still being made
  std::string answer;           // the body it answered with
  std::chrono::steady_clock::time_point arrived;
  std::chrono::steady_clock::time_point answered;
};

// How a receiver answers one request.
struct ReceiverAnswer {
  int status = 200;
  std::string body;
  std::chrono::milliseconds delay{0};  // before answering: a slow or hanging endpoint
};

// An HTTP endpoint on 127.0.0.1 (cpp-httplib) that records every POST and answers as told.
class NotifyReceiver {
 public:
  // `answer(seen_before, request)`: seen_before = requests with this Idempotency-Key before this one.
  using Behaviour = std::function<ReceiverAnswer(int seen_before, const ReceivedMessage& request)>;
  explicit NotifyReceiver(Behaviour answer);
  ~NotifyReceiver();
  NotifyReceiver(const NotifyReceiver&) = delete;
  NotifyReceiver& operator=(const NotifyReceiver&) = delete;

  std::string url(const std::string& path = "/") const;
  std::vector<ReceivedMessage> Received() const;  // in arrival order, answered or not
  // Requests being answered now (arrived, answer not yet written).
  int open() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A port on 127.0.0.1 free right now (for servers that cannot report the port they chose).
int FreeLoopbackPort();

// --- The HTTP API (api_*_test.cc) ---------------------------------------------------------------

// Writes `content` to `path` (a token or secret file, a policy file); fails the test if it cannot.
void WriteTextFile(const std::string& path, const std::string& content);

// An answer of alertd's HTTP listener: status -1 when it did not answer within 5 s.
struct HttpAnswer {
  int status = -1;
  std::string body;
};
// GET `path` on 127.0.0.1:`port` with `Authorization: Bearer <bearer>` (none if empty).
HttpAnswer HttpGet(int port, const std::string& path, const std::string& bearer = "");
// POST an HTML form (application/x-www-form-urlencoded) to `path`.
HttpAnswer HttpPostForm(int port, const std::string& path, const std::map<std::string, std::string>& form);

// Links as alertd-notify signs them, by the grid's health manager "HM-G1" ("Zhou Bo"), issued now:
// an R1 action link on (worker, episode), or a view link of `scope`. Inline: only the api_*_test.cc
// that call them link alertd_notify_core.
inline std::string SignedActionLink(notify::LinkAction action, const std::string& worker, const std::string& episode,
                                    int64_t expires_ms, const std::string& secret) {
  notify::LinkClaims c;
  c.action = action;
  c.person_id = "HM-G1";
  c.person_name = "Zhou Bo";
  c.worker_id = worker;
  c.episode_id = episode;
  c.rule = healthgrid::v1::R1_CRITICAL_BP;
  c.issued_ms = NowMs();
  c.expires_ms = expires_ms;
  return notify::SignLink(c, secret);
}
inline std::string SignedViewLink(const std::string& scope, int64_t expires_ms, const std::string& secret) {
  notify::LinkClaims c;
  c.action = notify::LinkAction::kView;
  c.person_id = "HM-G1";
  c.person_name = "Zhou Bo";
  c.scope = scope;
  c.issued_ms = NowMs();
  c.expires_ms = expires_ms;
  return notify::SignLink(c, secret);
}

// --- Tools run to their end (browser_grid_test.cc) ------------------------------------------------

// What a command run to its end left: its exit code (-1 if killed at the timeout or not started) and
// everything it wrote to stdout and stderr, which go to `log_path` as well.
struct FinishedCommand {
  int exit_code = -1;
  std::string output;
};
FinishedCommand RunToEnd(std::vector<std::string> argv, const std::string& log_path, std::chrono::milliseconds timeout);

// --- Acknowledgements through real processes (notify_ack_link_test.cc) ------------------------------

// alertd as the acknowledgement tests run it: replay clock (--clock stream), the R1 ack timeout cut to
// 1 min, the query API behind `api_token` and links signed with `link_secret`, each written to a file
// in `dir` (policy.yaml, token, secret; the secret file's path is `dir` + "/secret" for alertd-notify).
std::unique_ptr<AlertdProcess> StartAlertdWithLinks(const std::string& dir, const std::string& bootstrap,
                                                    const std::string& api_token, const std::string& link_secret);

// Grid G1 of unit U1 (health manager "HM-G1"): the profiles of `acked`, `control` and `clock` at `t0`, then
// 186/114 for `acked` and 185/112 for `control` at t0 + 1 s: two R1 episodes, one to acknowledge and one
// that must climb; `clock`'s later readings move stream time. Flushed.
void SendTwoCriticalBpEpisodes(TestProducer& producer, int64_t t0, const std::string& acked, const std::string& control,
                               const std::string& clock);

}  // namespace alertd::testing
