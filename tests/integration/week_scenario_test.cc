// The simulated week end to end: alertd-sim --scenario week (a scripted week of history, each record
// stamped with the moment it reached Kafka) played through a fresh alertd --clock=stream, then each
// scripted worker of the sim's story file checked against the escalations (and referrals) alertd
// produced: exact states, levels, severities, and exact emitted_at times.
//
// Expected times come from the script, never from alertd's output: the story file names the scripted
// moments to the minute (local time, UTC+8), and the input topics give them to the millisecond (the
// last self-test a due time counts from, the record time at which a reading or clock-in reached Kafka).
// Each exact time is checked against the story file's minute, so the test and the sim agree on which
// moment is meant. Durations on top of those moments are alertd's documented defaults (DESIGN §4 and
// engine/domain/policy.h): R3 ladder due + 24 h / due + 72 h, re-notify 24 h, R4 ack timeout 15 min,
// R6 ack timeout 4 h.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "tests/integration/harness.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;
namespace hg = healthgrid::v1;

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kLocalOffset = 8 * kHour;  // the health grid's local time: UTC+8

// A fixed week (a Monday, away from a year boundary) and seed: the same week in every run.
constexpr int kYear = 2025, kMonth = 3, kDayOfMonth = 10;
const std::string kStart = "2025-03-10";
const std::string kSeed = "20250310";
const std::string kWorkers = "120";

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// Start of the week's day `offset` (local midnight), ms since the epoch UTC.
int64_t WeekDayStart(int offset) { return (DaysFromCivil(kYear, kMonth, kDayOfMonth) + offset) * kDay - kLocalOffset; }

// "2025-03-11 08:14:03" local, for messages.
std::string Local(int64_t ms) {
  const int64_t local = ms + kLocalOffset;
  const int64_t days = local >= 0 ? local / kDay : (local - kDay + 1) / kDay;
  const int64_t in_day = local - days * kDay;
  // Civil from days (inverse of DaysFromCivil).
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02lld:%02lld:%02lld.%03lld", static_cast<long long>(y), m, d,
                static_cast<long long>(in_day / kHour), static_cast<long long>(in_day % kHour / kMinute),
                static_cast<long long>(in_day % kMinute / kSecond), static_cast<long long>(in_day % kSecond));
  return buf;
}

int64_t FloorMinute(int64_t ms) { return ms - ((ms % kMinute) + kMinute) % kMinute; }

// ---------------------------------------------------------------------------------------------
// Kafka: every record of a topic with its record timestamp, read to the end of every partition
// (manual assignment, up to the high watermarks at the call).

using TimedRecord = ConsumedRecord;

std::vector<TimedRecord> ReadTopic(const std::string& bootstrap, const std::string& topic) {
  return ReadToEnd(bootstrap, topic);
}

// ---------------------------------------------------------------------------------------------
// One week played through one fresh alertd.

struct StoryLine {
  std::string worker, story, expect;
  std::vector<int64_t> times;  // every "MM-DD HH:MM" of the expectation, as UTC ms of the local minute
};

struct TimedReading {
  hg::Reading reading;
  int64_t arrival_ms = 0;  // record timestamp: when it reached Kafka, alertd's processing time for it
};

struct WeekRun {
  std::string story_text;
  std::map<std::string, StoryLine> story;  // by story name
  std::map<std::string, std::vector<TimedReading>> readings;  // by worker, in arrival order
  std::vector<std::pair<hg::EscalationAck, int64_t>> acks;    // with record timestamps
  std::vector<std::pair<hg::ShiftEvent, int64_t>> shifts;
  std::map<std::string, hg::Escalation> escalations;  // distinct, by event id
  std::map<std::string, hg::Referral> referrals;      // distinct, by referral id
  std::size_t input_records = 0;
  double seconds = 0;
};

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "03-12 08:14" local -> UTC ms. The week and its lead-in lie in kYear.
std::vector<int64_t> StoryTimes(const std::string& text) {
  static const std::regex when(R"((\d\d)-(\d\d) (\d\d):(\d\d))");
  std::vector<int64_t> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), when); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    const int64_t day = DaysFromCivil(kYear, static_cast<unsigned>(std::stoi(m[1])), static_cast<unsigned>(std::stoi(m[2])));
    out.push_back(day * kDay + std::stoi(m[3]) * kHour + std::stoi(m[4]) * kMinute - kLocalOffset);
  }
  return out;
}

WeekRun PlayWeek(const std::string& name) {
  WeekRun run;
  const auto started = std::chrono::steady_clock::now();
  TempDir dir;
  EmbeddedKafka kafka(dir.path());
  if (kafka.bootstrap().empty()) {
    ADD_FAILURE() << "no embedded kafka";
    return run;
  }
  AlertdProcess alertd(kafka.bootstrap(), dir.path() + "/db", dir.path() + "/alertd.log",
                       {"--clock", "stream", "--log-level", "warn"});
  const std::string story_path = dir.path() + "/story.tsv";
  Process sim({ALERTD_SIM_BIN, "--bootstrap", kafka.bootstrap(), "--scenario", "week", "--start", kStart, "--workers",
               kWorkers, "--seed", kSeed, "--story-file", story_path, "--live-seconds", "0", "--quiet"},
              dir.path() + "/sim.log");
  if (!WaitFor([&] { return !sim.Running(); }, 120s, 100ms)) {
    ADD_FAILURE() << name << ": alertd-sim did not finish: " << sim.LogTail();
    return run;
  }
  EXPECT_EQ(sim.Terminate(), 0) << sim.LogTail();
  run.story_text = ReadWhole(story_path);
  {
    std::istringstream in(run.story_text);
    std::string line;
    while (std::getline(in, line)) {
      StoryLine s;
      const auto t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
      if (t1 == std::string::npos || t2 == std::string::npos) {
        ADD_FAILURE() << "story line without two tabs: " << line;
        continue;
      }
      s.worker = line.substr(0, t1);
      s.story = line.substr(t1 + 1, t2 - t1 - 1);
      s.expect = line.substr(t2 + 1);
      s.times = StoryTimes(s.expect);
      run.story[s.story] = s;
    }
  }

  // The input as it reached Kafka.
  for (const auto& r : ReadTopic(kafka.bootstrap(), "readings")) {
    ++run.input_records;
    hg::Reading reading;
    if (!reading.ParseFromString(r.value) || reading.worker_id().empty()) continue;  // garbage: dead-lettered
    run.readings[reading.worker_id()].push_back({reading, r.timestamp_ms});
  }
  for (auto& [_, v] : run.readings) {
    std::stable_sort(v.begin(), v.end(), [](const TimedReading& a, const TimedReading& b) { return a.arrival_ms < b.arrival_ms; });
  }
  for (const auto& r : ReadTopic(kafka.bootstrap(), "escalation-acks")) {
    ++run.input_records;
    hg::EscalationAck ack;
    if (ack.ParseFromString(r.value)) run.acks.emplace_back(ack, r.timestamp_ms);
  }
  for (const auto& r : ReadTopic(kafka.bootstrap(), "shifts")) {
    ++run.input_records;
    hg::ShiftEvent shift;
    if (shift.ParseFromString(r.value)) run.shifts.emplace_back(shift, r.timestamp_ms);
  }
  run.input_records += ReadTopic(kafka.bootstrap(), "worker-profiles").size();

  // alertd has played the week when it has committed every input record, has no lag and nothing
  // waiting for the broker's confirmation.
  const bool caught_up = WaitFor(
      [&] {
        return alertd.Metric("alertd_committed_records_total") >= static_cast<double>(run.input_records) &&
               alertd.CaughtUp();
      },
      90s, 200ms);
  EXPECT_TRUE(caught_up) << name << ": committed " << alertd.Metric("alertd_committed_records_total") << " of "
                         << run.input_records << " input records; " << alertd.process().LogTail();

  for (const auto& r : ReadTopic(kafka.bootstrap(), "escalations")) {
    hg::Escalation e;
    if (e.ParseFromString(r.value)) {
      run.escalations.emplace(e.event_id(), e);
    } else {
      ADD_FAILURE() << "undecodable escalation at offset " << r.offset;
    }
  }
  for (const auto& r : ReadTopic(kafka.bootstrap(), "referrals")) {
    hg::Referral ref;
    if (ref.ParseFromString(r.value)) run.referrals.emplace(ref.referral_id(), ref);
  }
  EXPECT_EQ(alertd.process().Terminate(), 0) << alertd.process().LogTail();
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return run;
}

// ---------------------------------------------------------------------------------------------
// Expectations.

// What a test compares: an event reduced to the fields the story fixes.
struct Step {
  hg::EscalationState state;
  hg::EscalationLevel level;
  hg::Severity severity;
  int64_t emitted_at_ms;
  bool operator==(const Step& o) const {
    return std::tie(state, level, severity, emitted_at_ms) == std::tie(o.state, o.level, o.severity, o.emitted_at_ms);
  }
};

std::ostream& operator<<(std::ostream& os, const Step& s) {
  return os << hg::EscalationState_Name(s.state) << "/" << hg::EscalationLevel_Name(s.level) << "/"
            << hg::Severity_Name(s.severity) << " at " << Local(s.emitted_at_ms) << " (" << s.emitted_at_ms << ")";
}

std::string Describe(const std::vector<hg::Escalation>& events) {
  std::string out;
  for (const auto& e : events) {
    std::ostringstream os;
    os << "\n    " << Step{e.state(), e.level(), e.severity(), e.emitted_at_ms()} << " seq " << e.sequence() << " "
       << e.episode_id() << ": " << e.reason();
    out += os.str();
  }
  return out.empty() ? "\n    (none)" : out;
}

std::vector<Step> Steps(const std::vector<hg::Escalation>& events) {
  std::vector<Step> out;
  for (const auto& e : events) out.push_back({e.state(), e.level(), e.severity(), e.emitted_at_ms()});
  return out;
}

// A worker's events of one rule, in the order alertd decided them.
std::vector<hg::Escalation> EventsOf(const WeekRun& run, const std::string& worker, hg::Rule rule,
                                     int64_t from_ms = INT64_MIN, int64_t to_ms = INT64_MAX) {
  std::vector<hg::Escalation> out;
  for (const auto& [_, e] : run.escalations) {
    if (e.worker_id() == worker && e.rule() == rule && e.emitted_at_ms() >= from_ms && e.emitted_at_ms() <= to_ms) {
      out.push_back(e);
    }
  }
  std::sort(out.begin(), out.end(), [](const hg::Escalation& a, const hg::Escalation& b) {
    return std::make_tuple(a.emitted_at_ms(), a.episode_id(), a.sequence()) <
           std::make_tuple(b.emitted_at_ms(), b.episode_id(), b.sequence());
  });
  return out;
}

// A blood-pressure reading alertd accepts (DESIGN §4: impossible values go to dead-letters).
bool ValidBp(const hg::Reading& r) {
  if (!r.has_blood_pressure()) return false;
  const auto& bp = r.blood_pressure();
  const uint32_t s = bp.systolic_mmhg(), d = bp.diastolic_mmhg(), p = bp.pulse_bpm();
  return s >= 50 && s <= 300 && d >= 20 && d <= 200 && d < s && (p == 0 || (p >= 20 && p <= 250));
}

// The newest valid blood-pressure reading measured before `before_ms`: what the R3 clock counts from.
int64_t LastBpBefore(const WeekRun& run, const std::string& worker, int64_t before_ms) {
  int64_t last = 0;
  for (const auto& t : run.readings.at(worker)) {
    if (ValidBp(t.reading) && t.reading.measured_at_ms() < before_ms) last = std::max(last, t.reading.measured_at_ms());
  }
  return last;
}

// The scripted reading measured at exactly `measured_ms`.
std::optional<TimedReading> ReadingAt(const WeekRun& run, const std::string& worker, int64_t measured_ms) {
  const auto it = run.readings.find(worker);
  if (it == run.readings.end()) return std::nullopt;
  for (const auto& t : it->second) {
    if (t.reading.measured_at_ms() == measured_ms) return t;
  }
  return std::nullopt;
}

std::optional<std::pair<hg::ShiftEvent, int64_t>> ClockIn(const WeekRun& run, const std::string& worker,
                                                         int64_t clock_in_ms) {
  for (const auto& s : run.shifts) {
    if (s.first.worker_id() == worker && s.first.clock_in_at_ms() == clock_in_ms) return s;
  }
  return std::nullopt;
}

std::vector<std::pair<hg::EscalationAck, int64_t>> AcksOf(const WeekRun& run, const std::string& worker, hg::Rule rule) {
  std::vector<std::pair<hg::EscalationAck, int64_t>> out;
  for (const auto& a : run.acks) {
    if (a.first.worker_id() == worker && a.first.rule() == rule) out.push_back(a);
  }
  return out;
}

bool HasRecipient(const hg::Escalation& e, hg::RecipientRole role) {
  return std::any_of(e.recipients().begin(), e.recipients().end(), [&](const auto& r) { return r.role() == role; });
}

// The story line of `name`, with at least `times` scripted moments; fails the test if missing.
const StoryLine* Story(const WeekRun& run, const std::string& name, std::size_t times) {
  const auto it = run.story.find(name);
  if (it == run.story.end()) {
    ADD_FAILURE() << "story file has no '" << name << "' line:\n" << run.story_text;
    return nullptr;
  }
  if (it->second.times.size() < times) {
    ADD_FAILURE() << "'" << name << "' names " << it->second.times.size() << " moments, expected " << times << ": "
                  << it->second.expect;
    return nullptr;
  }
  return &it->second;
}

#define EXPECT_SAME_MINUTE(exact_ms, story_ms, what)                                                            \
  EXPECT_EQ(FloorMinute(exact_ms), (story_ms)) << (what) << ": the input says " << Local(exact_ms)              \
                                               << ", the story file " << Local(story_ms)

const hg::EscalationState OPEN = hg::OPEN, ESCALATED = hg::ESCALATED, RENOTIFIED = hg::RENOTIFIED,
                          RESOLVED = hg::RESOLVED;
const hg::EscalationLevel WORKER = hg::WORKER, MANAGER = hg::HEALTH_MANAGER, SUPERVISOR = hg::UNIT_SUPERVISOR;

// ---------------------------------------------------------------------------------------------

class WeekScenarioTest : public ::testing::Test {};

TEST_F(WeekScenarioTest, EachScriptedWorkersStoryHappensAsScripted) {
  const WeekRun run = PlayWeek("week");
  std::printf("the week played in %.1f s: %zu input records, %zu escalation events, %zu referrals\n", run.seconds,
              run.input_records, run.escalations.size(), run.referrals.size());
  ASSERT_EQ(run.story.size(), 9u) << run.story_text;
  ASSERT_GT(run.escalations.size(), 20u);

  // R3 ladder: the last self-test, then nothing: reminder at due, health manager at due + 24 h, unit
  // supervisor at due + 72 h, to the millisecond.
  if (const StoryLine* s = Story(run, "R3 ladder", 3)) {
    SCOPED_TRACE("R3 ladder " + s->worker + ": " + s->expect);
    const int64_t due = LastBpBefore(run, s->worker, INT64_MAX) + 7 * kDay;
    EXPECT_SAME_MINUTE(due, s->times[0], "due");
    EXPECT_SAME_MINUTE(due + 24 * kHour, s->times[1], "health manager");
    EXPECT_SAME_MINUTE(due + 72 * kHour, s->times[2], "unit supervisor");
    const auto events = EventsOf(run, s->worker, hg::R3_SELF_TEST_MISSED);
    const std::vector<Step> expected{{OPEN, WORKER, hg::HIGH, due},
                                     {ESCALATED, MANAGER, hg::HIGH, due + 24 * kHour},
                                     {ESCALATED, SUPERVISOR, hg::HIGH, due + 72 * kHour}};
    EXPECT_EQ(Steps(events), expected) << Describe(events);
    for (const auto& e : events) EXPECT_EQ(e.episode_id(), events.front().episode_id());
    if (events.size() == 3) {
      EXPECT_TRUE(HasRecipient(events[0], hg::ROLE_WORKER));
      EXPECT_TRUE(HasRecipient(events[1], hg::ROLE_HEALTH_MANAGER));
      EXPECT_TRUE(HasRecipient(events[2], hg::ROLE_UNIT_SUPERVISOR));
    }
  }

  // R3 acknowledged: reminder at due; the health manager acknowledges ~3 h later, so no climb at due
  // + 24 h but a re-notification every 24 h after the acknowledgement, until the first self-test after
  // the worker resumes (the week's day 3) resolves it when it reaches Kafka.
  if (const StoryLine* s = Story(run, "R3 acknowledged", 4)) {
    SCOPED_TRACE("R3 acknowledged " + s->worker + ": " + s->expect);
    const int64_t resumed = WeekDayStart(3);
    const int64_t basis = LastBpBefore(run, s->worker, resumed);
    const int64_t due = basis + 7 * kDay;
    EXPECT_SAME_MINUTE(due, s->times[0], "due");
    const auto acks = AcksOf(run, s->worker, hg::R3_SELF_TEST_MISSED);
    ASSERT_EQ(acks.size(), 1u);
    const int64_t ack_at = acks[0].second;
    EXPECT_EQ(acks[0].first.at_ms(), ack_at);
    EXPECT_EQ(acks[0].first.action(), hg::ACKNOWLEDGE);
    EXPECT_TRUE(acks[0].first.episode_id().empty());
    EXPECT_SAME_MINUTE(ack_at, s->times[1], "acknowledgement");
    EXPECT_SAME_MINUTE(due + 24 * kHour, s->times[2], "no climb");
    EXPECT_SAME_MINUTE(ack_at + 24 * kHour, s->times[3], "re-notification");
    EXPECT_NE(s->expect.find("tests again from " + Local(resumed).substr(5, 5)), std::string::npos);
    int64_t resolved_at = INT64_MAX;
    for (const auto& t : run.readings.at(s->worker)) {
      if (ValidBp(t.reading) && t.reading.measured_at_ms() > basis) resolved_at = std::min(resolved_at, t.arrival_ms);
    }
    ASSERT_NE(resolved_at, INT64_MAX) << "the worker never tests again";
    std::vector<Step> expected{{OPEN, WORKER, hg::HIGH, due}};
    for (int64_t at = ack_at + 24 * kHour; at < resolved_at; at += 24 * kHour) {
      expected.push_back({RENOTIFIED, WORKER, hg::HIGH, at});
    }
    expected.push_back({RESOLVED, WORKER, hg::HIGH, resolved_at});
    ASSERT_GE(expected.size(), 3u) << "the script re-notifies at least once before the worker tests again";
    const auto events = EventsOf(run, s->worker, hg::R3_SELF_TEST_MISSED);
    EXPECT_EQ(Steps(events), expected) << Describe(events);
    if (!events.empty()) {
      EXPECT_EQ(events.back().reason().rfind("Self-test received", 0), 0u) << events.back().reason();
    }
  }

  // R3 late upload: reminder at due, health manager at due + 24 h; the reading measured 150 min before
  // due reaches Kafka ~2 days later and retracts the escalation (RESOLVED, "retracted"), before the
  // unit supervisor would have been told.
  if (const StoryLine* s = Story(run, "R3 late upload", 4)) {
    SCOPED_TRACE("R3 late upload " + s->worker + ": " + s->expect);
    const int64_t basis = LastBpBefore(run, s->worker, WeekDayStart(-6));
    const int64_t due = basis + 7 * kDay;
    EXPECT_SAME_MINUTE(due, s->times[0], "due");
    EXPECT_SAME_MINUTE(due + 24 * kHour, s->times[1], "health manager");
    const auto late = ReadingAt(run, s->worker, due - 150 * kMinute);
    ASSERT_TRUE(late.has_value()) << "no reading measured at " << Local(due - 150 * kMinute);
    EXPECT_SAME_MINUTE(late->reading.measured_at_ms(), s->times[2], "measured");
    EXPECT_SAME_MINUTE(late->arrival_ms, s->times[3], "uploaded");
    ASSERT_GT(late->arrival_ms, due + 24 * kHour);
    ASSERT_LT(late->arrival_ms, due + 72 * kHour);
    const auto events = EventsOf(run, s->worker, hg::R3_SELF_TEST_MISSED);
    const std::vector<Step> expected{{OPEN, WORKER, hg::HIGH, due},
                                     {ESCALATED, MANAGER, hg::HIGH, due + 24 * kHour},
                                     {RESOLVED, MANAGER, hg::HIGH, late->arrival_ms}};
    EXPECT_EQ(Steps(events), expected) << Describe(events);
    if (events.size() == 3) {
      EXPECT_NE(events[2].reason().find("retracted"), std::string::npos) << events[2].reason();
      EXPECT_EQ(events[2].trigger_at_ms(), late->reading.measured_at_ms());
    }
  }

  // R4 unfit, fit retest: 165/102 35 min before the shift opens UNFIT_FOR_DUTY (URGENT, health
  // manager) when it reaches Kafka; the 136/86 retest 12 min later resolves it before the 15-min ack
  // timeout; the clock-in after it changes nothing.
  if (const StoryLine* s = Story(run, "R4 unfit, fit retest", 1)) {
    SCOPED_TRACE("R4 unfit, fit retest " + s->worker + ": " + s->expect);
    const int64_t shift = s->times[0];
    EXPECT_TRUE(shift >= WeekDayStart(1) && shift < WeekDayStart(2)) << Local(shift);
    const auto unfit = ReadingAt(run, s->worker, shift - 35 * kMinute);
    const auto retest = ReadingAt(run, s->worker, shift - 23 * kMinute);
    const auto clock_in = ClockIn(run, s->worker, shift + 2 * kMinute);
    ASSERT_TRUE(unfit && retest && clock_in);
    EXPECT_EQ(unfit->reading.context(), hg::PRE_SHIFT);
    EXPECT_EQ(unfit->reading.blood_pressure().systolic_mmhg(), 165u);
    EXPECT_EQ(retest->reading.blood_pressure().systolic_mmhg(), 136u);
    const auto events = EventsOf(run, s->worker, hg::R4_PRE_SHIFT_FITNESS, shift - 2 * kHour, shift + 4 * kHour);
    const std::vector<Step> expected{{OPEN, MANAGER, hg::URGENT, unfit->arrival_ms},
                                     {RESOLVED, MANAGER, hg::URGENT, retest->arrival_ms}};
    EXPECT_EQ(Steps(events), expected) << Describe(events);
    if (events.size() == 2) {
      EXPECT_EQ(events[0].reason().rfind("unfit for duty", 0), 0u) << events[0].reason();
      EXPECT_EQ(events[1].reason().rfind("Fit for duty on retest", 0), 0u) << events[1].reason();
    }
  }

  // R4 unfit, clocked in: 168/104 30 min before the shift opens UNFIT_FOR_DUTY (URGENT, health
  // manager); unacknowledged, it climbs to the unit supervisor after the 15-min ack timeout; the
  // clock-in a minute after the shift starts raises it to UNFIT_CLOCKED_IN (CRITICAL, unit supervisor)
  // when the clock-in reaches Kafka.
  if (const StoryLine* s = Story(run, "R4 unfit, clocked in", 1)) {
    SCOPED_TRACE("R4 unfit, clocked in " + s->worker + ": " + s->expect);
    const int64_t shift = s->times[0];
    const auto unfit = ReadingAt(run, s->worker, shift - 30 * kMinute);
    const auto clock_in = ClockIn(run, s->worker, shift + 1 * kMinute);
    ASSERT_TRUE(unfit && clock_in);
    EXPECT_EQ(unfit->reading.blood_pressure().systolic_mmhg(), 168u);
    EXPECT_TRUE(AcksOf(run, s->worker, hg::R4_PRE_SHIFT_FITNESS).empty() ||
                AcksOf(run, s->worker, hg::R4_PRE_SHIFT_FITNESS).back().second < shift - 2 * kHour);
    ASSERT_LT(unfit->arrival_ms + 15 * kMinute, clock_in->second);
    const auto events = EventsOf(run, s->worker, hg::R4_PRE_SHIFT_FITNESS, shift - 2 * kHour, shift + 4 * kHour);
    const std::vector<Step> expected{{OPEN, MANAGER, hg::URGENT, unfit->arrival_ms},
                                     {ESCALATED, SUPERVISOR, hg::URGENT, unfit->arrival_ms + 15 * kMinute},
                                     {ESCALATED, SUPERVISOR, hg::CRITICAL, clock_in->second}};
    EXPECT_EQ(Steps(events), expected) << Describe(events);
    if (events.size() == 3) {
      EXPECT_EQ(events[2].reason().rfind("Unfit clocked in", 0), 0u) << events[2].reason();
      EXPECT_TRUE(HasRecipient(events[2], hg::ROLE_UNIT_SUPERVISOR));
    }
  }

  // R4 no check: the clock-in with no PRE_SHIFT reading opens NO_PRE_SHIFT_CHECK (HIGH, health
  // manager) when it reaches Kafka; 15 min unacknowledged: the unit supervisor; the fit check 20 min
  // after the shift start resolves it.
  if (const StoryLine* s = Story(run, "R4 no check", 1)) {
    SCOPED_TRACE("R4 no check " + s->worker + ": " + s->expect);
    const int64_t shift = s->times[0];
    const auto clock_in = ClockIn(run, s->worker, shift);
    const auto check = ReadingAt(run, s->worker, shift + 20 * kMinute);
    ASSERT_TRUE(clock_in && check);
    ASSERT_LT(clock_in->second + 15 * kMinute, check->arrival_ms);
    const auto events = EventsOf(run, s->worker, hg::R4_PRE_SHIFT_FITNESS, shift - 2 * kHour, shift + 4 * kHour);
    const std::vector<Step> expected{{OPEN, MANAGER, hg::HIGH, clock_in->second},
                                     {ESCALATED, SUPERVISOR, hg::HIGH, clock_in->second + 15 * kMinute},
                                     {RESOLVED, SUPERVISOR, hg::HIGH, check->arrival_ms}};
    EXPECT_EQ(Steps(events), expected) << Describe(events);
    if (events.size() == 3) {
      EXPECT_EQ(events[0].reason().rfind("No pre-shift check", 0), 0u) << events[0].reason();
      EXPECT_EQ(events[2].reason().rfind("Pre-shift check done", 0), 0u) << events[2].reason();
    }
  }

  // R5 high twice: nothing after the first high; HIGH (health manager) with a routine referral when
  // the second reaches Kafka; the morning round snoozes it, so nothing more in the week.
  if (const StoryLine* s = Story(run, "R5 high twice", 2)) {
    SCOPED_TRACE("R5 high twice " + s->worker + ": " + s->expect);
    const auto first = ReadingAt(run, s->worker, s->times[0]);
    const auto second = ReadingAt(run, s->worker, s->times[1]);
    ASSERT_TRUE(first && second);
    EXPECT_DOUBLE_EQ(first->reading.glucose().mmol_per_l(), 13.2);
    EXPECT_DOUBLE_EQ(second->reading.glucose().mmol_per_l(), 8.1);
    const auto events = EventsOf(run, s->worker, hg::R5_GLUCOSE);
    const std::vector<Step> expected{{OPEN, MANAGER, hg::HIGH, second->arrival_ms}};
    EXPECT_EQ(Steps(events), expected) << Describe(events);
    // Checked even when no referral arrived at all: losing every referral must fail here.
    if (events.size() == 1) {
      std::vector<hg::Referral> refs;
      for (const auto& [_, r] : run.referrals) {
        if (r.worker_id() == s->worker && r.rule() == hg::R5_GLUCOSE) refs.push_back(r);
      }
      ASSERT_EQ(refs.size(), 1u);
      EXPECT_EQ(refs[0].urgency(), hg::REFERRAL_ROUTINE);
      EXPECT_EQ(refs[0].episode_id(), events[0].episode_id());
      EXPECT_EQ(refs[0].emitted_at_ms(), second->arrival_ms);
    }
  }

  // R5 severe hypoglycaemia: 2.6 mmol/L opens URGENT (health manager) when it reaches Kafka, is
  // acknowledged 12 min later (before the 30-min ack timeout), and 5.4 mmol/L 25 min after resolves it.
  if (const StoryLine* s = Story(run, "R5 severe hypoglycaemia", 1)) {
    SCOPED_TRACE("R5 severe hypoglycaemia " + s->worker + ": " + s->expect);
    const auto low = ReadingAt(run, s->worker, s->times[0]);
    const auto back = ReadingAt(run, s->worker, s->times[0] + 25 * kMinute);
    ASSERT_TRUE(low && back);
    EXPECT_DOUBLE_EQ(low->reading.glucose().mmol_per_l(), 2.6);
    const auto acks = AcksOf(run, s->worker, hg::R5_GLUCOSE);
    ASSERT_EQ(acks.size(), 1u);
    EXPECT_EQ(acks[0].second, low->arrival_ms + 12 * kMinute);
    const auto events = EventsOf(run, s->worker, hg::R5_GLUCOSE);
    const std::vector<Step> expected{{OPEN, MANAGER, hg::URGENT, low->arrival_ms},
                                     {RESOLVED, MANAGER, hg::URGENT, back->arrival_ms}};
    EXPECT_EQ(Steps(events), expected) << Describe(events);
    if (events.size() == 2) {
      EXPECT_EQ(events[1].reason().rfind("Glucose back above", 0), 0u) << events[1].reason();
    }
  }

  // R6 focus tracking: 172/104 under the worker's own critical threshold 170/105 opens R1 (URGENT,
  // health manager, the policy's extra recipient too) when it reaches Kafka, where the global 180/110
  // would not; acknowledged 10 min later, it resolves at the next sub-critical reading. R6 holds the
  // reading: an R6 episode is open at that moment, and every R6 event reaches the extra recipient.
  if (const StoryLine* s = Story(run, "R6 focus tracking", 1)) {
    SCOPED_TRACE("R6 focus tracking " + s->worker + ": " + s->expect);
    const auto high = ReadingAt(run, s->worker, s->times[0]);
    ASSERT_TRUE(high.has_value());
    EXPECT_EQ(high->reading.blood_pressure().systolic_mmhg(), 172u);
    EXPECT_EQ(high->reading.blood_pressure().diastolic_mmhg(), 104u);
    const int64_t a = high->arrival_ms;
    const auto acks = AcksOf(run, s->worker, hg::R1_CRITICAL_BP);
    const auto ack = std::find_if(acks.begin(), acks.end(), [&](const auto& x) { return x.second == a + 10 * kMinute; });
    ASSERT_NE(ack, acks.end()) << "no R1 acknowledgement 10 min after the reading reached Kafka";
    // The next valid reading below the worker's critical threshold, measured after it, resolves R1.
    int64_t resolved_at = INT64_MAX;
    int64_t last_critical = high->reading.measured_at_ms();
    for (const auto& t : run.readings.at(s->worker)) {
      if (t.arrival_ms <= a || !ValidBp(t.reading)) continue;
      const auto& bp = t.reading.blood_pressure();
      if (bp.systolic_mmhg() >= 170 || bp.diastolic_mmhg() >= 105) {
        last_critical = std::max(last_critical, t.reading.measured_at_ms());
      } else if (t.reading.measured_at_ms() > last_critical) {
        resolved_at = t.arrival_ms;
        break;
      }
    }
    ASSERT_NE(resolved_at, INT64_MAX);
    std::vector<Step> expected{{OPEN, MANAGER, hg::URGENT, a}};
    for (int64_t at = ack->second + 24 * kHour; at < resolved_at; at += 24 * kHour) {
      expected.push_back({RENOTIFIED, MANAGER, hg::URGENT, at});
    }
    expected.push_back({RESOLVED, MANAGER, hg::URGENT, resolved_at});
    const auto r1 = EventsOf(run, s->worker, hg::R1_CRITICAL_BP, a, resolved_at);
    EXPECT_EQ(Steps(r1), expected) << Describe(r1);
    if (!r1.empty()) {
      EXPECT_NE(r1[0].reason().find("individual critical threshold 170/105"), std::string::npos) << r1[0].reason();
      EXPECT_TRUE(HasRecipient(r1[0], hg::ROLE_HEALTH_MANAGER));
      EXPECT_TRUE(HasRecipient(r1[0], hg::ROLE_EXTRA));
      std::vector<hg::Referral> refs;  // distinct by referral id
      for (const auto& [_, r] : run.referrals) {
        if (r.episode_id() == r1[0].episode_id()) refs.push_back(r);
      }
      ASSERT_EQ(refs.size(), 1u) << "one referral for the R1 episode";
      EXPECT_EQ(refs[0].urgency(), hg::REFERRAL_URGENT);
      EXPECT_EQ(refs[0].emitted_at_ms(), a);
    }

    const auto r6 = EventsOf(run, s->worker, hg::R6_FOCUS_TRACKING);
    ASSERT_FALSE(r6.empty()) << "no focus-tracking event all week";
    for (const auto& e : r6) {
      EXPECT_EQ(e.severity(), hg::HIGH) << Describe({e});
      EXPECT_TRUE(HasRecipient(e, hg::ROLE_EXTRA)) << Describe({e});
    }
    // The R6 episode that holds the scripted reading: opened by it, or opened earlier and still open.
    std::optional<hg::Escalation> holder;
    std::set<std::string> resolved_by_then;
    for (const auto& e : r6) {
      if (e.emitted_at_ms() > a) break;
      if (e.state() == hg::OPEN) holder = e;
      if (e.state() == hg::RESOLVED) resolved_by_then.insert(e.episode_id());
    }
    ASSERT_TRUE(holder.has_value() && resolved_by_then.count(holder->episode_id()) == 0)
        << "no R6 episode open when 172/104 reached Kafka at " << Local(a) << ":" << Describe(r6);
    if (holder->emitted_at_ms() == a) {
      EXPECT_NE(holder->reason().find("172/104"), std::string::npos) << holder->reason();
      EXPECT_EQ(holder->trigger_at_ms(), high->reading.measured_at_ms());
      // Opened by it: the script does not acknowledge R6, so it climbs to the unit supervisor after the
      // 4-h ack timeout unless a reading within the worker's limits (below 135/85, not hypotension),
      // measured after the last abnormal one, resolves it first. (Exact only while no abnormal glucose
      // joins the episode; then only the opening is checked.)
      int64_t back_at = INT64_MAX;
      int64_t last_abnormal = high->reading.measured_at_ms();
      bool glucose_joined = false;
      for (const auto& t : run.readings.at(s->worker)) {
        if (t.arrival_ms <= a) continue;
        if (t.reading.has_glucose()) {
          const auto& g = t.reading.glucose();
          const bool high_glucose = g.mmol_per_l() >= (g.timing() == hg::FASTING ? 7.0 : 11.1);
          if (high_glucose || g.mmol_per_l() < 3.9) glucose_joined = true;
          continue;
        }
        if (!ValidBp(t.reading)) continue;
        const auto& bp = t.reading.blood_pressure();
        const bool abnormal = bp.systolic_mmhg() >= 135 || bp.diastolic_mmhg() >= 85 || bp.systolic_mmhg() < 90 ||
                              bp.diastolic_mmhg() < 60;
        if (abnormal) {
          last_abnormal = std::max(last_abnormal, t.reading.measured_at_ms());
        } else if (t.reading.measured_at_ms() > last_abnormal) {
          back_at = t.arrival_ms;
          break;
        }
      }
      if (!glucose_joined && back_at != INT64_MAX) {
        std::vector<Step> expected_r6{{OPEN, MANAGER, hg::HIGH, a}};
        if (a + 4 * kHour < back_at) expected_r6.push_back({ESCALATED, SUPERVISOR, hg::HIGH, a + 4 * kHour});
        expected_r6.push_back({RESOLVED, expected_r6.back().level, hg::HIGH, back_at});
        std::vector<hg::Escalation> episode;
        for (const auto& e : r6) {
          if (e.episode_id() == holder->episode_id()) episode.push_back(e);
        }
        EXPECT_EQ(Steps(episode), expected_r6) << Describe(episode);
      }
    }
  }

  // On failure (or with ALERTD_WEEK_VERBOSE set): the script and every event of its workers.
  if (HasFailure() || std::getenv("ALERTD_WEEK_VERBOSE") != nullptr) {
    std::string cast;
    for (const auto& [_, s] : run.story) {
      cast += "\n  " + s.worker + "\t" + s.story + "\t" + s.expect;
      for (int rule = hg::R1_CRITICAL_BP; rule <= hg::R6_FOCUS_TRACKING; ++rule) {
        const auto events = EventsOf(run, s.worker, static_cast<hg::Rule>(rule));
        if (!events.empty()) cast += "\n   " + hg::Rule_Name(static_cast<hg::Rule>(rule)) + ":" + Describe(events);
      }
    }
    std::printf("the week's script and what alertd made of it:%s\n", cast.c_str());
  }
}

// The same seed and start, played twice through two fresh state directories (and two fresh clusters):
// the same story, the same events with the same ids decided at the same stream times, the same referrals.
TEST_F(WeekScenarioTest, SameSeedSameWeekSameEventsInTwoFreshRuns) {
  const WeekRun a = PlayWeek("run a");
  const WeekRun b = PlayWeek("run b");
  std::printf("run a %.1f s, run b %.1f s: %zu and %zu escalation events\n", a.seconds, b.seconds,
              a.escalations.size(), b.escalations.size());
  EXPECT_EQ(a.story_text, b.story_text);
  EXPECT_EQ(a.input_records, b.input_records);
  using Seen = std::set<std::tuple<std::string, int64_t, int, int, int>>;  // id, emitted_at, state, level, severity
  auto seen = [](const WeekRun& r) {
    Seen out;
    for (const auto& [id, e] : r.escalations) out.emplace(id, e.emitted_at_ms(), e.state(), e.level(), e.severity());
    return out;
  };
  const Seen sa = seen(a), sb = seen(b);
  EXPECT_GT(sa.size(), 20u);
  EXPECT_EQ(sa.size(), sb.size());
  std::vector<Seen::value_type> only_a, only_b;
  std::set_difference(sa.begin(), sa.end(), sb.begin(), sb.end(), std::back_inserter(only_a));
  std::set_difference(sb.begin(), sb.end(), sa.begin(), sa.end(), std::back_inserter(only_b));
  EXPECT_TRUE(only_a.empty() && only_b.empty()) << only_a.size() << " events only in run a, " << only_b.size()
                                                << " only in run b";
  for (std::size_t i = 0; i < std::min<std::size_t>(only_a.size(), 5); ++i) {
    ADD_FAILURE() << "only in run a: " << std::get<0>(only_a[i]) << " at " << Local(std::get<1>(only_a[i]));
  }
  for (std::size_t i = 0; i < std::min<std::size_t>(only_b.size(), 5); ++i) {
    ADD_FAILURE() << "only in run b: " << std::get<0>(only_b[i]) << " at " << Local(std::get<1>(only_b[i]));
  }
  std::set<std::pair<std::string, int64_t>> ra, rb;
  for (const auto& [id, r] : a.referrals) ra.emplace(id, r.emitted_at_ms());
  for (const auto& [id, r] : b.referrals) rb.emplace(id, r.emitted_at_ms());
  EXPECT_FALSE(ra.empty()) << "the week asks for referrals; none arrived";
  EXPECT_EQ(ra, rb);

  // And the same as every earlier build's: the week's events and referrals are pinned in a file, so a
  // change meant to keep behaviour (a refactoring) is checked against it. A change of behaviour
  // rewrites it on purpose: ALERTD_WEEK_GOLDEN_WRITE=1, and the diff goes into the commit.
  std::ostringstream now;
  for (const auto& [id, at, state, level, severity] : sa) {
    now << "escalation " << id << " " << at << " " << hg::EscalationState_Name(static_cast<hg::EscalationState>(state))
        << " " << hg::EscalationLevel_Name(static_cast<hg::EscalationLevel>(level)) << " "
        << hg::Severity_Name(static_cast<hg::Severity>(severity)) << "\n";
  }
  for (const auto& [id, at] : ra) now << "referral " << id << " " << at << "\n";
  const std::string golden_path = std::string(ALERTD_SOURCE_DIR) + "/tests/integration/week_events.golden";
  if (std::getenv("ALERTD_WEEK_GOLDEN_WRITE") != nullptr) {
    std::ofstream(golden_path) << now.str();
    std::printf("wrote %s\n", golden_path.c_str());
  }
  std::ifstream golden_file(golden_path);
  ASSERT_TRUE(golden_file.good()) << "missing " << golden_path << " (ALERTD_WEEK_GOLDEN_WRITE=1 writes it)";
  std::stringstream golden;
  golden << golden_file.rdbuf();
  EXPECT_EQ(now.str(), golden.str()) << "the week's events differ from " << golden_path;
}

}  // namespace
}  // namespace alertd::testing
