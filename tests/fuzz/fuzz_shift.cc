// Fuzzes the shifts topic: DecodeShift with any key, then the R4 clock-in check by the rules.
#include <variant>

#include "fuzz_record.h"

using namespace alertd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const fuzz::FuzzRecord in = fuzz::ToRecord(data, size, "shifts");
  auto decoded = kafka::DecodeShift(in.raw);
  if (const auto* why = std::get_if<domain::Rejection>(&decoded)) {
    fuzz::CheckDeadLetter(in.raw, *why);
    return 0;
  }
  domain::WorkerState state = fuzz::StartState(in.known_worker);
  const domain::Outcome out = fuzz::DefaultRules().OnShift(std::get<domain::ShiftEvent>(decoded), state, fuzz::kNow);
  fuzz::CheckOutcome(out);
  return 0;
}
