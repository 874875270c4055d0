// Fuzzes the escalation-acks topic: DecodeAck with any key, then acknowledge, resolve or snooze by the rules.
#include <variant>

#include "fuzz_record.h"

using namespace alertd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const fuzz::FuzzRecord in = fuzz::ToRecord(data, size, "escalation-acks");
  auto decoded = kafka::DecodeAck(in.raw, fuzz::kNow);
  if (const auto* why = std::get_if<domain::Rejection>(&decoded)) {
    fuzz::CheckDeadLetter(in.raw, *why);
    return 0;
  }
  domain::WorkerState state = fuzz::StartState(in.known_worker);
  const domain::WorkerState before = state;
  const domain::Outcome out = fuzz::DefaultRules().OnAck(std::get<domain::EscalationAck>(decoded), state, fuzz::kNow);
  // The header's promise: an ack with nothing open to act on changes nothing.
  if (before.open.empty() && !out.ignored) fuzz::Fail("an ack without an open episode was not ignored");
  if (out.ignored && !(state == before)) fuzz::Fail("an ignored ack changed the worker state");
  fuzz::CheckOutcome(out);
  return 0;
}
