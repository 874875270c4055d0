// EffectivePolicy: each individual override lands in the right Policy field; nonsense is ignored.
#include "engine/domain/policy.h"

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>

#include "domain_test_support.h"
#include "engine/domain/types.h"

namespace alertd::domain {
namespace {

struct OverrideRow {
  const char* name;
  std::function<void(IndividualPolicy&)> set;
  std::function<void(Policy&)> expect;  // applied to the global policy: what the effective one must be
  friend void PrintTo(const OverrideRow& r, std::ostream* os) { *os << r.name; }
};

class EffectivePolicyTest : public ::testing::TestWithParam<OverrideRow> {};

TEST_P(EffectivePolicyTest, MapsTheOverride) {
  const OverrideRow& row = GetParam();
  const Policy global;
  IndividualPolicy own;
  row.set(own);
  Policy expected = global;
  row.expect(expected);
  EXPECT_EQ(EffectivePolicy(global, own), expected);
}

void AllAckTimeouts(Policy& p, int64_t ms) {
  p.r1_ack_timeout_ms = ms;
  p.r2_ack_timeout_ms = ms;
  p.r4_ack_timeout_ms = ms;
  p.r5_hypo_ack_timeout_ms = ms;
  p.r5_high_ack_timeout_ms = ms;
  p.r6_ack_timeout_ms = ms;
}

INSTANTIATE_TEST_SUITE_P(
    Overrides, EffectivePolicyTest,
    ::testing::Values(
        OverrideRow{"none", [](IndividualPolicy&) {}, [](Policy&) {}},
        OverrideRow{"critical_systolic", [](IndividualPolicy& o) { o.critical_systolic_mmhg = 170; },
                    [](Policy& p) { p.r1_critical_systolic = 170; }},
        OverrideRow{"critical_diastolic", [](IndividualPolicy& o) { o.critical_diastolic_mmhg = 105; },
                    [](Policy& p) { p.r1_critical_diastolic = 105; }},
        OverrideRow{"critical_systolic_zero_ignored", [](IndividualPolicy& o) { o.critical_systolic_mmhg = 0; },
                    [](Policy&) {}},
        OverrideRow{"critical_systolic_negative_ignored",
                    [](IndividualPolicy& o) { o.critical_systolic_mmhg = -5; }, [](Policy&) {}},
        OverrideRow{"critical_systolic_implausible_ignored",
                    [](IndividualPolicy& o) { o.critical_systolic_mmhg = 301; }, [](Policy&) {}},
        OverrideRow{"critical_systolic_at_plausible_max", [](IndividualPolicy& o) { o.critical_systolic_mmhg = 300; },
                    [](Policy& p) { p.r1_critical_systolic = 300; }},
        OverrideRow{"critical_diastolic_below_plausible_ignored",
                    [](IndividualPolicy& o) { o.critical_diastolic_mmhg = 19; }, [](Policy&) {}},
        OverrideRow{"self_test_interval", [](IndividualPolicy& o) { o.self_test_interval_days = 3; },
                    [](Policy& p) { p.self_test_interval_ms = 3 * kDayMs; }},
        OverrideRow{"self_test_interval_zero_ignored", [](IndividualPolicy& o) { o.self_test_interval_days = 0; },
                    [](Policy&) {}},
        OverrideRow{"abnormal_systolic", [](IndividualPolicy& o) { o.abnormal_systolic_mmhg = 130; },
                    [](Policy& p) { p.r6_abnormal_systolic = 130; }},
        OverrideRow{"abnormal_diastolic", [](IndividualPolicy& o) { o.abnormal_diastolic_mmhg = 85; },
                    [](Policy& p) { p.r6_abnormal_diastolic = 85; }},
        OverrideRow{"abnormal_systolic_zero_ignored", [](IndividualPolicy& o) { o.abnormal_systolic_mmhg = 0; },
                    [](Policy&) {}},
        OverrideRow{"ack_timeout_every_rule", [](IndividualPolicy& o) { o.ack_timeout_minutes = 10; },
                    [](Policy& p) { AllAckTimeouts(p, 10 * kMinuteMs); }},
        OverrideRow{"ack_timeout_zero_ignored", [](IndividualPolicy& o) { o.ack_timeout_minutes = 0; },
                    [](Policy&) {}},
        OverrideRow{"renotify_interval", [](IndividualPolicy& o) { o.renotify_interval_hours = 4; },
                    [](Policy& p) { p.renotify_interval_ms = 4 * kHourMs; }},
        OverrideRow{"renotify_interval_negative_ignored", [](IndividualPolicy& o) { o.renotify_interval_hours = -1; },
                    [](Policy&) {}},
        OverrideRow{"non_numbers_change_nothing",
                    [](IndividualPolicy& o) {
                      o.focus_tracking = true;
                      o.self_test_enrolled = true;
                      o.extra_recipients = {Person{"ex-1", "Dr Wang"}};
                    },
                    [](Policy&) {}},
        OverrideRow{"everything_at_once",
                    [](IndividualPolicy& o) {
                      o.critical_systolic_mmhg = 165;
                      o.critical_diastolic_mmhg = 100;
                      o.self_test_interval_days = 2;
                      o.abnormal_systolic_mmhg = 135;
                      o.abnormal_diastolic_mmhg = 85;
                      o.ack_timeout_minutes = 15;
                      o.renotify_interval_hours = 6;
                    },
                    [](Policy& p) {
                      p.r1_critical_systolic = 165;
                      p.r1_critical_diastolic = 100;
                      p.self_test_interval_ms = 2 * kDayMs;
                      p.r6_abnormal_systolic = 135;
                      p.r6_abnormal_diastolic = 85;
                      AllAckTimeouts(p, 15 * kMinuteMs);
                      p.renotify_interval_ms = 6 * kHourMs;
                    }}),
    test_support::RowName());

TEST(EffectivePolicyTest, StartsFromTheGlobalPolicyNotTheDefaults) {
  Policy global;
  global.r1_critical_systolic = 175;
  global.r6_ack_timeout_ms = kHourMs;
  global.glucose_fasting_high = 6.5;
  IndividualPolicy own;
  own.critical_diastolic_mmhg = 100;
  const Policy p = EffectivePolicy(global, own);
  EXPECT_EQ(p.r1_critical_systolic, 175);
  EXPECT_EQ(p.r1_critical_diastolic, 100);
  EXPECT_EQ(p.r6_ack_timeout_ms, kHourMs);
  EXPECT_EQ(p.glucose_fasting_high, 6.5);
}

struct OverridesRow {
  const char* name;
  IndividualPolicy own;
  bool overrides;
  friend void PrintTo(const OverridesRow& r, std::ostream* os) { *os << r.name; }
};

class OverridesPolicyTest : public ::testing::TestWithParam<OverridesRow> {};

TEST_P(OverridesPolicyTest, TellsWhetherACopyIsNeeded) {
  EXPECT_EQ(OverridesPolicy(GetParam().own), GetParam().overrides);
}

IndividualPolicy With(std::function<void(IndividualPolicy&)> f) {
  IndividualPolicy o;
  f(o);
  return o;
}

INSTANTIATE_TEST_SUITE_P(
    Fields, OverridesPolicyTest,
    ::testing::Values(
        OverridesRow{"default", IndividualPolicy{}, false},
        OverridesRow{"focus_and_recipients_only", With([](IndividualPolicy& o) {
                       o.focus_tracking = true;
                       o.self_test_enrolled = true;
                       o.extra_recipients = {Person{"x", "y"}};
                     }),
                     false},
        OverridesRow{"critical", With([](IndividualPolicy& o) { o.critical_systolic_mmhg = 170; }), true},
        OverridesRow{"interval", With([](IndividualPolicy& o) { o.self_test_interval_days = 3; }), true},
        OverridesRow{"abnormal", With([](IndividualPolicy& o) { o.abnormal_diastolic_mmhg = 85; }), true},
        OverridesRow{"ack", With([](IndividualPolicy& o) { o.ack_timeout_minutes = 5; }), true},
        OverridesRow{"renotify", With([](IndividualPolicy& o) { o.renotify_interval_hours = 5; }), true}),
    test_support::RowName());

struct UrgencyRow {
  ReferralUrgency urgency;
  const char* name;
};

TEST(ReferralUrgencyTest, Names) {
  for (const UrgencyRow& row : {UrgencyRow{ReferralUrgency::kRoutine, "routine"},
                                UrgencyRow{ReferralUrgency::kUrgent, "urgent"},
                                UrgencyRow{static_cast<ReferralUrgency>(9), "unknown"}}) {
    EXPECT_STREQ(Name(row.urgency), row.name);
  }
}

}  // namespace
}  // namespace alertd::domain
