// Fuzzes the readings topic: DecodeReading with any key, then validation and grading by the rules.
#include <variant>

#include "fuzz_record.h"

using namespace alertd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const fuzz::FuzzRecord in = fuzz::ToRecord(data, size, "readings");
  auto decoded = kafka::DecodeReading(in.raw);
  if (const auto* why = std::get_if<domain::Rejection>(&decoded)) {
    fuzz::CheckDeadLetter(in.raw, *why);
    return 0;
  }
  const domain::Reading& reading = std::get<domain::Reading>(decoded);
  domain::WorkerState state = fuzz::StartState(in.known_worker);
  const domain::WorkerState before = state;
  const domain::ReadingOutcome out = fuzz::DefaultRules().OnReading(reading, state, fuzz::kNow);
  if (out.rejected) {
    // The header's promise: a refused reading changes nothing, and the engine dead-letters it.
    if (!(state == before)) fuzz::Fail("a rejected reading changed the worker state");
    if (!out.escalations.empty() || !out.referrals.empty() || !out.timers_set.empty()) {
      fuzz::Fail("a rejected reading emitted something");
    }
    fuzz::CheckDeadLetter(in.raw, *out.rejected);
    return 0;
  }
  if (state.readings_accepted != before.readings_accepted + 1) fuzz::Fail("an accepted reading was not counted");
  if (std::holds_alternative<domain::BloodPressure>(reading.measurement) != out.bp.has_value()) {
    fuzz::Fail("an accepted blood-pressure reading was not classified");
  }
  fuzz::CheckOutcome(out);
  return 0;
}
