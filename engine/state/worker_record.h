// Encoding of domain::WorkerState as alertd.state.v1 records (alertd_state.proto): the whole record of
// schemas 1-3, and the parts schema 4 stores apart (head, profile, one record per window sample). A
// whole record keeps schema 3's form of the profile's enrolment (`bool active`, field 12, absent =
// out of the programme), so a migrated store keeps who had left.
//
// Internal to engine/state: the store wraps these errors with its path, column family and key.
#pragma once

#include <cstddef>
#include <cstdint>
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

// --- Schema 4: the parts (errors as above) ----------------------------------------------------------

// A head: the state without its profile and windows, and how many of each part the worker has.
struct WorkerHead {
  domain::WorkerState state;  // profile, bp_window and glucose_window empty
  uint32_t bp_samples = 0;
  uint32_t glucose_samples = 0;
  bool has_profile = false;
};
// Ignores state.profile, bp_window and glucose_window, but for their sizes.
[[nodiscard]] absl::StatusOr<std::string> EncodeWorkerHead(const domain::WorkerState& state);
// Refuses a whole record (one holding a profile or samples): that is a schema-3 value.
[[nodiscard]] absl::StatusOr<WorkerHead> DecodeWorkerHead(std::string_view bytes);

[[nodiscard]] absl::StatusOr<std::string> EncodeProfile(const domain::WorkerProfile& profile);
[[nodiscard]] absl::StatusOr<domain::WorkerProfile> DecodeProfile(std::string_view bytes);

// A sample's record leaves out measured_at, which its key holds; `index` (its place in the window)
// only names it in errors.
[[nodiscard]] absl::StatusOr<std::string> EncodeBpSample(const domain::BpSample& sample, size_t index);
[[nodiscard]] absl::StatusOr<domain::BpSample> DecodeBpSample(std::string_view bytes, domain::EventTime measured_at);
[[nodiscard]] absl::StatusOr<std::string> EncodeGlucoseSample(const domain::GlucoseSample& sample, size_t index);
[[nodiscard]] absl::StatusOr<domain::GlucoseSample> DecodeGlucoseSample(std::string_view bytes,
                                                                        domain::EventTime measured_at);

}  // namespace alertd::state
