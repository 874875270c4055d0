// Encoding of domain::WorkerState as an alertd.state.v1.WorkerStateRecord (alertd_state.proto).
//
// Internal to engine/state: the store wraps these errors with its path, column family and key.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/domain/worker_state.h"

namespace alertd::state {

// Serialized record. InvalidArgument, naming the field, when the state holds something the record
// cannot reproduce exactly (a negative number in an unsigned field, an enum value outside its
// enumerators, a string that is not UTF-8): better to refuse the commit than to store a record that
// reads back different, or not at all.
[[nodiscard]] absl::StatusOr<std::string> EncodeWorkerState(const domain::WorkerState& state);

// The state a record holds. InvalidArgument, saying what is wrong, for bytes that are not a valid
// record (unparseable, or an enum value this build does not know).
[[nodiscard]] absl::StatusOr<domain::WorkerState> DecodeWorkerState(std::string_view bytes);

}  // namespace alertd::state
