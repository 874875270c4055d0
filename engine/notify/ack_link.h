// Signed links of a message: JWT HS256 tokens (libjwt) that let one person act on one episode, or view
// one scope, until they expire.
//
// A token's claims (the contract between alertd, alertd-notify and the grid view page):
//   {"act":"acknowledge"|"resolve"|"snooze"|"view", "sub":"<person id>", "name":"<person display name>",
//    "wk":"<worker id>", "ep":"<episode id>", "rule":"R1".."R6"      (the three actions)
//    "scope":"grid:<id>"|"unit:<id>"|"worker:<id>"                   (view)
//    "exp":<unix seconds>, "iat":<unix seconds>}
// The secret is shared by alertd (which verifies) and alertd-notify (which signs): --link-secret-file.
// Times are kept to the second, as JWT writes them. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/notify/view_model.h"
#include "health.pb.h"

namespace alertd::notify {

enum class LinkAction { kAcknowledge, kResolve, kSnooze, kView };

// "acknowledge", "resolve", "snooze", "view": the `act` claim.
std::string_view LinkActionName(LinkAction action);
std::optional<LinkAction> ParseLinkAction(std::string_view name);
// "R1".."R6" -> the rule; nullopt for anything else.
std::optional<healthgrid::v1::Rule> ParseRuleCode(std::string_view code);

struct LinkClaims {
  LinkAction action = LinkAction::kView;
  std::string person_id;    // sub: who acts or views
  std::string person_name;  // name
  std::string worker_id;    // wk (actions)
  std::string episode_id;   // ep (actions)
  std::string scope;        // scope (view): "grid:<id>", "unit:<id>" or "worker:<id>"
  healthgrid::v1::Rule rule = healthgrid::v1::RULE_UNSPECIFIED;  // rule (actions)
  int64_t issued_ms = 0;    // iat, whole seconds
  int64_t expires_ms = 0;   // exp, whole seconds
};

// A parsed view scope: kind is "grid", "unit" or "worker".
struct LinkScope {
  std::string kind;
  std::string id;
};
// nullopt unless `scope` is "grid:<id>", "unit:<id>" or "worker:<id>" with a non-empty id.
std::optional<LinkScope> ParseLinkScope(std::string_view scope);

// The token of `claims` signed with `secret`; "" if the secret is empty or the claims lack what
// VerifyLink requires, so a link that can never work is never sent.
std::string SignLink(const LinkClaims& claims, std::string_view secret);

// The claims of `token` if it is signed with `secret` by HS256, has every claim its action needs, and
// has not expired at `now_ms`. Unauthenticated ("link expired", "bad signature", ...) otherwise: the
// message says what is wrong without echoing the token.
absl::StatusOr<LinkClaims> VerifyLink(std::string_view token, std::string_view secret, int64_t now_ms);

// The four links of one message for `recipient` (acknowledge, resolve and snooze the event's episode;
// the worker's page with a view token of scope worker:<id>), expiring `ttl_ms` after `now_ms`:
// "<base_url>/act?t=<token>" and "<base_url>/worker/<worker id>?t=<token>". All empty if `secret` or
// `base_url` is empty or the event lacks a worker or episode id (no link is better than a dead one).
MessageLinks SignedLinks(const healthgrid::v1::Escalation& event, const healthgrid::v1::Recipient& recipient,
                         std::string_view base_url, std::string_view secret, int64_t now_ms, int64_t ttl_ms);

}  // namespace alertd::notify
