// Kafka faults injected while alertd runs (brokers down, failing requests, slow answers): it rides them out and loses nothing.
//
// Each test sends profiles and three phases of readings for a set of workers (before, during and after
// the fault; some grade 3, which open R1 escalations), clears the fault and checks, from outside:
// every worker's reading count is exact in alertd's stored state, the escalation event ids on the topic
// are exactly those the pure rules give for the same history (duplicates on the topic are allowed by
// the at-least-once guarantee, so sets are compared), alertd stayed alive and healthy during the fault
// and its consumer lag is back to 0.
#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "engine/domain/rulebook.h"
#include "engine/kafka/clients.h"
#include "engine/wire/convert.h"
#include "tests/integration/fault_control.h"
#include "tests/integration/harness.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
constexpr int64_t kMinute = 60 * 1000;
constexpr int kWorkers = 8;
constexpr int kPhases = 3;           // before, during and after the fault
constexpr int kReadingsPerPhase = 2;  // per worker
// Far more than any client retries in a test's few seconds: the fault lasts until it is cleared.
constexpr int kUntilCleared = 1000000;
// How long a fault lasts: long enough for clients to meet it and retry a few times.
constexpr auto kFault = std::chrono::seconds(2);

std::string WorkerId(int i) { return "W" + std::to_string(100 + i); }

class FaultTest : public ::testing::Test {
 protected:
  void StartCluster(int brokers) {
    kafka_ = std::make_unique<FaultyKafka>(dir_.path(), brokers);
    ASSERT_FALSE(kafka_->bootstrap().empty());
    producer_ = std::make_unique<TestProducer>(kafka_->bootstrap());
  }

  void StartAlertd(std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), "--no-sync");
    alertd_ = std::make_unique<AlertdProcess>(kafka_->bootstrap(), db(), log(), extra);
    ASSERT_GT(alertd_->http_port(), 0);
  }

  std::string db() const { return dir_.path() + "/db"; }
  std::string log() const { return dir_.path() + "/alertd.log"; }

  void SendProfiles() {
    for (int i = 0; i < kWorkers; ++i) {
      producer_->Send("worker-profiles", WorkerId(i), MakeProfile(WorkerId(i), "U01", "U01-G01").SerializeAsString());
    }
  }

  // Queues one phase's readings (the producer delivers them when it can); a third of the workers get
  // a grade-3 reading, the next phase's normal reading may resolve it.
  void SendPhase(int phase) {
    for (int i = 0; i < kWorkers; ++i) {
      for (int j = 0; j < kReadingsPerPhase; ++j) {
        const int64_t measured = now_ - 6 * 60 * kMinute + (phase * kReadingsPerPhase + j) * 10 * kMinute;
        const bool critical = j == 0 && (i + phase) % 3 == 0;
        auto reading = critical ? MakeBp(WorkerId(i), measured, 186, 114) : MakeBp(WorkerId(i), measured, 124, 80);
        producer_->Send("readings", WorkerId(i), reading.SerializeAsString());
        sent_[WorkerId(i)].push_back(std::move(reading));
      }
    }
  }

  int ReadingsSent() const {
    int n = 0;
    for (const auto& [worker, readings] : sent_) n += static_cast<int>(readings.size());
    return n;
  }

  // alertd keeps running and answers /healthz 200 the whole time.
  void ExpectHealthyFor(std::chrono::milliseconds span) {
    const auto end = Clock::now() + span;
    while (Clock::now() < end) {
      ASSERT_TRUE(alertd_->process().Running()) << "alertd died during the fault: " << alertd_->process().LogTail();
      ASSERT_EQ(alertd_->GetStatus("/healthz"), 200) << alertd_->process().LogTail();
      std::this_thread::sleep_for(250ms);
    }
  }

  double ReadingsGraded() const { return alertd_->Metric("alertd_readings_total"); }

  // Every input committed, its output confirmed by the broker and no lag. Readings are counted when
  // graded, their output only joins the outbox at the commit after, so the committed count is what
  // tells that the outbox gauge covers them; seen twice, as the gauge is set just after that count.
  bool CaughtUp() const {
    return alertd_->Metric("alertd_committed_records_total") >= kWorkers + ReadingsSent() && alertd_->CaughtUp();
  }

  void WaitCaughtUp() {
    ASSERT_TRUE(WaitFor([&] { return CaughtUp() && (std::this_thread::sleep_for(100ms), CaughtUp()); }, 30s))
        << "committed " << alertd_->Metric("alertd_committed_records_total") << " of " << kWorkers + ReadingsSent()
        << " input records, lag " << alertd_->Metric("alertd_consumer_lag") << ", outbox "
        << alertd_->Metric("alertd_outbox_pending") << "\n"
        << alertd_->process().LogTail();
  }

  // The event ids the pure rules give for exactly what was sent.
  std::set<std::string> ExpectedEventIds() const {
    domain::Rulebook rules{domain::Policy{}};
    std::set<std::string> ids;
    for (const auto& [worker, readings] : sent_) {
      domain::WorkerState state;
      rules.OnWorkerProfile({worker}, wire::FromProto(MakeProfile(worker, "U01", "U01-G01")), state, {now_});
      for (const auto& reading : readings) {
        for (const auto& e : rules.OnReading(wire::FromProto(reading), state, {now_}).escalations) {
          ids.insert(e.event_id);
        }
      }
    }
    return ids;
  }

  // Called once alertd has confirmed all its output, so the topic's end is all there is to see.
  std::set<std::string> EventIdsOnTopic() const {
    std::set<std::string> ids;
    for (const std::string& value : ReadTopicToEnd(kafka_->bootstrap(), "escalations", kafka_->partitions(), 20s)) {
      healthgrid::v1::Escalation e;
      EXPECT_TRUE(e.ParseFromString(value)) << "an escalation that does not decode";
      ids.insert(e.event_id());
    }
    return ids;
  }

  // readings_accepted of every worker in the stopped engine's state.
  std::map<std::string, int> StoredReadingCounts() const {
    std::map<std::string, int> counts;
    const std::string command = std::string(ALERTD_BIN) + " dump-state --db " + db();
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
      ADD_FAILURE() << "cannot run " << command;
      return counts;
    }
    std::string out;
    char buffer[4096];
    for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
    EXPECT_EQ(pclose(pipe), 0) << command;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      const auto json = nlohmann::json::parse(line);
      counts[json.at("worker").get<std::string>()] += json.at("readings_accepted").get<int>();
    }
    return counts;
  }

  // After the fault is cleared and the last phase sent: nothing lost, nothing counted twice.
  void ExpectNothingLost() {
    producer_->Flush();
    WaitCaughtUp();
    EXPECT_EQ(alertd_->Metric("alertd_consumer_lag"), 0);
    const std::set<std::string> expected = ExpectedEventIds();
    ASSERT_GE(expected.size(), static_cast<size_t>(kWorkers)) << "the traffic must open escalations";
    EXPECT_EQ(EventIdsOnTopic(), expected);
    EXPECT_EQ(alertd_->process().Terminate(), 0) << alertd_->process().LogTail();
    std::map<std::string, int> want;
    for (const auto& [worker, readings] : sent_) want[worker] = static_cast<int>(readings.size());
    EXPECT_EQ(StoredReadingCounts(), want);
  }

  // Before the fault: the first phase is graded and its output confirmed.
  void RunFirstPhase() {
    SendProfiles();
    SendPhase(0);
    producer_->Flush();
    WaitCaughtUp();
  }

  TempDir dir_;
  std::unique_ptr<FaultyKafka> kafka_;
  std::unique_ptr<AlertdProcess> alertd_;
  std::unique_ptr<TestProducer> producer_;
  std::map<std::string, std::vector<healthgrid::v1::Reading>> sent_;
  const int64_t now_ = NowMs();
};

TEST_F(FaultTest, ControlApiAppliesNamedFaultsAndRefusesUnknownNames) {
  StartCluster(3);
  const FaultyKafka& kafka = *kafka_;
  auto answer = kafka.Call("GET", "/");
  EXPECT_EQ(answer.status, 200);
  EXPECT_NE(answer.body.find("/requests/{API}/errors"), std::string::npos) << answer.body;

  answer = kafka.Call("POST", "/requests/Produce/errors?error=NOT_LEADER_FOR_PARTITION&count=2");
  EXPECT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.body, "the next 2 Produce request(s) fail with NOT_LEADER_FOR_PARTITION\n");
  EXPECT_EQ(kafka.Call("DELETE", "/requests/Produce/errors").status, 200);
  EXPECT_EQ(kafka.Call("POST", "/brokers/2/rtt?ms=0").status, 200);
  EXPECT_EQ(kafka.Call("POST", "/topics/readings/error?error=LEADER_NOT_AVAILABLE").status, 200);
  EXPECT_EQ(kafka.Call("DELETE", "/topics/readings/error").status, 200);

  struct Refusal {
    std::string method, path, says;
  };
  for (const Refusal& r : std::vector<Refusal>{
           {"POST", "/requests/Prodcue/errors?error=NOT_LEADER_FOR_PARTITION", "unknown API 'Prodcue'"},
           {"POST", "/requests/Produce/errors?error=NOT_A_LEADER", "unknown error 'NOT_A_LEADER'"},
           {"POST", "/requests/Produce/errors?error=NO_ERROR", "unknown error 'NO_ERROR'"},
           {"POST", "/requests/Produce/errors", "missing ?error=NAME"},
           {"POST", "/requests/Fetch/errors?error=REQUEST_TIMED_OUT&count=0", "?count= must be"},
           {"POST", "/requests/Fetch/errors?error=REQUEST_TIMED_OUT&count=3x", "?count= must be"},
           {"POST", "/requests/Produce/errors?error=REQUEST_TIMED_OUT&broker=all", "?broker= names one broker"},
           {"POST", "/requests/Produce/errors?error=REQUEST_TIMED_OUT&broker=0", "no broker '0'"},
           {"GET", "/brokers/1/errors/Prodce", "unknown API 'Prodce'"},
           {"POST", "/brokers/4/down", "no broker '4': brokers are 1..3 or all"},
           {"POST", "/brokers/one/up", "no broker 'one'"},
           {"POST", "/brokers/1/rtt?ms=-5", "?ms= must be"},
           {"POST", "/topics/nonesuch/error?error=LEADER_NOT_AVAILABLE", "no topic 'nonesuch'"},
       }) {
    answer = kafka.Call(r.method, r.path);
    EXPECT_EQ(answer.status, 400) << r.path;
    EXPECT_NE(answer.body.find(r.says), std::string::npos) << r.path << ": " << answer.body;
  }
  EXPECT_EQ(kafka.Call("POST", "/brokers/1/sideways").status, 404);

  // Every fault applied is in the cluster's log, with what it did.
  std::ifstream in(dir_.path() + "/kafka.log");
  const std::string kafka_log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(kafka_log.find("fault from 127.0.0.1: the next 2 Produce request(s) fail with NOT_LEADER_FOR_PARTITION"),
            std::string::npos)
      << kafka_log;
  EXPECT_NE(kafka_log.find("fault from 127.0.0.1: metadata answers LEADER_NOT_AVAILABLE for topic readings"),
            std::string::npos);
}

// The mock brokers would leave Nagle's algorithm on: a producer writing to many partitions has one
// request per partition in flight, and every answer after the first waited for the client's delayed
// ACK, ~40 ms a round (a changelog write took 48 ms). alertd-kafka turns it off on its listeners, and
// again when a broker comes back up with a new listener.
TEST_F(FaultTest, PipelinedProduceToManyPartitionsIsAnsweredWithoutNagleDelay) {
  constexpr int kPartitions = 32;
  kafka_ = std::make_unique<FaultyKafka>(dir_.path(), 1, kPartitions);
  auto producer = kafka::NewProducer(kafka_->bootstrap(), {{"acks", "all"}, {"linger.ms", "0"}}, nullptr, nullptr);
  ASSERT_TRUE(producer.ok()) << producer.status();
  const auto median_round_ms = [&] {
    std::vector<double> rounds;
    for (int round = 0; round < 21; ++round) {
      const auto t0 = Clock::now();
      for (int p = 0; p < kPartitions; ++p) {
        const std::string value(100, 'x');
        const auto err = (*producer)->produce("readings", p, RdKafka::Producer::RK_MSG_COPY,
                                              const_cast<char*>(value.data()), value.size(), "k", 1, 0, nullptr);
        EXPECT_EQ(err, RdKafka::ERR_NO_ERROR);
      }
      EXPECT_EQ((*producer)->flush(10000), RdKafka::ERR_NO_ERROR);
      if (round > 0) rounds.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(rounds.begin(), rounds.end());
    return rounds[rounds.size() / 2];
  };
  // 40 ms and more with the stall; a few ms without, even on a loaded machine.
  EXPECT_LT(median_round_ms(), 25.0);
  kafka_->BrokerDown(1);
  kafka_->BrokerUp(1);
  EXPECT_LT(median_round_ms(), 25.0) << "after the broker came back up";
}

TEST_F(FaultTest, OnlyBrokerDownThenUp) {
  StartCluster(1);
  StartAlertd();
  RunFirstPhase();

  kafka_->BrokerDown(1);
  SendPhase(1);
  const double graded = ReadingsGraded();
  ExpectHealthyFor(kFault);
  EXPECT_EQ(ReadingsGraded(), graded) << "with the only broker down, nothing can arrive";
  kafka_->BrokerUp(1);

  SendPhase(2);
  ExpectNothingLost();
}

TEST_F(FaultTest, OneOfThreeBrokersDownThenUp) {
  StartCluster(3);
  StartAlertd();
  RunFirstPhase();

  // The leader of a readings partition that has workers on it: every phase sends to the same ones.
  int broker = -1;
  for (const PartitionPlace& place : PartitionPlaces(kafka_->bootstrap(), "readings", kafka_->partitions())) {
    if (place.records > 0) broker = place.leader;
  }
  ASSERT_GT(broker, 0);
  kafka_->BrokerDown(broker);
  SendPhase(1);
  ExpectHealthyFor(kFault);
  // The mock moves no leaders: the partitions that broker leads wait for it, the others go on.
  EXPECT_LT(ReadingsGraded(), ReadingsSent()) << "broker " << broker << " leads a partition with readings";
  kafka_->BrokerUp(broker);

  SendPhase(2);
  ExpectNothingLost();
}

TEST_F(FaultTest, ProduceErrorsHoldOutputInTheOutboxUntilTheyStop) {
  StartCluster(1);
  // A commit held by the errors stops the loop at the next one (back-pressure): a long commit interval
  // lets the whole phase be graded first, however slowly a loaded machine fetches it.
  StartAlertd({"--commit-interval-ms", "3000"});
  RunFirstPhase();

  // alertd paused while the phase is delivered, so it is the only producer that meets the errors.
  const double committed_before = alertd_->Metric("alertd_committed_records_total");
  ASSERT_EQ(kill(alertd_->process().pid(), SIGSTOP), 0);
  SendPhase(1);
  producer_->Flush();
  kafka_->FailRequests("Produce", "NOT_LEADER_FOR_PARTITION", kUntilCleared);
  ASSERT_EQ(kill(alertd_->process().pid(), SIGCONT), 0);
  ASSERT_TRUE(WaitFor([&] { return ReadingsGraded() >= ReadingsSent(); }, 20s)) << alertd_->process().LogTail();
  ExpectHealthyFor(kFault);
  // The state changelog is produced before a commit is written locally, so the errors hold the
  // phase's commit, and with it its output, until they stop (without a changelog the output would
  // wait in the outbox instead).
  EXPECT_EQ(alertd_->Metric("alertd_committed_records_total"), committed_before)
      << "the phase's commit and escalations must wait for the broker";
  kafka_->ClearRequestErrors("Produce");

  SendPhase(2);
  ExpectNothingLost();
}

TEST_F(FaultTest, BurstOfRetriableProduceErrorsEndsOnItsOwn) {
  StartCluster(1);
  StartAlertd();
  RunFirstPhase();

  ASSERT_EQ(kill(alertd_->process().pid(), SIGSTOP), 0);
  SendPhase(1);
  producer_->Flush();
  // On the broker's own stack, so what the burst left can be counted.
  for (const char* error : {"NOT_LEADER_FOR_PARTITION", "REQUEST_TIMED_OUT", "NOT_ENOUGH_REPLICAS"}) {
    kafka_->FailRequestsOnBroker(1, "Produce", error, 5);
  }
  ASSERT_EQ(kafka_->RequestErrorsLeft(1, "Produce"), 15);
  ASSERT_EQ(kill(alertd_->process().pid(), SIGCONT), 0);
  ExpectHealthyFor(kFault);
  WaitCaughtUp();
  // alertd, the only producer while the burst lasted, met every error and retried past them.
  EXPECT_EQ(kafka_->RequestErrorsLeft(1, "Produce"), 0);

  SendPhase(2);
  ExpectNothingLost();
}

TEST_F(FaultTest, FetchErrorsDelayGradingUntilTheyStop) {
  StartCluster(1);
  StartAlertd();
  RunFirstPhase();

  kafka_->FailRequests("Fetch", "NOT_LEADER_FOR_PARTITION", kUntilCleared);
  const double graded = ReadingsGraded();
  SendPhase(1);
  producer_->Flush();
  ExpectHealthyFor(kFault);
  EXPECT_EQ(ReadingsGraded(), graded) << "no fetch succeeds, so nothing new can be graded";
  kafka_->ClearRequestErrors("Fetch");

  SendPhase(2);
  ExpectNothingLost();
}

TEST_F(FaultTest, OffsetCommitErrorsDoNotTouchOffsetsKeptInRocksDb) {
  StartCluster(1);
  kafka_->FailRequests("OffsetCommit", "GROUP_AUTHORIZATION_FAILED", kUntilCleared);
  StartAlertd();
  RunFirstPhase();
  SendPhase(1);
  ExpectHealthyFor(1s);
  SendPhase(2);
  producer_->Flush();

  // The fault is real: a client that commits to Kafka is refused.
  auto probe = kafka::NewConsumer(kafka_->bootstrap(), "offset-commit-probe", {}, nullptr, nullptr);
  ASSERT_TRUE(probe.ok()) << probe.status();
  std::vector<RdKafka::TopicPartition*> offsets{RdKafka::TopicPartition::create("readings", 0, 1)};
  const RdKafka::ErrorCode commit = (*probe)->commitSync(offsets);
  const RdKafka::ErrorCode partition_error = offsets[0]->err();
  RdKafka::TopicPartition::destroy(offsets);
  (*probe)->close();
  EXPECT_TRUE(commit == RdKafka::ERR_GROUP_AUTHORIZATION_FAILED ||
              partition_error == RdKafka::ERR_GROUP_AUTHORIZATION_FAILED)
      << RdKafka::err2str(commit) << " / " << RdKafka::err2str(partition_error);

  ExpectNothingLost();
}

TEST_F(FaultTest, JoinGroupErrorsAtStartThenJoinsOnceTheyStop) {
  StartCluster(1);
  kafka_->FailRequests("JoinGroup", "COORDINATOR_LOAD_IN_PROGRESS", kUntilCleared);
  StartAlertd();
  SendProfiles();
  SendPhase(0);
  producer_->Flush();
  // Longer than a first join takes without the fault (the mock delays it 3 s to gather members).
  ExpectHealthyFor(5s);
  EXPECT_NE(alertd_->GetStatus("/readyz"), 200) << "no partitions can be owned without joining the group";
  EXPECT_EQ(ReadingsGraded(), 0);
  kafka_->ClearRequestErrors("JoinGroup");

  WaitCaughtUp();
  SendPhase(1);
  SendPhase(2);
  ExpectNothingLost();
}

TEST_F(FaultTest, AddedRoundTripTimeDelaysOutputButLosesNothing) {
  StartCluster(1);
  StartAlertd();
  RunFirstPhase();

  kafka_->SetRtt(0, 500);
  const auto sent_at = Clock::now();
  SendPhase(1);
  producer_->Flush();
  WaitCaughtUp();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - sent_at);
  // The reading waits for the produce answer and alertd for its fetch answer, each 500 ms late.
  EXPECT_GE(took, 500ms) << "the added round-trip time did not slow anything";
  EXPECT_EQ(alertd_->GetStatus("/healthz"), 200);
  kafka_->SetRtt(0, 0);

  SendPhase(2);
  ExpectNothingLost();
}

}  // namespace
}  // namespace alertd::testing
