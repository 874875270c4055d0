// The query API and the signed-link endpoint on alertd's HTTP listener (i10 contract,
// /work/briefs/i10_api.md): GET/POST /act, GET /api/v1/workers/<id>, GET /api/v1/{grids,units}/<id>/
// {workers,escalations,compliance}, POST /api/v1/acks.
//
// Reads go to the engine's store between the engine's own uses of it (ApiBackend::read_store), only
// for the partitions this instance processes now. With several instances, a worker this one does not
// hold is asked of the others, and a grid or unit answer gathers every live instance's part
// (`?local=1`); partitions nobody answered for within the peer timeout are listed as missing.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/domain/policy.h"
#include "engine/state/store.h"
#include "health.pb.h"

namespace httplib {
class Server;
struct Request;
}

namespace alertd::app {

struct ApiConfig {
  std::string api_token;    // the operator's bearer token; "" = /api/v1 disabled (404)
  std::string link_secret;  // HMAC key of signed links; "" = /act disabled (404), no view tokens
  std::string instance_id;  // named as "owner" in a worker's answer
  int peer_timeout_ms = 2000;
};

// What the routes need of the engine; every function is called from HTTP threads.
struct ApiBackend {
  // Runs `read` on the store between the engine's own uses of it.
  std::function<absl::Status(const std::function<absl::Status(state::StateStore&)>&)> read_store;
  std::function<std::set<int32_t>()> served_partitions;  // restored and processing here now
  std::function<int()> partition_count;                  // of the inputs; 0 while unknown
  std::function<absl::Status(const healthgrid::v1::EscalationAck&)> send_ack;
  std::function<int64_t()> now_ms;                       // the wall clock: links expire by it
  std::function<std::vector<std::string>()> peers;       // host:port of the other live instances; may be empty
  domain::Policy policy;
};

void RegisterApiRoutes(httplib::Server& server, ApiConfig config, ApiBackend backend);

// What a grid view page's token allows (engine/web's PageAccess, the same four in the same order).
enum class PageVerdict { kAllowed, kDisabled, kExpired, kForbidden };
// The check engine/web's RegisterPages asks for each page of `scope` ("grid:<id>", "unit:<id>",
// "worker:<id>"): the token is the `t` parameter, else the Authorization bearer. Disabled without an
// operator token; allowed for the operator and for a view link whose scope covers the page (a worker's
// page by the worker's, their grid's or their unit's link; a grid's by its own or its unit's link);
// expired for an expired or forged token; forbidden otherwise. Any thread.
using PageAuthorizer = std::function<PageVerdict(const httplib::Request&, std::string_view scope)>;
PageAuthorizer MakePageAuthorizer(ApiConfig config, ApiBackend backend);

}  // namespace alertd::app
