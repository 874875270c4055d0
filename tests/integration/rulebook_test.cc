// The issue-3 inputs end to end: clock-ins on `shifts` and answers on `escalation-acks`, through alertd
// as its own process and the embedded cluster; the topic must carry what the pure rules decide.
#include <gtest/gtest.h>

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

std::set<std::string> DistinctIds(const std::vector<ConsumedRecord>& records) {
  std::set<std::string> ids;
  for (const auto& e : Events(records)) ids.insert(e.event_id());
  return ids;
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

  auto records = ConsumeAll(kafka_.bootstrap(), "escalations",
                            [&](const auto& r) { return DistinctIds(r).size() >= expected.size(); }, 30s);
  std::vector<std::string> seen;
  for (const auto& e : Events(records)) {
    EXPECT_EQ(e.rule(), healthgrid::v1::R4_PRE_SHIFT_FITNESS) << e.reason();
    if (seen.empty() || seen.back() != e.event_id()) seen.push_back(e.event_id());
  }
  EXPECT_EQ(seen, expected) << alertd.process().LogTail();
  const auto events = Events(records);
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

  auto opened = ConsumeAll(kafka_.bootstrap(), "escalations", [](const auto& r) { return !r.empty(); }, 30s);
  ASSERT_EQ(opened.size(), 1u) << alertd.process().LogTail();
  const healthgrid::v1::Escalation r1 = Events(opened)[0];
  ASSERT_EQ(r1.state(), healthgrid::v1::OPEN);

  healthgrid::v1::EscalationAck ack;
  ack.set_worker_id("A1");
  ack.set_episode_id(r1.episode_id());
  ack.set_rule(r1.rule());
  ack.set_action(healthgrid::v1::RESOLVE);
  ack.mutable_by()->set_id("HM-U03-G01");
  ack.mutable_by()->set_name("Manager of U03-G01");
  ack.set_at_ms(NowMs());
  producer.Send("escalation-acks", "A1", ack.SerializeAsString());
  // An ack for an episode that does not exist changes nothing and is counted.
  healthgrid::v1::EscalationAck stray = ack;
  stray.set_episode_id("no-such-episode");
  producer.Send("escalation-acks", "A1", stray.SerializeAsString());
  // A malformed ack is a dead letter, not a crash.
  producer.Send("escalation-acks", "A1", std::string("\xff\x01garbage", 9));
  producer.Flush();

  auto after = ConsumeAll(kafka_.bootstrap(), "escalations", [](const auto& r) { return r.size() >= 2; }, 30s);
  ASSERT_EQ(after.size(), 2u) << alertd.process().LogTail();
  const healthgrid::v1::Escalation resolved = Events(after)[1];
  EXPECT_EQ(resolved.state(), healthgrid::v1::RESOLVED);
  EXPECT_EQ(resolved.episode_id(), r1.episode_id());
  EXPECT_NE(resolved.reason().find("Manager of U03-G01"), std::string::npos) << resolved.reason();
  auto dead = ConsumeAll(kafka_.bootstrap(), "dead-letters", [](const auto& r) { return !r.empty(); }, 30s);
  EXPECT_EQ(dead.size(), 1u);
  EXPECT_TRUE(WaitFor([&] { return alertd.Metric("alertd_ignored_total") >= 1; }, 10s));
  EXPECT_EQ(alertd.process().Terminate(), 0);
}

}  // namespace
}  // namespace alertd::testing
