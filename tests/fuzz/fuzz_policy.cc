// Fuzzes the policy file parser (ParsePolicy, what LoadPolicyFile runs on the file's text); an accepted
// policy must print back to itself and must not break the rules on ordinary readings.
#include <string>
#include <string_view>
#include <vector>

#include "engine/config/policy_file.h"
#include "engine/domain/rulebook.h"
#include "fuzz_record.h"

using namespace alertd;

namespace {

constexpr std::string_view kFile = "fuzz-policy.yaml";

// A worker's ordinary week in a few readings: every BP grade, hypotension, glucose highs and lows.
std::vector<domain::Reading> OrdinaryReadings() {
  std::vector<domain::Reading> readings;
  auto add = [&](int64_t ago_ms, domain::ReadingContext context, domain::Measurement m) {
    domain::Reading r;
    r.worker.value = std::string(fuzz::kKnownWorker);
    r.device_id = "omron-17";
    r.station_id = "ST-12";
    r.measured_at = {fuzz::kNow.ms - ago_ms};
    r.context = context;
    r.measurement = m;
    readings.push_back(r);
  };
  using domain::kDayMs;
  using domain::kHourMs;
  add(6 * kDayMs, domain::ReadingContext::kSelfTest, domain::BloodPressure{118, 76, 70});
  add(5 * kDayMs, domain::ReadingContext::kSelfTest, domain::BloodPressure{165, 104, 80});
  add(4 * kDayMs, domain::ReadingContext::kCheckup, domain::BloodPressure{172, 106, 0});
  add(3 * kDayMs, domain::ReadingContext::kPreShift, domain::BloodPressure{85, 55, 50});
  add(2 * kDayMs, domain::ReadingContext::kSelfTest, domain::Glucose{2.5, domain::GlucoseTiming::kRandom});
  add(kDayMs, domain::ReadingContext::kClinic, domain::Glucose{12.5, domain::GlucoseTiming::kFasting});
  add(kDayMs / 2, domain::ReadingContext::kClinic, domain::Glucose{13.0, domain::GlucoseTiming::kPostprandial2h});
  add(2 * kHourMs, domain::ReadingContext::kPreShift, domain::BloodPressure{190, 115, 99});
  add(kHourMs, domain::ReadingContext::kCheckup, domain::BodyMeasurement{82.5, 176});
  return readings;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<domain::Policy> policy = config::ParsePolicy(text, kFile);
  if (!policy.ok()) {
    // Refusals name the file (and, where there is one, the line and field) for the operator.
    if (!std::string(policy.status().message()).starts_with(kFile)) fuzz::Fail("a refusal that does not name the file");
    return 0;
  }
  const std::string printed = config::FormatPolicy(*policy);
  const absl::StatusOr<domain::Policy> reread = config::ParsePolicy(printed, kFile);
  if (!reread.ok()) fuzz::Fail("a printed policy is refused: " + std::string(reread.status().message()));
  if (!(*reread == *policy)) fuzz::Fail("a printed policy reads back different");

  const domain::Rulebook rules(*policy);
  domain::WorkerState state = fuzz::StartState(true);
  for (const domain::Reading& r : OrdinaryReadings()) {
    fuzz::CheckOutcome(rules.OnReading(r, state, {r.measured_at.ms}));
  }
  domain::ShiftEvent shift{state.profile->worker, domain::HighRiskPost::kDriver, {fuzz::kNow.ms}, "depot 12"};
  fuzz::CheckOutcome(rules.OnShift(shift, state, fuzz::kNow));
  return 0;
}
