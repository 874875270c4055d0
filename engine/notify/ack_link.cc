// Signed links on libjwt 1.10: HS256 signing and verification, claims in and out.
#include "engine/notify/ack_link.h"

#include <jwt.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "engine/notify/signing.h"
#include "engine/notify/words.h"

namespace alertd::notify {
namespace {

namespace pb = healthgrid::v1;

// A link travels in a URL: a token longer than this is not one of ours, and is refused before parsing.
constexpr size_t kMaxTokenBytes = 4096;

struct JwtFree {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;

constexpr std::array<std::pair<LinkAction, std::string_view>, 4> kActionNames = {{
    {LinkAction::kAcknowledge, "acknowledge"},
    {LinkAction::kResolve, "resolve"},
    {LinkAction::kSnooze, "snooze"},
    {LinkAction::kView, "view"},
}};

// What VerifyLink would refuse in `claims`, or "" when they are whole.
std::string MissingClaim(const LinkClaims& claims) {
  if (claims.person_id.empty()) return "sub";
  if (claims.expires_ms <= 0) return "exp";
  if (claims.action == LinkAction::kView) {
    if (!ParseLinkScope(claims.scope)) return "scope";
    return "";
  }
  if (claims.worker_id.empty()) return "wk";
  if (claims.episode_id.empty()) return "ep";
  if (!ParseRuleCode(RuleCode(claims.rule))) return "rule";
  return "";
}

// The string claim `name`, or nullopt when absent.
std::optional<std::string> Grant(jwt_t* jwt, const char* name) {
  const char* value = jwt_get_grant(jwt, name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// The integer claim `name`, or nullopt when absent or not an integer.
std::optional<int64_t> GrantInt(jwt_t* jwt, const char* name) {
  errno = 0;
  const long value = jwt_get_grant_int(jwt, name);
  if (errno != 0) return std::nullopt;
  return static_cast<int64_t>(value);
}

absl::Status Refused(std::string_view why) { return absl::UnauthenticatedError(std::string(why)); }

}  // namespace

std::string_view LinkActionName(LinkAction action) {
  for (const auto& [a, name] : kActionNames) {
    if (a == action) return name;
  }
  return "view";
}

std::optional<LinkAction> ParseLinkAction(std::string_view name) {
  for (const auto& [a, n] : kActionNames) {
    if (n == name) return a;
  }
  return std::nullopt;
}

std::optional<pb::Rule> ParseRuleCode(std::string_view code) {
  for (int r = pb::R1_CRITICAL_BP; r <= pb::R6_FOCUS_TRACKING; ++r) {
    if (RuleCode(static_cast<pb::Rule>(r)) == code) return static_cast<pb::Rule>(r);
  }
  return std::nullopt;
}

std::optional<LinkScope> ParseLinkScope(std::string_view scope) {
  const auto colon = scope.find(':');
  if (colon == std::string_view::npos || colon + 1 == scope.size()) return std::nullopt;
  LinkScope parsed{std::string(scope.substr(0, colon)), std::string(scope.substr(colon + 1))};
  if (parsed.kind != "grid" && parsed.kind != "unit" && parsed.kind != "worker") return std::nullopt;
  return parsed;
}

std::string SignLink(const LinkClaims& claims, std::string_view secret) {
  if (secret.empty() || !MissingClaim(claims).empty()) return "";
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return "";
  JwtPtr jwt(raw);
  int failed = jwt_add_grant(jwt.get(), "act", std::string(LinkActionName(claims.action)).c_str());
  failed |= jwt_add_grant(jwt.get(), "sub", claims.person_id.c_str());
  failed |= jwt_add_grant(jwt.get(), "name", claims.person_name.c_str());
  if (claims.action == LinkAction::kView) {
    failed |= jwt_add_grant(jwt.get(), "scope", claims.scope.c_str());
  } else {
    failed |= jwt_add_grant(jwt.get(), "wk", claims.worker_id.c_str());
    failed |= jwt_add_grant(jwt.get(), "ep", claims.episode_id.c_str());
    failed |= jwt_add_grant(jwt.get(), "rule", std::string(RuleCode(claims.rule)).c_str());
  }
  failed |= jwt_add_grant_int(jwt.get(), "iat", static_cast<long>(claims.issued_ms / 1000));
  failed |= jwt_add_grant_int(jwt.get(), "exp", static_cast<long>(claims.expires_ms / 1000));
  failed |= jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                        static_cast<int>(secret.size()));
  if (failed != 0) return "";
  char* encoded = jwt_encode_str(jwt.get());
  if (encoded == nullptr) return "";
  std::string token(encoded);
  free(encoded);  // libjwt 1.10 allocates with malloc and has no free function of its own
  return token;
}

absl::StatusOr<LinkClaims> VerifyLink(std::string_view token, std::string_view secret, int64_t now_ms) {
  if (secret.empty()) return absl::FailedPreconditionError("no link secret configured");
  if (token.empty()) return Refused("no link token");
  if (token.size() > kMaxTokenBytes) return Refused("link token too long");
  jwt_t* raw = nullptr;
  // With a key, jwt_decode checks the signature under the token's own alg; that alg must then be ours,
  // or a token signed another way (or "none") would pass.
  const std::string text(token);
  if (jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(secret.data()),
                 static_cast<int>(secret.size())) != 0 ||
      raw == nullptr) {
    if (raw != nullptr) jwt_free(raw);
    return Refused("bad link signature");
  }
  JwtPtr jwt(raw);
  if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) return Refused("link not signed with HS256");

  LinkClaims claims;
  const auto act = Grant(jwt.get(), "act");
  const auto action = act ? ParseLinkAction(*act) : std::nullopt;
  if (!action) return Refused("link has no valid act claim");
  claims.action = *action;
  claims.person_id = Grant(jwt.get(), "sub").value_or("");
  claims.person_name = Grant(jwt.get(), "name").value_or("");
  claims.worker_id = Grant(jwt.get(), "wk").value_or("");
  claims.episode_id = Grant(jwt.get(), "ep").value_or("");
  claims.scope = Grant(jwt.get(), "scope").value_or("");
  const auto rule = ParseRuleCode(Grant(jwt.get(), "rule").value_or(""));
  claims.rule = rule.value_or(pb::RULE_UNSPECIFIED);
  const auto exp = GrantInt(jwt.get(), "exp");
  const auto iat = GrantInt(jwt.get(), "iat");
  if (!exp || *exp <= 0) return Refused("link has no exp claim");
  if (!iat) return Refused("link has no iat claim");
  claims.expires_ms = *exp * 1000;
  claims.issued_ms = *iat * 1000;
  if (const std::string missing = MissingClaim(claims); !missing.empty()) {
    return Refused("link has no valid " + missing + " claim");
  }
  if (now_ms >= claims.expires_ms) return Refused("link expired");
  return claims;
}

MessageLinks SignedLinks(const pb::Escalation& event, const pb::Recipient& recipient, std::string_view base_url,
                         std::string_view secret, int64_t now_ms, int64_t ttl_ms) {
  if (secret.empty() || base_url.empty() || event.worker_id().empty() || event.episode_id().empty()) return {};
  std::string base(base_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  LinkClaims claims;
  claims.person_id = recipient.id();
  claims.person_name = recipient.name();
  claims.worker_id = event.worker_id();
  claims.episode_id = event.episode_id();
  claims.rule = event.rule();
  claims.issued_ms = now_ms;
  claims.expires_ms = now_ms + ttl_ms;
  auto act_link = [&](LinkAction action) {
    claims.action = action;
    const std::string token = SignLink(claims, secret);
    return token.empty() ? std::string() : base + "/act?t=" + token;
  };
  MessageLinks links;
  links.acknowledge = act_link(LinkAction::kAcknowledge);
  links.resolve = act_link(LinkAction::kResolve);
  links.snooze = act_link(LinkAction::kSnooze);
  claims.action = LinkAction::kView;
  claims.scope = "worker:" + event.worker_id();
  if (const std::string token = SignLink(claims, secret); !token.empty()) {
    links.worker_page = base + "/worker/" + PercentEncode(event.worker_id()) + "?t=" + token;
  }
  return links;
}

}  // namespace alertd::notify
