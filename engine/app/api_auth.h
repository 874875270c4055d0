// Who is asking the query API: the operator (--api-token-file's bearer token) or a person holding a
// signed view link (its token as the bearer), and what each may read or act on (i10 contract).
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/notify/ack_link.h"

namespace alertd::app {

struct Caller {
  bool is_operator = false;
  notify::LinkScope scope;  // a view link's scope; empty for the operator
  std::string person_id;    // the view link's sub; "operator" for the operator
  std::string person_name;
};

// From the Authorization header's value. Unauthenticated ("no bearer token", "link expired", ...)
// for anything but "Bearer <operator token>" or "Bearer <unexpired view token>"; an action link's
// token is refused as a bearer (it acts on one episode; it reads nothing).
absl::StatusOr<Caller> Authenticate(std::string_view authorization, std::string_view operator_token,
                                    std::string_view link_secret, int64_t now_ms);

// A caller may read (and act on) a worker when operator, or when the view link's scope is that worker,
// their grid or their unit.
bool MayReadWorker(const Caller& caller, std::string_view worker_id, std::string_view grid_id, std::string_view unit_id);
// A caller may read a grid or unit ("grid"/"unit" and its id) when operator or when that is the link's
// scope; a unit's link also reads the grids of the unit, but only the unit's workers in them
// (GroupScope::within_unit).
bool MayReadGroup(const Caller& caller, std::string_view kind, std::string_view id);

// Equal contents, in time that does not depend on where they differ.
bool SameSecret(std::string_view a, std::string_view b);

}  // namespace alertd::app
