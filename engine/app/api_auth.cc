// Bearer tokens of the query API: the operator's, or a signed view link's.
#include "engine/app/api_auth.h"

#include <openssl/crypto.h>

#include "absl/status/status.h"

namespace alertd::app {

bool SameSecret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

absl::StatusOr<Caller> Authenticate(std::string_view authorization, std::string_view operator_token,
                                    std::string_view link_secret, int64_t now_ms) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.substr(0, kBearer.size()) != kBearer) {
    return absl::UnauthenticatedError("no bearer token (Authorization: Bearer <token>)");
  }
  const std::string_view token = authorization.substr(kBearer.size());
  if (!operator_token.empty() && SameSecret(token, operator_token)) {
    return Caller{.is_operator = true, .scope = {}, .person_id = "operator", .person_name = "operator"};
  }
  if (link_secret.empty()) return absl::UnauthenticatedError("bad token");
  absl::StatusOr<notify::LinkClaims> claims = notify::VerifyLink(token, link_secret, now_ms);
  if (!claims.ok()) return absl::UnauthenticatedError(claims.status().message());
  if (claims->action != notify::LinkAction::kView) {
    return absl::PermissionDeniedError("an action link cannot be used to read; open its page instead");
  }
  return Caller{.is_operator = false,
                .scope = *notify::ParseLinkScope(claims->scope),  // VerifyLink checked it parses
                .person_id = claims->person_id,
                .person_name = claims->person_name};
}

bool MayReadWorker(const Caller& caller, std::string_view worker_id, std::string_view grid_id,
                   std::string_view unit_id) {
  if (caller.is_operator) return true;
  const std::string_view id = caller.scope.id;
  if (caller.scope.kind == "worker") return id == worker_id;
  if (caller.scope.kind == "grid") return !grid_id.empty() && id == grid_id;
  if (caller.scope.kind == "unit") return !unit_id.empty() && id == unit_id;
  return false;
}

bool MayReadGroup(const Caller& caller, std::string_view kind, std::string_view id) {
  if (caller.is_operator || (caller.scope.kind == kind && caller.scope.id == id)) return true;
  return kind == "grid" && caller.scope.kind == "unit";
}

}  // namespace alertd::app
