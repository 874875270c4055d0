// The issue-3 inputs end to end: clock-ins on `shifts` and answers on `escalation-acks`, through alertd
// as its own process and the embedded cluster; the topic must carry what the pure rules decide.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "engine/domain/rulebook.h"
#include "engine/wire/convert.h"
#include "tests/integration/harness.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;
constexpr int64_t kMinute = 60 * 1000;

std::vector<healthgrid::v1::Escalation> Events(const std::vector<ConsumedRecord>& records) {
  std::vector<healthgrid::v1::Escalation> out;
  for (const auto& r : records) {
    healthgrid::v1::Escalation e;
    EXPECT_TRUE(e.ParseFromString(r.value));
    out.push_back(std::move(e));
  }
  return out;
}

// Each event once, in the order of its first copy: output is at least once, and a duplicate carries
// the same event id.
std::vector<healthgrid::v1::Escalation> Distinct(const std::vector<ConsumedRecord>& records) {
  std::vector<healthgrid::v1::Escalation> out;
  std::set<std::string> ids;
  for (auto& e : Events(records)) {
    if (ids.insert(e.event_id()).second) out.push_back(std::move(e));
  }
  return out;
}

class RulebookThroughKafkaTest : public ::testing::Test {
 protected:
  TempDir dir_;
  EmbeddedKafka kafka_{dir_.path()};
};

TEST_F(RulebookThroughKafkaTest, ClockInsOnTheShiftsTopicApplyPreShiftFitness) {
  ASSERT_FALSE(kafka_.bootstrap().empty());
  AlertdProcess alertd(kafka_.bootstrap(), dir_.path() + "/db", dir_.path() + "/alertd.log");
  TestProducer producer(kafka_.bootstrap());
  const int64_t now = NowMs();

  healthgrid::v1::WorkerProfile driver = MakeProfile("D1", "U02", "U02-G05");
  driver.add_high_risk_posts(healthgrid::v1::DRIVER);
  producer.Send("worker-profiles", "D1", driver.SerializeAsString());
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return alertd.Metric("alertd_committed_records_total") >= 1; }, 30s));

  // Clock-in with no pre-shift check; then an unfit pre-shift reading; then clocking in anyway.
  healthgrid::v1::ShiftEvent first;
  first.set_worker_id("D1");
  first.set_post(healthgrid::v1::DRIVER);
  first.set_clock_in_at_ms(now - 30 * kMinute);
  first.set_site("Well pad 7");
  healthgrid::v1::Reading unfit = MakeBp("D1", now - 20 * kMinute, 166, 104);
  unfit.set_context(healthgrid::v1::PRE_SHIFT);
  healthgrid::v1::ShiftEvent second = first;
  second.set_clock_in_at_ms(now - 10 * kMinute);
  producer.Send("shifts", "D1", first.SerializeAsString());
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return alertd.Metric("alertd_committed_records_total") >= 2; }, 30s));
  producer.Send("readings", "D1", unfit.SerializeAsString());
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return alertd.Metric("alertd_committed_records_total") >= 3; }, 30s));
  producer.Send("shifts", "D1", second.SerializeAsString());
  producer.Flush();

  // What the rules decide for this history, in order.
  domain::Rulebook rules{domain::Policy{}};
  domain::WorkerState state;
  std::vector<std::string> expected;
  auto add = [&](const domain::Outcome& o) {
    for (const auto& e : o.escalations) expected.push_back(e.event_id);
  };
  add(rules.OnWorkerProfile({"D1"}, wire::FromProto(driver), state, {now}));
  add(rules.OnShift(wire::FromProto(first), state, {now}));
  add(rules.OnReading(wire::FromProto(unfit), state, {now}));
  add(rules.OnShift(wire::FromProto(second), state, {now}));
  ASSERT_FALSE(expected.empty()) << "the history must trigger R4";

  // Everything on the topic once alertd has caught up: exactly the rules' events, in their order.
  const auto events = Distinct(alertd.ReadOutput("escalations"));
  std::vector<std::string> seen;
  for (const auto& e : events) {
    EXPECT_EQ(e.rule(), healthgrid::v1::R4_PRE_SHIFT_FITNESS) << e.reason();
    seen.push_back(e.event_id());
  }
  EXPECT_EQ(seen, expected) << alertd.process().LogTail();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().severity(), healthgrid::v1::CRITICAL) << "clocked in while unfit: " << events.back().reason();
  EXPECT_EQ(alertd.process().Terminate(), 0);
}

TEST_F(RulebookThroughKafkaTest, AnAckOnTheAcksTopicResolvesTheEpisode) {
  ASSERT_FALSE(kafka_.bootstrap().empty());
  AlertdProcess alertd(kafka_.bootstrap(), dir_.path() + "/db", dir_.path() + "/alertd.log");
  TestProducer producer(kafka_.bootstrap());
  const int64_t now = NowMs();
  producer.Send("worker-profiles", "A1", MakeProfile("A1", "U03", "U03-G01").SerializeAsString());
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return alertd.Metric("alertd_committed_records_total") >= 1; }, 30s));
  producer.Send("readings", "A1", MakeBp("A1", now - kMinute, 188, 116).SerializeAsString());
  producer.Flush();

  const auto opened = Distinct(alertd.ReadOutput("escalations"));
  ASSERT_EQ(opened.size(), 1u) << alertd.process().LogTail();
  const healthgrid::v1::Escalation r1 = opened[0];
  ASSERT_EQ(r1.state(), healthgrid::v1::OPEN);

  healthgrid::v1::EscalationAck ack;
  ack.set_worker_id("A1");
  ack.set_episode_id(r1.episode_id());
  ack.set_rule(r1.rule());
  ack.set_action(healthgrid::v1::RESOLVE);
  ack.mutable_by()->set_id("HM-U03-G01");
  ack.mutable_by()->set_name("Manager of U03-G01");
  ack.set_at_ms(NowMs());
  // While the episode is open, an ack naming the worker and rule but an episode that does not exist
  // changes nothing (no event; the episode stays open for the real ack below) and is counted.
  healthgrid::v1::EscalationAck stray = ack;
  stray.set_episode_id("no-such-episode");
  producer.Send("escalation-acks", "A1", stray.SerializeAsString());
  producer.Flush();
  const auto after_stray = Distinct(alertd.ReadOutput("escalations"));
  ASSERT_EQ(after_stray.size(), 1u) << "the stray ack made an event: " << after_stray.back().reason();
  EXPECT_EQ(alertd.Metric("alertd_ignored_total"), 1);
  EXPECT_EQ(alertd.Metric("alertd_open_escalations", {{"rule", "R1_critical_bp"}}), 1);

  producer.Send("escalation-acks", "A1", ack.SerializeAsString());
  // A malformed ack is a dead letter, not a crash.
  producer.Send("escalation-acks", "A1", std::string("\xff\x01garbage", 9));
  producer.Flush();

  const auto after = Distinct(alertd.ReadOutput("escalations"));
  ASSERT_EQ(after.size(), 2u) << alertd.process().LogTail();
  const healthgrid::v1::Escalation resolved = after[1];
  EXPECT_EQ(resolved.state(), healthgrid::v1::RESOLVED);
  EXPECT_EQ(resolved.episode_id(), r1.episode_id());
  EXPECT_NE(resolved.reason().find("Manager of U03-G01"), std::string::npos) << resolved.reason();
  // One dead letter, counted by its source record (a duplicate names the same one).
  std::set<std::pair<int32_t, int64_t>> dead;
  for (const auto& r : ReadToEnd(kafka_.bootstrap(), "dead-letters")) {
    healthgrid::v1::DeadLetter d;
    EXPECT_TRUE(d.ParseFromString(r.value));
    EXPECT_EQ(d.source_topic(), "escalation-acks");
    dead.emplace(d.source_partition(), d.source_offset());
  }
  EXPECT_EQ(dead.size(), 1u);
  EXPECT_EQ(alertd.Metric("alertd_ignored_total"), 1) << "only the stray ack is ignored";
  EXPECT_EQ(alertd.process().Terminate(), 0);
}

std::vector<healthgrid::v1::Referral> Referrals(const std::vector<ConsumedRecord>& records) {
  std::vector<healthgrid::v1::Referral> out;
  for (const auto& r : records) {
    healthgrid::v1::Referral ref;
    EXPECT_TRUE(ref.ParseFromString(r.value));
    out.push_back(std::move(ref));
  }
  return out;
}

// R5 and R1 ask for clinic referrals on their own topic; an ack naming only the rule (no episode id)
// acts on the worker's open episode of that rule.
TEST_F(RulebookThroughKafkaTest, ReferralsGoToTheirTopicAndAnAckByRuleResolves) {
  ASSERT_FALSE(kafka_.bootstrap().empty());
  AlertdProcess alertd(kafka_.bootstrap(), dir_.path() + "/db", dir_.path() + "/alertd.log");
  TestProducer producer(kafka_.bootstrap());
  const int64_t now = NowMs();
  producer.Send("worker-profiles", "G1", MakeProfile("G1", "U04", "U04-G02").SerializeAsString());
  producer.Send("worker-profiles", "C1", MakeProfile("C1", "U04", "U04-G03").SerializeAsString());
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return alertd.Metric("alertd_committed_records_total") >= 2; }, 30s));
  // High fasting glucose twice within 30 days: HIGH and a routine referral. A critical BP: URGENT
  // and an urgent referral.
  producer.Send("readings", "G1", MakeGlucose("G1", now - 3 * 24 * 60 * kMinute, 7.8, healthgrid::v1::FASTING).SerializeAsString());
  producer.Send("readings", "G1", MakeGlucose("G1", now - 60 * kMinute, 8.4, healthgrid::v1::FASTING).SerializeAsString());
  producer.Send("readings", "C1", MakeBp("C1", now - kMinute, 192, 118).SerializeAsString());
  producer.Flush();

  // Exactly two referrals (counted by referral id: a duplicate carries the same one) and two events.
  std::map<std::string, healthgrid::v1::Referral> refs;
  for (auto& ref : Referrals(alertd.ReadOutput("referrals"))) refs.emplace(ref.referral_id(), std::move(ref));
  ASSERT_EQ(refs.size(), 2u) << alertd.process().LogTail();
  const auto opened = Distinct(ReadToEnd(kafka_.bootstrap(), "escalations"));
  ASSERT_EQ(opened.size(), 2u) << alertd.process().LogTail();
  std::map<std::string, healthgrid::v1::Escalation> episode_of;
  for (const auto& e : opened) episode_of[e.worker_id()] = e;
  for (const auto& [_, ref] : refs) {
    SCOPED_TRACE(ref.worker_id());
    ASSERT_TRUE(episode_of.count(ref.worker_id()));
    const auto& e = episode_of[ref.worker_id()];
    EXPECT_EQ(ref.episode_id(), e.episode_id());
    EXPECT_NE(ref.referral_id(), e.event_id());
    EXPECT_EQ(ref.rule(), e.rule());
    EXPECT_EQ(ref.health_manager().id(), "HM-" + ref.grid_id());
    if (ref.worker_id() == "G1") {
      EXPECT_EQ(ref.rule(), healthgrid::v1::R5_GLUCOSE);
      EXPECT_EQ(ref.urgency(), healthgrid::v1::REFERRAL_ROUTINE);
      EXPECT_EQ(e.severity(), healthgrid::v1::HIGH);
      EXPECT_EQ(ref.glucose_evidence_size(), 2);
    } else {
      EXPECT_EQ(ref.rule(), healthgrid::v1::R1_CRITICAL_BP);
      EXPECT_EQ(ref.urgency(), healthgrid::v1::REFERRAL_URGENT);
      EXPECT_EQ(ref.evidence_size(), 1);
    }
  }

  healthgrid::v1::EscalationAck ack;
  ack.set_worker_id("G1");
  ack.set_rule(healthgrid::v1::R5_GLUCOSE);  // no episode_id: the open R5 episode
  ack.set_action(healthgrid::v1::RESOLVE);
  ack.mutable_by()->set_id("HM-U04-G02");
  ack.mutable_by()->set_name("Manager of U04-G02");
  ack.set_at_ms(NowMs());
  producer.Send("escalation-acks", "G1", ack.SerializeAsString());
  producer.Flush();
  const auto after = Distinct(alertd.ReadOutput("escalations"));
  ASSERT_EQ(after.size(), 3u) << alertd.process().LogTail();
  const healthgrid::v1::Escalation resolved = after[2];
  EXPECT_EQ(resolved.state(), healthgrid::v1::RESOLVED);
  EXPECT_EQ(resolved.episode_id(), episode_of["G1"].episode_id());
  EXPECT_EQ(alertd.Metric("alertd_referrals_total"), 2);
  std::set<std::string> referral_ids;
  for (const auto& ref : Referrals(ReadToEnd(kafka_.bootstrap(), "referrals"))) referral_ids.insert(ref.referral_id());
  EXPECT_EQ(referral_ids.size(), refs.size()) << "the ack made a referral";
  EXPECT_EQ(alertd.process().Terminate(), 0);
}

}  // namespace
}  // namespace alertd::testing
