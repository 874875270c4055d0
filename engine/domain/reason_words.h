// The wording of escalation and referral reasons: readings, durations and times as people read them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/domain/policy.h"
#include "engine/domain/types.h"

namespace alertd::domain {

// "2026-11-29 08:12" in the grid's local time (the policy's day offset): the words health managers read.
std::string LocalTimeText(EventTime t, const Policy& p);

// "152/96 mmHg"
std::string BpText(const BpSample& s);

// "12.3 mmol/L (random)"
std::string GlucoseText(const GlucoseSample& s);

// "3.9 mmol/L"
std::string MmolText(double v);

// The window's mean in whole mmHg, rounded down: the bounds are whole numbers, so the text never
// contradicts the category (a mean of 99.9 shows as 99, not as a grade-2 looking 100).
std::string MeanText(const WindowStats& w);

// "30 min", "24 h", "3 days": the largest whole unit, as people say deadlines (a day is "24 h").
std::string DurationText(int64_t ms);

// A person by name, or by id when the name is unknown.
std::string PersonWords(const Person& p);

// "once", "twice", "3 times"
std::string TimesWords(std::size_t n);

// "7.4 mmol/L (fasting) at 2024-03-05 07:40 and 12.3 mmol/L (random) at 2024-03-20 19:05", oldest first.
std::string GlucoseListText(const std::vector<GlucoseSample>& samples, const Policy& p);

// "1 critical reading", "3 critical readings": a count and its noun, plural when it is not one.
std::string CountText(int64_t n, const std::string& noun);

}  // namespace alertd::domain
