// The backtest on hand-made timelines, no broker: two policies over the same merged records, through the
// engine's own task in stream time, where the answer is known.
#include "engine/backtest/backtest.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "engine/backtest/report.h"
#include "health.pb.h"
#include "tests/support/records.h"

namespace alertd::backtest {
namespace {

using alertd::testing::MakeBp;
using alertd::testing::MakeProfile;

constexpr int64_t kMinute = 60 * 1000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kFrom = 1'741'190'400'000;  // 2025-03-06 00:00 +08:00
constexpr int kProfiles = 0, kReadings = 1;

app::Topics Topics() {
  return {"readings", "worker-profiles", "shifts", "escalation-acks", "escalations", "dead-letters", "referrals"};
}

domain::Policy Critical(int systolic, int diastolic) {
  domain::Policy p;
  p.r1_critical_systolic = systolic;
  p.r1_critical_diastolic = diastolic;
  return p;
}

// Records of partition 0 in the order given (already the merge's order), with offsets per input.
class Timeline {
 public:
  Timeline& Profile(const healthgrid::v1::WorkerProfile& p, int64_t at) {
    return Add(kProfiles, p.worker_id(), p.SerializeAsString(), at);
  }
  Timeline& Reading(const healthgrid::v1::Reading& r, int64_t at) {
    return Add(kReadings, r.worker_id(), r.SerializeAsString(), at);
  }
  Timeline& Raw(int input, const std::string& key, const std::string& value, int64_t at) {
    return Add(input, key, value, at);
  }
  const std::vector<HistoryRecord>& records() const { return records_; }

 private:
  Timeline& Add(int input, const std::string& key, const std::string& value, int64_t at) {
    records_.push_back({.input = input, .partition = 0, .offset = next_[input]++, .timestamp = at, .key = key,
                        .tombstone = false, .value = value});
    return *this;
  }
  std::vector<HistoryRecord> records_;
  std::map<int, int64_t> next_;
};

BacktestReport Replay(const Timeline& t, domain::Policy baseline, domain::Policy candidate,
                   const std::string& events_path = "", std::optional<domain::HighRiskPost> post = std::nullopt) {
  Backtest b({.period = {.from_ms = kFrom, .to_ms = kFrom + 14 * kDay},
              .baseline = std::move(baseline),
              .candidate = std::move(candidate),
              .topics = Topics(),
              .events_path = events_path,
              .post = post});
  EXPECT_TRUE(b.Start().ok());
  for (const HistoryRecord& r : t.records()) b.Replay(r);
  EXPECT_TRUE(b.status().ok()) << b.status();
  return b.Finish();
}

// (rule, severity) -> events on both sides, over the whole period.
std::map<std::pair<std::string, std::string>, Pair> ByRule(const BacktestReport& r) {
  std::map<std::pair<std::string, std::string>, Pair> out;
  for (const WeekRow& row : r.comparison.by_week) {
    Pair& p = out[{row.rule, row.severity}];
    p.baseline += row.events.baseline;
    p.candidate += row.events.candidate;
  }
  return out;
}

healthgrid::v1::WorkerProfile Driver(const std::string& worker) {
  healthgrid::v1::WorkerProfile p = MakeProfile(worker, "U07", "U07-G01");
  p.add_high_risk_posts(healthgrid::v1::DRIVER);
  return p;
}

healthgrid::v1::Reading PreShift(const std::string& worker, int64_t at, int systolic, int diastolic) {
  healthgrid::v1::Reading r = MakeBp(worker, at, systolic, diastolic);
  r.set_context(healthgrid::v1::PRE_SHIFT);
  return r;
}

struct ThresholdRow {
  const char* name;
  int systolic, diastolic;  // the driver's pre-shift reading
  int r1_baseline, r1_candidate;  // R1 pages under 180/110 and under 170/105
};

class ThresholdTest : public ::testing::TestWithParam<ThresholdRow> {};

TEST_P(ThresholdTest, ADriversPreShiftReadingPagesUnderTheLowerThresholdOnly) {
  const ThresholdRow& row = GetParam();
  Timeline t;
  t.Profile(Driver("D1"), kFrom - kDay).Reading(PreShift("D1", kFrom + 7 * kHour, row.systolic, row.diastolic),
                                                kFrom + 7 * kHour + kMinute);
  const BacktestReport r = Replay(t, Critical(180, 110), Critical(170, 105));
  const auto by_rule = ByRule(r);
  const auto r1 = by_rule.find({"R1_CRITICAL_BP", "URGENT"});
  const Pair pages = r1 == by_rule.end() ? Pair{} : r1->second;
  EXPECT_EQ(pages, (Pair{static_cast<uint64_t>(row.r1_baseline), static_cast<uint64_t>(row.r1_candidate)}));
  // R4 (unfit for duty from grade 2, 160/100) does not depend on the critical threshold.
  const auto r4 = by_rule.find({"R4_PRE_SHIFT_FITNESS", "URGENT"});
  ASSERT_NE(r4, by_rule.end());
  EXPECT_EQ(r4->second.baseline, r4->second.candidate);
  EXPECT_EQ(r.comparison.changed_workers, row.r1_baseline == row.r1_candidate ? 0u : 1u);
  EXPECT_EQ(r.comparison.referrals_total.difference(), row.r1_candidate - row.r1_baseline)
      << "an R1 page comes with an urgent referral";
}

INSTANTIATE_TEST_SUITE_P(
    Boundaries, ThresholdTest,
    ::testing::Values(ThresholdRow{"at_172_106_only_the_lower", 172, 106, 0, 1},
                      ThresholdRow{"systolic_just_below_170", 169, 104, 0, 0},
                      ThresholdRow{"systolic_at_170", 170, 100, 0, 1},
                      ThresholdRow{"diastolic_at_105", 165, 105, 0, 1},
                      ThresholdRow{"both_at_180_110", 180, 110, 1, 1},
                      ThresholdRow{"diastolic_at_110", 175, 110, 1, 1}),
    [](const ::testing::TestParamInfo<ThresholdRow>& p) { return std::string(p.param.name); });

TEST(BacktestTest, OneEpisodePagesOnceHoweverManyCriticalReadings) {
  Timeline t;
  t.Profile(Driver("D1"), kFrom - kDay);
  for (int i = 0; i < 3; ++i) t.Reading(MakeBp("D1", kFrom + i * kHour, 174, 100), kFrom + i * kHour + kMinute);
  t.Reading(MakeBp("D1", kFrom + 5 * kHour, 130, 85), kFrom + 5 * kHour + kMinute);  // resolves
  t.Reading(MakeBp("D1", kFrom + 6 * kHour, 172, 100), kFrom + 6 * kHour + kMinute);  // a new episode
  const auto by_rule = ByRule(Replay(t, Critical(180, 110), Critical(170, 105)));
  // Candidate: OPEN, (ack timeout climbs at +30 min) ESCALATED, RESOLVED; OPEN again, ESCALATED at +30 min
  // once a later record moves stream time past it: here none does.
  const Pair r1 = by_rule.at({"R1_CRITICAL_BP", "URGENT"});
  EXPECT_EQ(r1.baseline, 0u);
  EXPECT_GE(r1.candidate, 4u);
}

TEST(BacktestTest, DeadlinesFireInStreamTimeOnlyWhenALaterRecordPassesThem) {
  // An enrolled worker (diagnosed grade 2) tests once; the weekly self-test falls due 7 days later.
  healthgrid::v1::WorkerProfile p = MakeProfile("S1", "U05", "U05-G02");
  p.mutable_conditions()->set_hypertension_grade(2);
  Timeline t;
  t.Profile(p, kFrom).Reading(MakeBp("S1", kFrom + kHour, 150, 95), kFrom + kHour);
  const BacktestReport quiet = Replay(t, {}, {});
  EXPECT_EQ(quiet.comparison.total, (Pair{0, 0})) << "nothing moved stream time past the due time";
  EXPECT_EQ(quiet.pending_timers.baseline, quiet.pending_timers.candidate);
  EXPECT_GE(quiet.pending_timers.baseline, 1u);

  // Another worker's reading on the same partition 8 days later moves its clock: the reminder fires.
  t.Reading(MakeBp("TICK", kFrom + 8 * kDay, 118, 76), kFrom + 8 * kDay);
  const std::string events = ::testing::TempDir() + "/backtest_events.jsonl";
  const BacktestReport r = Replay(t, {}, {}, events);
  const auto by_rule = ByRule(r);
  ASSERT_TRUE(by_rule.count({"R3_SELF_TEST_MISSED", "HIGH"})) << "no R3 reminder";
  EXPECT_EQ(by_rule.at({"R3_SELF_TEST_MISSED", "HIGH"}), (Pair{1, 1}));
  std::ifstream in(events);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    EXPECT_NE(line.find("\"emitted_at_ms\":" + std::to_string(kFrom + kHour + 7 * kDay)), std::string::npos)
        << "the reminder is decided at the due time itself: " << line;
  }
  EXPECT_EQ(lines, 2) << "one event per policy";
}

TEST(BacktestTest, APostCountsOnlyTheWorkersWhoseProfileListsIt) {
  Timeline t;
  t.Profile(Driver("D1"), kFrom - kDay).Profile(MakeProfile("O1", "U07", "U07-G01"), kFrom - kDay);
  // O1 becomes a driver later: their earlier page is not a driver's, their later one is.
  t.Reading(MakeBp("D1", kFrom + kHour, 172, 100), kFrom + kHour)
      .Reading(MakeBp("O1", kFrom + kHour, 172, 100), kFrom + kHour)
      .Reading(MakeBp("O1", kFrom + 2 * kHour, 120, 80), kFrom + 2 * kHour)
      .Profile(Driver("O1"), kFrom + 3 * kHour)
      .Reading(MakeBp("O1", kFrom + 4 * kHour, 172, 100), kFrom + 4 * kHour);
  // Without the referral cool-down, each page refers, so the referrals show whose pages are counted.
  domain::Policy baseline = Critical(180, 110), candidate = Critical(170, 105);
  baseline.referral_cooldown_ms = candidate.referral_cooldown_ms = 0;
  const BacktestReport all = Replay(t, baseline, candidate);
  const BacktestReport drivers = Replay(t, baseline, candidate, "", domain::HighRiskPost::kDriver);
  EXPECT_EQ(all.comparison.changed_workers, 2u);
  EXPECT_EQ(drivers.comparison.changed_workers, 2u) << "O1 is a driver for their second page";
  EXPECT_EQ(all.comparison.referrals_total, (Pair{0, 3}));
  EXPECT_EQ(drivers.comparison.referrals_total, (Pair{0, 2})) << "O1's first page was not a driver's";
  const BacktestReport hot = Replay(t, baseline, candidate, "", domain::HighRiskPost::kHotWork);
  EXPECT_EQ(hot.comparison.total, (Pair{0, 0}));
}

TEST(BacktestTest, BadRecordsAreCountedAsDeadLettersOnBothSides) {
  Timeline t;
  t.Raw(kReadings, "X1", "not a protobuf \xff\xff", kFrom + kHour)
      .Reading(MakeBp("X2", kFrom + kHour, 400, 80), kFrom + kHour)
      .Raw(kProfiles, "X3", "\x08\xff\xff\xff", kFrom + kHour);
  const BacktestReport r = Replay(t, {}, Critical(170, 105));
  uint64_t bad = 0;
  for (const DeadLetterRow& d : r.dead_letters) {
    EXPECT_EQ(d.records.baseline, d.records.candidate) << d.topic << " " << d.reason;
    bad += d.records.baseline;
  }
  EXPECT_EQ(bad, 3u);
  EXPECT_EQ(r.comparison.total, (Pair{0, 0}));
}

TEST(BacktestTest, TheReportIsTheSameBytesForTheSameInput) {
  Timeline t;
  t.Profile(Driver("D1"), kFrom - kDay).Profile(Driver("D2"), kFrom - kDay);
  for (int i = 0; i < 20; ++i) {
    t.Reading(PreShift(i % 2 ? "D1" : "D2", kFrom + i * 9 * kHour, 165 + i % 10, 100 + i % 8),
              kFrom + i * 9 * kHour + kMinute);
  }
  std::string text[2], json[2];
  for (int run = 0; run < 2; ++run) {
    const BacktestReport r = Replay(t, {}, Critical(170, 105));
    std::ostringstream out;
    PrintReport(r, {"built-in defaults", "new.yaml", ""}, out);
    text[run] = out.str();
    json[run] = ReportJson(r, {"built-in defaults", "new.yaml", ""}).dump();
  }
  EXPECT_EQ(text[0], text[1]);
  EXPECT_EQ(json[0], json[1]);
  EXPECT_NE(text[0].find("R1_CRITICAL_BP"), std::string::npos) << text[0];
}

}  // namespace
}  // namespace alertd::backtest
