// What the input-topic fuzzers share: fuzz bytes as a Kafka record, the states the rules start from, and
// the checks every engine output must pass (a consumer can read it back).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/domain/rulebook.h"
#include "engine/domain/types.h"
#include "engine/domain/worker_state.h"
#include "engine/kafka/codec.h"

namespace alertd::fuzz {

// Processing time of every fuzz run (2024-06-03 07:33:20 UTC): the seeds' event times sit just before it,
// so readings pass the future-skew and retention checks and reach the rules.
inline constexpr domain::ProcessingTime kNow{1717400000000};

// The worker the prepared state belongs to; seeds that should act on it carry this id.
inline constexpr std::string_view kKnownWorker = "W0001";

// A fuzz input is a record: [flags][key length n][n key bytes][value bytes...]. Flags bit 0: the value
// is null (a tombstone); bit 1: the rules start from KnownWorkerState() instead of an empty state.
// Inputs shorter than the header are a record without a key whose value is the input itself.
inline constexpr uint8_t kFlagTombstone = 1;
inline constexpr uint8_t kFlagKnownWorker = 2;

struct FuzzRecord {
  kafka::RawRecord raw;
  bool known_worker = false;
};
FuzzRecord ToRecord(const uint8_t* data, std::size_t size, std::string_view topic);

// The rules under the shipped default policy (deploy/policy.yaml is Policy{}).
const domain::Rulebook& DefaultRules();

// Empty, or kKnownWorker with a profile (grade-2 hypertension, a DRIVER, focus tracking, enrolled in
// self-tests) and an open R1 episode from a critical reading an hour before kNow.
domain::WorkerState StartState(bool known_worker);

// The engine's reaction to a refused record: a dead letter. Checks that the rejection says why, and that
// the dead letter parses back with the original key and value byte for byte.
void CheckDeadLetter(const kafka::RawRecord& raw, const domain::Rejection& why);

// Encodes what the rules emitted, as the engine does, and checks each message parses back: a proto3
// string holding invalid UTF-8 would serialize yet be unreadable to every consumer.
void CheckOutcome(const domain::Outcome& outcome);

// Reports a broken property and aborts, so libFuzzer keeps the input as a crash reproducer.
[[noreturn]] void Fail(std::string_view what);

}  // namespace alertd::fuzz
