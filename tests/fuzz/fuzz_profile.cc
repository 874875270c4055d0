// Fuzzes the profiles topic: DecodeProfile with any key (tombstones too), then enrolment by the rules.
#include <optional>
#include <variant>

#include "fuzz_record.h"

using namespace alertd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const fuzz::FuzzRecord in = fuzz::ToRecord(data, size, "worker-profiles");
  auto decoded = kafka::DecodeProfile(in.raw);
  if (const auto* why = std::get_if<domain::Rejection>(&decoded)) {
    fuzz::CheckDeadLetter(in.raw, *why);
    return 0;
  }
  const auto& profile = std::get<std::optional<domain::WorkerProfile>>(decoded);
  if (profile && profile->worker.value != in.raw.key) fuzz::Fail("a profile is not filed under its key");
  domain::WorkerState state = fuzz::StartState(in.known_worker);
  const domain::WorkerId worker{std::string(in.raw.key)};
  const domain::Outcome out = fuzz::DefaultRules().OnWorkerProfile(worker, profile, state, fuzz::kNow);
  if (!profile && !state.open.empty()) fuzz::Fail("a removed worker still has open episodes");
  fuzz::CheckOutcome(out);
  return 0;
}
