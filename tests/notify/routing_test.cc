// Route(): person over role, rule and severity filters, the on-call desk, quiet hours at their edges.
#include "engine/notify/routing.h"

#include <gtest/gtest.h>

#include <string>

#include "escalation_samples.h"

namespace alertd::notify {
namespace {

using testing::Person;
using testing::SampleEscalation;
namespace pb = healthgrid::v1;

// 2026-11-24 00:00 at +08:00, in ms UTC; quiet hours are read on this clock.
constexpr int64_t kLocalMidnightMs = 1795449600000;
constexpr int64_t kMinute = 60000;

NotifyConfig Config() {
  const char* yaml = R"(
quiet_hours:
  from: "22:00"
  until: "07:00"
channels:
  wecom: {kind: wecom, url: "https://w"}
  ding: {kind: dingtalk, url: "https://d"}
  am: {kind: alertmanager, url: "http://am"}
recipients:
  - role: health_manager
    channels: [wecom, am]
  - role: unit_supervisor
    channels: [ding]
    min_severity: URGENT
  - role: on_call
    channels: [am]
  - person: HM0042
    channels: [ding]
    language: en
    rules: [R1, R4]
    quiet_hours: off
)";
  absl::StatusOr<NotifyConfig> config = ParseNotifyConfig(yaml, "routing.yaml");
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : NotifyConfig{};
}

std::string Summary(const std::vector<Delivery>& deliveries) {
  std::string out;
  for (const Delivery& d : deliveries) {
    out += d.recipient.id() + ":" + d.channel + ":" + std::string(LanguageTag(d.language));
    if (d.held_until_ms != 0) out += ":held+" + std::to_string((d.held_until_ms - kLocalMidnightMs) / kMinute) + "m";
    out += " ";
  }
  return out;
}

struct RouteCase {
  const char* name;
  pb::Rule rule;
  pb::Severity severity;
  std::vector<pb::Recipient> recipients;
  int64_t local_minute;  // minutes after 2026-11-24 00:00 local
  const char* expected;

  // gtest names the case by this, not by its bytes.
  friend void PrintTo(const RouteCase& c, std::ostream* os) { *os << c.name; }
};

class RouteTest : public ::testing::TestWithParam<RouteCase> {};

TEST_P(RouteTest, GivesTheDeliveries) {
  const RouteCase& c = GetParam();
  pb::Escalation event = SampleEscalation(c.rule);
  event.set_severity(c.severity);
  event.clear_recipients();
  for (const pb::Recipient& r : c.recipients) *event.add_recipients() = r;
  EXPECT_EQ(Summary(Route(event, Config(), kLocalMidnightMs + c.local_minute * kMinute)), c.expected) << c.name;
}

const pb::Recipient kManager = Person("HM0012", "周波", pb::ROLE_HEALTH_MANAGER);
const pb::Recipient kEnglishManager = Person("HM0042", "Wang", pb::ROLE_HEALTH_MANAGER);
const pb::Recipient kSupervisor = Person("US0007", "陈", pb::ROLE_UNIT_SUPERVISOR);
const pb::Recipient kWorker = Person("W000155", "杨建国", pb::ROLE_WORKER);
constexpr int64_t kNoon = 12 * 60;

INSTANTIATE_TEST_SUITE_P(
    Table, RouteTest,
    ::testing::Values(
        RouteCase{"role route, each channel",
                  pb::R2_SUSTAINED_HYPERTENSION,
                  pb::HIGH,
                  {kManager},
                  kNoon,
                  "HM0012:wecom:zh-CN HM0012:am:zh-CN "},
        RouteCase{"person route replaces the role's",
                  pb::R1_CRITICAL_BP,
                  pb::URGENT,
                  {kEnglishManager},
                  kNoon,
                  "HM0042:ding:en "},
        RouteCase{"person's rule filter", pb::R2_SUSTAINED_HYPERTENSION, pb::HIGH, {kEnglishManager}, kNoon, ""},
        RouteCase{"below the minimum severity", pb::R2_SUSTAINED_HYPERTENSION, pb::HIGH, {kSupervisor}, kNoon, ""},
        RouteCase{
            "at the minimum severity", pb::R1_CRITICAL_BP, pb::URGENT, {kSupervisor}, kNoon, "US0007:ding:zh-CN "},
        RouteCase{"no route for the role", pb::R3_SELF_TEST_MISSED, pb::HIGH, {kWorker}, kNoon, ""},
        RouteCase{"nobody named: the on-call desk", pb::R1_CRITICAL_BP, pb::URGENT, {}, kNoon, "on-call:am:zh-CN "},
        RouteCase{"recipients in order, a repeat once",
                  pb::R1_CRITICAL_BP,
                  pb::URGENT,
                  {kSupervisor, kManager, kSupervisor},
                  kNoon,
                  "US0007:ding:zh-CN HM0012:wecom:zh-CN HM0012:am:zh-CN "},
        // Quiet hours 22:00-07:00 local: HIGH waits until 07:00, URGENT and CRITICAL never.
        RouteCase{"HIGH at 21:59 goes",
                  pb::R2_SUSTAINED_HYPERTENSION,
                  pb::HIGH,
                  {kManager},
                  -(2 * 60 + 1),
                  "HM0012:wecom:zh-CN HM0012:am:zh-CN "},
        RouteCase{"HIGH at 22:00 waits to 07:00",
                  pb::R2_SUSTAINED_HYPERTENSION,
                  pb::HIGH,
                  {kManager},
                  -2 * 60,
                  "HM0012:wecom:zh-CN:held+420m HM0012:am:zh-CN:held+420m "},
        RouteCase{"HIGH at 00:00 waits",
                  pb::R2_SUSTAINED_HYPERTENSION,
                  pb::HIGH,
                  {kManager},
                  0,
                  "HM0012:wecom:zh-CN:held+420m HM0012:am:zh-CN:held+420m "},
        RouteCase{"HIGH at 06:59 waits",
                  pb::R2_SUSTAINED_HYPERTENSION,
                  pb::HIGH,
                  {kManager},
                  7 * 60 - 1,
                  "HM0012:wecom:zh-CN:held+420m HM0012:am:zh-CN:held+420m "},
        RouteCase{"HIGH at 07:00 goes",
                  pb::R2_SUSTAINED_HYPERTENSION,
                  pb::HIGH,
                  {kManager},
                  7 * 60,
                  "HM0012:wecom:zh-CN HM0012:am:zh-CN "},
        RouteCase{"INFO at 03:00 waits",
                  pb::R6_FOCUS_TRACKING,
                  pb::INFO,
                  {kManager},
                  3 * 60,
                  "HM0012:wecom:zh-CN:held+420m HM0012:am:zh-CN:held+420m "},
        RouteCase{"URGENT at 03:00 goes",
                  pb::R1_CRITICAL_BP,
                  pb::URGENT,
                  {kManager},
                  3 * 60,
                  "HM0012:wecom:zh-CN HM0012:am:zh-CN "},
        RouteCase{"CRITICAL at 03:00 goes",
                  pb::R4_PRE_SHIFT_FITNESS,
                  pb::CRITICAL,
                  {kManager},
                  3 * 60,
                  "HM0012:wecom:zh-CN HM0012:am:zh-CN "},
        RouteCase{"quiet_hours off", pb::R1_CRITICAL_BP, pb::HIGH, {kEnglishManager}, 3 * 60, "HM0042:ding:en "}),
    [](const auto& tc) { return testing::CaseName(tc.param.name, tc.index); });

TEST(Route, APersonRouteAppliesWhateverRoleTheEscalationGivesThePerson) {
  // The person HM0042 named as an extra recipient still gets their own route:
  // routes match the person first, whatever role this episode gives them.
  pb::Escalation event = SampleEscalation(pb::R1_CRITICAL_BP);
  event.clear_recipients();
  *event.add_recipients() = Person("HM0042", "Wang", pb::ROLE_EXTRA);
  EXPECT_EQ(Summary(Route(event, Config(), kLocalMidnightMs + kNoon * kMinute)), "HM0042:ding:en ");
}

struct QuietCase {
  int from;
  int until;
  int offset_minutes;
  int64_t now_ms;
  std::optional<int64_t> end_ms;

  // gtest names the case by this, not by its bytes.
  friend void PrintTo(const QuietCase& c, std::ostream* os) { *os << c.from << "-" << c.until << " at " << c.now_ms; }
};

class QuietHoursEndTest : public ::testing::TestWithParam<QuietCase> {};

TEST_P(QuietHoursEndTest, EndsWhereTheSpanEnds) {
  const QuietCase& c = GetParam();
  EXPECT_EQ(QuietHoursEnd(QuietHours{c.from, c.until}, c.offset_minutes, c.now_ms), c.end_ms);
}

INSTANTIATE_TEST_SUITE_P(
    Spans, QuietHoursEndTest,
    ::testing::Values(QuietCase{22 * 60, 7 * 60, 480, kLocalMidnightMs - 2 * 60 * kMinute,
                                kLocalMidnightMs + 7 * 60 * kMinute},  // 22:00 wraps
                      QuietCase{22 * 60, 7 * 60, 480, kLocalMidnightMs + 7 * 60 * kMinute - 1,
                                kLocalMidnightMs + 7 * 60 * kMinute},
                      QuietCase{22 * 60, 7 * 60, 480, kLocalMidnightMs + 7 * 60 * kMinute, std::nullopt},
                      QuietCase{12 * 60, 14 * 60, 480, kLocalMidnightMs + 12 * 60 * kMinute,
                                kLocalMidnightMs + 14 * 60 * kMinute},  // same day
                      QuietCase{12 * 60, 14 * 60, 480, kLocalMidnightMs + 14 * 60 * kMinute, std::nullopt},
                      QuietCase{12 * 60, 14 * 60, 480, kLocalMidnightMs + 11 * 60 * kMinute, std::nullopt},
                      // The same instant, 16:00 UTC, is midnight in China and 11:00 at -05:00.
                      QuietCase{22 * 60, 7 * 60, 0, kLocalMidnightMs, std::nullopt},
                      QuietCase{10 * 60, 12 * 60, -300, kLocalMidnightMs, kLocalMidnightMs + 60 * kMinute},
                      // Before 1970: the local day still starts at local midnight.
                      QuietCase{22 * 60, 7 * 60, 0, -60 * kMinute, 7 * 60 * kMinute}),
    [](const auto& tc) { return testing::CaseName("span", tc.index); });

}  // namespace
}  // namespace alertd::notify
