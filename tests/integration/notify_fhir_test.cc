// alertd-notify's FHIR loop through real processes: referrals on `referrals` reach a local FHIR
// receiver that fails, times out, answers garbage and refuses; each arrives once as its Bundle,
// duplicates are not POSTed, a 400 fails for good, and kill -9 mid-stream loses no referral.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "engine/fhir/referral_bundle.h"
#include "engine/notifyd/referral_delivery.h"
#include "tests/fhir/referral_samples.h"
#include "tests/integration/harness.h"

namespace alertd::testing {
namespace {

namespace pb = healthgrid::v1;
using namespace std::chrono_literals;
using nlohmann::json;

// Referral `i` of worker W<i>: an urgent R1 referral with one grade-3 reading.
pb::Referral Referral(int i) {
  pb::Referral r = fhir::testing::BaseReferral(pb::R1_CRITICAL_BP, pb::REFERRAL_URGENT);
  r.set_referral_id("rf-" + std::to_string(i));
  r.set_episode_id("ep-" + std::to_string(i));
  r.set_worker_id("W" + std::to_string(1000 + i));
  r.set_reason("186/112 mmHg: see a doctor today");
  *r.add_evidence() = fhir::testing::Bp(fhir::testing::kMorningMs + i * 60000, 180 + i % 10, 110, 90);
  return r;
}

json ExpectedBundle(const pb::Referral& r) {
  absl::StatusOr<json> bundle = fhir::ReferralBundle(r, fhir::FhirOptions{});
  EXPECT_TRUE(bundle.ok()) << bundle.status();
  return bundle.ok() ? *bundle : json();
}

// The referral id a Bundle's ServiceRequest carries; "" when the body is not such a Bundle.
std::string ReferralIdOf(const std::string& body) {
  const json bundle = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!bundle.is_object() || !bundle.contains("entry")) return "";
  for (const json& entry : bundle["entry"]) {
    const json& resource = entry.value("resource", json::object());
    if (resource.value("resourceType", "") == "ServiceRequest") return resource["identifier"][0].value("value", "");
  }
  return "";
}

// A clinic's FHIR base on 127.0.0.1 (cpp-httplib): records each POST and answers as told.
class FhirReceiver {
 public:
  struct Request {
    std::string referral_id;
    std::string body;
    std::string authorization;
    int status = 0;  // 0 while the answer is being made
    std::chrono::steady_clock::time_point answered;
  };
  struct Answer {
    int status = 200;
    std::string body;
    std::chrono::milliseconds delay{0};
  };
  using Behaviour = std::function<Answer(const std::string& referral_id, int seen_before)>;

  explicit FhirReceiver(Behaviour behaviour) : behaviour_(std::move(behaviour)) {
    server_.Post("/fhir", [this](const httplib::Request& req, httplib::Response& res) {
      Request request;
      request.referral_id = ReferralIdOf(req.body);
      request.body = req.body;
      request.authorization = req.get_header_value("Authorization");
      int seen = 0;
      std::size_t index = 0;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const Request& r : received_) seen += r.referral_id == request.referral_id;
        index = received_.size();
        received_.push_back(request);
      }
      const Answer answer = behaviour_(request.referral_id, seen);
      if (answer.delay.count() > 0) std::this_thread::sleep_for(answer.delay);
      res.status = answer.status;
      res.set_content(answer.body, "application/fhir+json");
      std::lock_guard<std::mutex> lock(mutex_);
      received_[index].status = answer.status;
      received_[index].answered = std::chrono::steady_clock::now();
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) ADD_FAILURE() << "the FHIR receiver cannot listen on 127.0.0.1";
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    WaitFor([this] { return server_.is_running(); }, 5s, 5ms);
  }
  ~FhirReceiver() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/fhir"; }
  std::vector<Request> Received() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }
  // Referral id -> requests the receiver answered 2xx.
  std::map<std::string, int> Accepted() const {
    std::map<std::string, int> out;
    for (const Request& r : Received()) {
      if (r.status >= 200 && r.status < 300) ++out[r.referral_id];
    }
    return out;
  }

 private:
  Behaviour behaviour_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  std::vector<Request> received_;
};

// The final outcome of each referral delivery key on `referral-deliveries`, and how many each has.
struct Outcomes {
  std::map<std::string, pb::Delivery> last;
  std::map<std::string, int> finals;
};

Outcomes ReadOutcomes(const std::string& bootstrap) {
  Outcomes out;
  for (const ConsumedRecord& r : ReadToEnd(bootstrap, "referral-deliveries")) {
    pb::Delivery d;
    EXPECT_TRUE(d.ParseFromString(r.value));
    ++out.finals[d.delivery_key()];
    out.last[d.delivery_key()] = d;
  }
  return out;
}

// Runs tests/fhir's validator (@medplum/core against the R4 profiles) on `bundles`; its exit code and output.
std::pair<int, std::string> ValidateWithMedplum(const std::vector<std::pair<std::string, json>>& bundles,
                                                const std::string& dir) {
  json file{{"bundles", json::array()}, {"flags", json::array()}};
  for (const auto& [name, bundle] : bundles) file["bundles"].push_back({{"name", name}, {"bundle", bundle}});
  const std::string path = dir + "/received-bundles.json";
  WriteTextFile(path, file.dump());
  const std::string command = std::string(FHIR_NODE_BIN) + " " + FHIR_VALIDATE_SCRIPT + " --modules " +
                              FHIR_VALIDATOR_MODULES + " --received " + path + " 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, "cannot run " + command};
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

const char kTransactionResponse[] = R"({"resourceType":"Bundle","type":"transaction-response","entry":[]})";

class NotifyFhirTest : public ::testing::Test {
 protected:
  NotifyFhirTest() {
    // The escalation loop runs beside the FHIR one; no escalation is produced in these tests.
    config_ = dir_.path() + "/notify.yaml";
    WriteTextFile(config_,
                  "channels:\n  desk:\n    kind: webhook\n    url: http://127.0.0.1:9/unused\n"
                  "    body: '{\"event\": \"{{event_id}}\"}'\n"
                  "recipients:\n  - role: health_manager\n    channels: [desk]\n");
  }
  std::unique_ptr<NotifyProcess> StartNotify(std::vector<std::string> flags, const std::string& log) {
    return std::make_unique<NotifyProcess>(ALERTD_NOTIFY_BIN, kafka_.bootstrap(), config_, ALERTD_NOTIFY_TEMPLATES,
                                           dir_.path() + "/" + log, std::move(flags));
  }

  TempDir dir_;
  EmbeddedKafka kafka_{dir_.path(), 4};
  std::string config_;
};

TEST_F(NotifyFhirTest, EachReferralReachesTheClinicOnceThroughFailuresTimeoutsAndGarbageAndA400FailsForGood) {
  // rf-0: 500 twice; rf-1: hangs past the send timeout once; rf-2: a 200 whose body is not FHIR
  // (the server took it: 2xx is success); rf-3: 400, a refusal; the rest: accepted at once.
  FhirReceiver clinic([](const std::string& id, int seen) -> FhirReceiver::Answer {
    if (id == "rf-0" && seen < 2) return {500, "oops"};
    if (id == "rf-1" && seen < 1) return {503, "late", 1500ms};
    if (id == "rf-2") return {200, "<html>proxy says hello</html>"};
    if (id == "rf-3") return {400, R"({"resourceType":"OperationOutcome","issue":[]})"};
    return {200, kTransactionResponse};
  });
  const std::string token = "clinic-token-7f9e2a";
  WriteTextFile(dir_.path() + "/fhir.token", token + "\n");

  constexpr int kReferrals = 6;
  TestProducer producer(kafka_.bootstrap());
  for (int i = 0; i < kReferrals; ++i) {
    producer.Send("referrals", Referral(i).worker_id(), Referral(i).SerializeAsString());
  }
  producer.Send("referrals", Referral(4).worker_id(), Referral(4).SerializeAsString());  // a duplicate
  producer.Send("referrals", "W1009", std::string("\x07not a referral", 15));            // does not parse
  pb::Referral refused = Referral(9);
  refused.mutable_evidence(0)->set_systolic_mmhg(0);  // ReferralBundle refuses a reading without its value
  producer.Send("referrals", refused.worker_id(), refused.SerializeAsString());
  producer.Flush();

  const std::vector<std::string> flags = {
      "--fhir-base-url",   clinic.base_url(), "--fhir-token-file",  dir_.path() + "/fhir.token",
      "--referrals-fhir-topic", "referrals-fhir", "--retry-base-ms", "100", "--retry-max-ms", "400",
      "--send-timeout-ms", "700",             "--connect-timeout-ms", "500"};
  auto notify = StartNotify(flags, "notify.log");
  const std::size_t expected = 2 * kReferrals;  // each referral: the POST and the topic
  ASSERT_TRUE(WaitFor([&] { return ReadOutcomes(kafka_.bootstrap()).last.size() >= expected; }, 60s, 500ms))
      << notify->process().LogTail();

  const Outcomes outcomes = ReadOutcomes(kafka_.bootstrap());
  ASSERT_EQ(outcomes.last.size(), expected);
  const std::map<std::string, uint32_t> attempts = {{"rf-0", 3}, {"rf-1", 2}, {"rf-2", 1},
                                                    {"rf-3", 1}, {"rf-4", 1}, {"rf-5", 1}};
  for (const auto& [key, d] : outcomes.last) {
    EXPECT_EQ(outcomes.finals.at(key), 1) << key << " has more than one outcome";
    EXPECT_EQ(d.delivery_key(), notifyd::ReferralDeliveryKey(d.event_id(), d.channel()));
    if (d.channel() == "fhir-topic") {
      EXPECT_EQ(d.status(), pb::DELIVERY_SENT) << key;
      continue;
    }
    ASSERT_EQ(d.channel(), "fhir") << key;
    EXPECT_EQ(d.attempts(), attempts.at(d.event_id())) << key << ": " << d.error();
    if (d.event_id() == "rf-3") {
      EXPECT_EQ(d.status(), pb::DELIVERY_FAILED) << "a 400 is a refusal, recorded as failed";
      EXPECT_NE(d.error().find("400"), std::string::npos) << d.error();
    } else {
      EXPECT_EQ(d.status(), pb::DELIVERY_SENT) << key << ": " << d.error();
    }
  }

  // What the clinic got: each referral accepted once, as exactly the Bundle ReferralBundle makes, with the token.
  std::map<std::string, int> requests;
  for (const FhirReceiver::Request& r : clinic.Received()) {
    ++requests[r.referral_id];
    EXPECT_EQ(r.authorization, "Bearer " + token);
  }
  EXPECT_EQ(requests, (std::map<std::string, int>{{"rf-0", 3}, {"rf-1", 2}, {"rf-2", 1},
                                                  {"rf-3", 1}, {"rf-4", 1}, {"rf-5", 1}}))
      << "the 400 is not retried and the duplicate of rf-4 is not POSTed";
  const std::map<std::string, int> accepted = clinic.Accepted();
  EXPECT_EQ(accepted, (std::map<std::string, int>{{"rf-0", 1}, {"rf-1", 1}, {"rf-2", 1}, {"rf-4", 1}, {"rf-5", 1}}));
  std::vector<std::pair<std::string, json>> got;
  for (const FhirReceiver::Request& r : clinic.Received()) {
    const int i = std::stoi(r.referral_id.substr(3));
    EXPECT_EQ(json::parse(r.body), ExpectedBundle(Referral(i))) << r.referral_id;
    if (r.status >= 200 && r.status < 300) got.emplace_back(r.referral_id, json::parse(r.body));
  }
  const auto [validator_exit, validator_output] = ValidateWithMedplum(got, dir_.path());
  EXPECT_EQ(validator_exit, 0) << "the Bundles the clinic accepted fail FHIR R4 validation:\n" << validator_output;
  EXPECT_NE(validator_output.find("in 5 bundles"), std::string::npos) << validator_output;

  // The topic: each referral's Bundle once, keyed by its referral id.
  std::map<std::string, int> on_topic;
  for (const ConsumedRecord& r : ReadToEnd(kafka_.bootstrap(), "referrals-fhir")) {
    ++on_topic[r.key];
    EXPECT_EQ(json::parse(r.value), ExpectedBundle(Referral(std::stoi(r.key.substr(3))))) << r.key;
  }
  EXPECT_EQ(on_topic.size(), static_cast<std::size_t>(kReferrals));
  for (const auto& [key, n] : on_topic) EXPECT_EQ(n, 1) << key;

  const std::vector<ConsumedRecord> dead = ReadToEnd(kafka_.bootstrap(), "dead-letters");
  ASSERT_EQ(dead.size(), 2u);
  std::set<std::string> why;
  for (const ConsumedRecord& r : dead) {
    pb::DeadLetter letter;
    ASSERT_TRUE(letter.ParseFromString(r.value));
    EXPECT_EQ(letter.source_topic(), "referrals");
    why.insert(letter.message().substr(0, 14));
  }
  EXPECT_EQ(why, (std::set<std::string>{"not a healthgr", "no FHIR Bundle"}));

  EXPECT_EQ(notify->Metric("alertd_notify_deliveries_total", {{"channel", "fhir"}, {"outcome", "sent"}}), 5);
  EXPECT_EQ(notify->Metric("alertd_notify_deliveries_total", {{"channel", "fhir"}, {"outcome", "failed"}}), 1);
  EXPECT_EQ(notify->Metric("alertd_notify_deliveries_total", {{"channel", "fhir"}, {"outcome", "duplicate"}}), 1);
  EXPECT_EQ(notify->Metric("alertd_notify_deliveries_total", {{"channel", "fhir-topic"}, {"outcome", "sent"}}),
            kReferrals);
  EXPECT_EQ(notify->Metric("alertd_notify_attempts_total", {{"channel", "fhir"}}), 9);
  EXPECT_EQ(notify->Metric("alertd_notify_dead_letters_total"), 2);

  // Restarted, it finds every referral done: a redelivered one is neither POSTed nor produced again.
  ASSERT_EQ(notify->process().Terminate(), 0) << notify->process().LogTail();
  notify = StartNotify(flags, "notify2.log");
  producer.Send("referrals", Referral(1).worker_id(), Referral(1).SerializeAsString());
  producer.Flush();
  ASSERT_TRUE(WaitFor(
      [&] { return notify->Metric("alertd_notify_deliveries_total", {{"outcome", "duplicate"}}) >= 2; }, 30s, 200ms))
      << notify->process().LogTail();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(clinic.Received().size(), 9u);
  EXPECT_EQ(ReadToEnd(kafka_.bootstrap(), "referrals-fhir").size(), static_cast<std::size_t>(kReferrals));

  for (const std::string log : {"notify.log", "notify2.log"}) {
    std::ifstream in(dir_.path() + "/" + log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text.find(token), std::string::npos) << "the token is never logged (" << log << ")";
    EXPECT_EQ(text.find("杨建国"), std::string::npos) << "no worker's name in the log (" << log << ")";
  }
}

TEST_F(NotifyFhirTest, Kill9MidStreamLosesNoReferralAndRepeatsAtMostThePostsInFlight) {
  FhirReceiver clinic([](const std::string&, int) { return FhirReceiver::Answer{200, kTransactionResponse, 300ms}; });
  constexpr int kReferrals = 60;
  TestProducer producer(kafka_.bootstrap());
  for (int i = 0; i < kReferrals; ++i) {
    producer.Send("referrals", Referral(i).worker_id(), Referral(i).SerializeAsString());
  }
  producer.Flush();

  const std::vector<std::string> flags = {"--fhir-base-url", clinic.base_url(), "--referrals-fhir-topic",
                                          "referrals-fhir", "--max-in-flight", "4"};
  auto notify = StartNotify(flags, "notify.log");
  // Past the first commits (every second), so the kill lands between a commit and the next.
  ASSERT_TRUE(WaitFor([&] { return clinic.Received().size() >= 30; }, 60s, 10ms)) << notify->process().LogTail();
  const auto killed_at = std::chrono::steady_clock::now();
  notify->process().Kill9();
  int in_flight = 0;
  for (const FhirReceiver::Request& r : clinic.Received()) {
    if (r.status == 0 || r.answered > killed_at - 100ms) ++in_flight;
  }
  const std::size_t before_restart = clinic.Received().size();

  notify = StartNotify(flags, "notify2.log");
  std::set<std::string> expected;
  for (int i = 0; i < kReferrals; ++i) expected.insert(Referral(i).referral_id());
  auto distinct = [&] {
    std::set<std::string> ids;
    for (const FhirReceiver::Request& r : clinic.Received()) ids.insert(r.referral_id);
    return ids;
  };
  ASSERT_TRUE(WaitFor([&] { return distinct() == expected; }, 60s, 100ms)) << notify->process().LogTail();
  ASSERT_TRUE(WaitFor([&] { return ReadOutcomes(kafka_.bootstrap()).last.size() == 2 * expected.size(); }, 30s, 200ms))
      << notify->process().LogTail();
  const int repeats = static_cast<int>(clinic.Received().size() - expected.size());
  std::cout << "kill -9 after " << before_restart << " POSTs; in flight at the kill: " << in_flight
            << "; repeated after restart: " << repeats << "\n";
  EXPECT_LE(repeats, in_flight);
  std::set<std::string> on_topic;
  for (const ConsumedRecord& r : ReadToEnd(kafka_.bootstrap(), "referrals-fhir")) on_topic.insert(r.key);
  EXPECT_EQ(on_topic, expected) << "every referral's Bundle is on referrals-fhir";
}

}  // namespace
}  // namespace alertd::testing
