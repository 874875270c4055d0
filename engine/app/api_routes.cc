// Routes of the query API and of /act: authentication, the store reads, the peers' parts, the acks.
#include "engine/app/api_routes.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine/app/act_page.h"
#include "engine/app/api_auth.h"
#include "engine/app/query.h"
#include "engine/app/worker_json.h"
#include "engine/notify/ack_link.h"
#include "engine/notify/signing.h"

namespace alertd::app {
namespace {

namespace pb = healthgrid::v1;
using nlohmann::json;

constexpr std::size_t kMaxIdBytes = 128;  // as the codec bounds an *_id field
constexpr int64_t kMaxSnoozeMs = 7 * domain::kDayMs;

struct Api {
  ApiConfig config;
  ApiBackend backend;
};

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json; charset=utf-8");
}

void Error(httplib::Response& res, int status, std::string_view why) { Reply(res, status, {{"error", why}}); }

void Page(httplib::Response& res, int status, const std::string& html) {
  res.status = status;
  res.set_content(html, "text/html; charset=utf-8");
}

// --- Reading the store and the peers ---------------------------------------------------------------

enum class Found { kYes, kNo, kUnknown };

struct WorkerAnswer {
  Found found = Found::kNo;
  json answer;                // WorkerJson when found
  std::set<int32_t> covered;  // partitions looked in, when not found
};

WorkerAnswer LocalWorker(const Api& api, const std::string& id) {
  WorkerAnswer out;
  for (int32_t partition : api.backend.served_partitions()) {
    std::optional<domain::WorkerState> state;
    const absl::Status read = api.backend.read_store([&](state::StateStore& store) -> absl::Status {
      auto loaded = store.LoadWorker({partition, domain::WorkerId{id}});
      if (!loaded.ok()) return loaded.status();
      state = std::move(*loaded);
      return absl::OkStatus();
    });
    if (!read.ok()) {
      spdlog::warn("query: reading a worker of partition {}: {}", partition, std::string(read.message()));
      continue;
    }
    if (state) {
      return {Found::kYes, WorkerJson(*state, id, api.backend.policy, partition, api.config.instance_id), {}};
    }
    out.covered.insert(partition);
  }
  return out;
}

struct PeerReply {
  int status = -1;  // -1: no answer in time
  json body;
};

// GET `path` (with ?local=1) of every peer at once, with the operator's token, each within the timeout.
std::vector<PeerReply> AskPeers(const Api& api, const std::string& path) {
  std::vector<std::string> peers = api.backend.peers ? api.backend.peers() : std::vector<std::string>{};
  std::vector<std::future<PeerReply>> asked;
  for (const std::string& peer : peers) {
    asked.push_back(std::async(std::launch::async, [&api, peer, path] {
      PeerReply reply;
      const auto colon = peer.rfind(':');
      if (colon == std::string::npos) return reply;
      httplib::Client client(peer.substr(0, colon), std::atoi(peer.c_str() + colon + 1));
      const int timeout_ms = api.config.peer_timeout_ms;
      client.set_connection_timeout(timeout_ms / 1000, (timeout_ms % 1000) * 1000);
      client.set_read_timeout(timeout_ms / 1000, (timeout_ms % 1000) * 1000);
      client.set_write_timeout(timeout_ms / 1000, (timeout_ms % 1000) * 1000);
      auto res = client.Get(path, {{"Authorization", "Bearer " + api.config.api_token}});
      if (!res) return reply;
      reply.status = res->status;
      reply.body = json::parse(res->body, nullptr, false);
      if (reply.body.is_discarded()) reply.status = -1;
      return reply;
    }));
  }
  std::vector<PeerReply> replies;
  for (auto& f : asked) replies.push_back(f.get());
  return replies;
}

// The worker from this instance's store or, unless `local_only`, from the instance that holds them.
// Not found is said only when every partition was looked in (here or by a peer that answered 404 with
// the partitions it looked in); otherwise the worker may be in one nobody answered for: unknown.
WorkerAnswer FindWorker(const Api& api, const std::string& id, bool local_only) {
  WorkerAnswer found = LocalWorker(api, id);
  if (found.found == Found::kYes || local_only) return found;
  for (PeerReply& reply : AskPeers(api, "/api/v1/workers/" + notify::PercentEncode(id) + "?local=1")) {
    if (reply.status == 200) return {Found::kYes, std::move(reply.body), {}};
    if (reply.status != 404) continue;
    for (const json& p : reply.body.value("partitions", json::array())) {
      if (p.is_number_integer()) found.covered.insert(p.get<int32_t>());
    }
  }
  const int count = api.backend.partition_count();
  bool all = count > 0;
  for (int32_t p = 0; p < count && all; ++p) all = found.covered.count(p) > 0;
  found.found = all ? Found::kNo : Found::kUnknown;
  return found;
}

bool MayRead(const Caller& caller, const json& worker_answer) {
  const json& w = worker_answer.at("worker");
  return MayReadWorker(caller, w.value("id", ""), w.value("grid_id", ""), w.value("unit_id", ""));
}

// The open episode `episode_id` (or, with none given, the open one of `rule`) in a worker's answer.
const json* OpenEpisode(const json& worker_answer, const std::string& episode_id, pb::Rule rule) {
  for (const json& e : worker_answer.at("episodes")) {
    if (episode_id.empty() ? e.value("rule", "") == notify::RuleCode(rule) : e.value("episode_id", "") == episode_id) {
      return &e;
    }
  }
  return nullptr;
}

// This instance's part of a grid or unit answer, with the partitions it covers.
json LocalGroupPart(const Api& api, const GroupScope& scope, GroupAnswer answer) {
  GroupReport report(scope, answer, api.backend.policy, api.backend.now_ms());
  json covered = json::array();
  for (int32_t partition : api.backend.served_partitions()) {
    // One partition at a time, so the engine's commits get the store between them.
    const absl::Status read = api.backend.read_store([&](state::StateStore& store) {
      return store.ForEachWorker(partition, [&](const state::WorkerKey& key, const domain::WorkerState& state) {
        report.Add(key.worker.value, state);
        return true;
      });
    });
    if (read.ok()) {
      covered.push_back(partition);
    } else {
      spdlog::warn("query: reading partition {}: {}", partition, std::string(read.message()));
    }
  }
  json part = report.Json();
  part["partitions"] = covered;
  return part;
}

json GatherGroup(const Api& api, const GroupScope& scope, GroupAnswer answer, const std::string& path) {
  std::vector<json> parts = {LocalGroupPart(api, scope, answer)};
  const std::string within = scope.within_unit.empty() ? "" : "&within_unit=" + notify::PercentEncode(scope.within_unit);
  for (PeerReply& reply : AskPeers(api, path + "?local=1" + within)) {
    if (reply.status == 200) parts.push_back(std::move(reply.body));
  }
  std::set<int32_t> covered;
  for (const json& part : parts) {
    for (const json& p : part.value("partitions", json::array())) covered.insert(p.get<int32_t>());
  }
  std::vector<int32_t> missing;
  for (int32_t p = 0; p < api.backend.partition_count(); ++p) {
    if (!covered.count(p)) missing.push_back(p);
  }
  return MergeGroupParts(answer, parts, missing);
}

// --- Acks --------------------------------------------------------------------------------------------

pb::EscalationAck MakeAck(const std::string& worker_id, const std::string& episode_id, pb::Rule rule,
                          pb::AckAction action, int64_t snooze_until_ms, const Caller& by, int64_t now_ms) {
  pb::EscalationAck ack;
  ack.set_worker_id(worker_id);
  ack.set_episode_id(episode_id);
  ack.set_rule(rule);
  ack.set_action(action);
  if (action == pb::SNOOZE) ack.set_snooze_until_ms(snooze_until_ms);
  ack.mutable_by()->set_id(by.person_id);
  ack.mutable_by()->set_name(by.person_name);
  ack.set_at_ms(now_ms);
  return ack;
}

pb::AckAction ToAckAction(notify::LinkAction action) {
  switch (action) {
    case notify::LinkAction::kResolve:
      return pb::RESOLVE;
    case notify::LinkAction::kSnooze:
      return pb::SNOOZE;
    default:
      return pb::ACKNOWLEDGE;
  }
}

// "" if `until` is a snooze end the engine should take: in the future, at most 7 days ahead.
std::string SnoozeProblem(int64_t until, int64_t now_ms) {
  if (until <= now_ms) return "snooze_until_ms must be in the future";
  if (until > now_ms + kMaxSnoozeMs) return "snooze_until_ms may be at most 7 days ahead";
  return "";
}

// --- Handlers ---------------------------------------------------------------------------------------

// The caller, or the error reply already made.
std::optional<Caller> Authorized(const Api& api, const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<Caller> caller = Authenticate(req.get_header_value("Authorization"), api.config.api_token,
                                               api.config.link_secret, api.backend.now_ms());
  if (caller.ok()) return *caller;
  Error(res, absl::IsPermissionDenied(caller.status()) ? 403 : 401, std::string(caller.status().message()));
  return std::nullopt;
}

void GetWorker(const Api& api, const httplib::Request& req, httplib::Response& res) {
  const std::optional<Caller> caller = Authorized(api, req, res);
  if (!caller) return;
  const std::string id = req.matches[1];
  if (id.size() > kMaxIdBytes) return Error(res, 400, "worker id longer than 128 bytes");
  const bool local_only = req.has_param("local");
  WorkerAnswer found = FindWorker(api, id, local_only);
  if (found.found != Found::kYes && local_only) {
    return Reply(res, 404, {{"error", "unknown worker"}, {"partitions", found.covered}});
  }
  if (found.found == Found::kNo) return Error(res, 404, "unknown worker");
  if (found.found == Found::kUnknown) return Error(res, 503, "the instance that holds this worker did not answer");
  if (!MayRead(*caller, found.answer)) return Error(res, 403, "this link does not show that worker");
  Reply(res, 200, found.answer);
}

void GetGroup(const Api& api, const httplib::Request& req, httplib::Response& res) {
  const std::optional<Caller> caller = Authorized(api, req, res);
  if (!caller) return;
  const std::optional<GroupKind> kind = ParseGroupKind(req.matches[1].str());
  const std::optional<GroupAnswer> answer = ParseGroupAnswer(req.matches[3].str());
  const std::string id = req.matches[2];
  if (!kind || !answer) return Error(res, 404, "no such route");
  if (id.size() > kMaxIdBytes) return Error(res, 400, "id longer than 128 bytes");
  if (!MayReadGroup(*caller, *kind == GroupKind::kGrid ? "grid" : "unit", id)) {
    return Error(res, 403, "this link does not show that grid or unit");
  }
  // A unit's link reading one of its grids sees the unit's workers there; ?within_unit narrows a peer's part
  // the same way (narrowing only: it can never widen what the token reads).
  std::string within_unit = req.get_param_value("within_unit");
  if (!caller->is_operator && caller->scope.kind == "unit" && *kind == GroupKind::kGrid) within_unit = caller->scope.id;
  const GroupScope scope{*kind, id, within_unit};
  if (req.has_param("local")) return Reply(res, 200, LocalGroupPart(api, scope, *answer));
  Reply(res, 200, GatherGroup(api, scope, *answer, req.path));
}

void PostAck(const Api& api, const httplib::Request& req, httplib::Response& res) {
  const std::optional<Caller> caller = Authorized(api, req, res);
  if (!caller) return;
  const json body = json::parse(req.body, nullptr, false);
  if (!body.is_object()) return Error(res, 400, "the body must be a JSON object");
  const json worker_id = body.value("worker_id", json());
  const json episode_id = body.value("episode_id", json(""));
  const json rule_code = body.value("rule", json(""));
  const json action_name = body.value("action", json());
  if (!worker_id.is_string() || worker_id.get<std::string>().empty() ||
      worker_id.get<std::string>().size() > kMaxIdBytes) {
    return Error(res, 400, "worker_id: expected a non-empty string of at most 128 bytes");
  }
  if (!episode_id.is_string() || episode_id.get<std::string>().size() > kMaxIdBytes) {
    return Error(res, 400, "episode_id: expected a string of at most 128 bytes");
  }
  const auto rule = rule_code.is_string() ? notify::ParseRuleCode(rule_code.get<std::string>()) : std::nullopt;
  if (!rule) return Error(res, 400, "rule: expected \"R1\"..\"R6\"");
  const auto action = action_name.is_string() ? notify::ParseLinkAction(action_name.get<std::string>()) : std::nullopt;
  if (!action || *action == notify::LinkAction::kView) {
    return Error(res, 400, "action: expected \"acknowledge\", \"resolve\" or \"snooze\"");
  }
  const int64_t now = api.backend.now_ms();
  const json until = body.value("snooze_until_ms", json());
  if (*action == notify::LinkAction::kSnooze) {
    if (!until.is_number_integer()) return Error(res, 400, "snooze_until_ms: expected ms since epoch for a snooze");
    if (const std::string problem = SnoozeProblem(until.get<int64_t>(), now); !problem.empty()) {
      return Error(res, 400, problem);
    }
  }
  const WorkerAnswer found = FindWorker(api, worker_id.get<std::string>(), false);
  if (found.found == Found::kYes && !MayRead(*caller, found.answer)) {
    return Error(res, 403, "this link does not act on that worker");
  }
  if (found.found == Found::kUnknown && !caller->is_operator &&
      !MayReadWorker(*caller, worker_id.get<std::string>(), "", "")) {
    return Error(res, 403, "this link does not act on that worker");
  }
  if (found.found == Found::kNo ||
      (found.found == Found::kYes && OpenEpisode(found.answer, episode_id.get<std::string>(), *rule) == nullptr)) {
    return Reply(res, 409, {{"status", "closed"}});
  }
  const absl::Status sent =
      api.backend.send_ack(MakeAck(worker_id.get<std::string>(), episode_id.get<std::string>(), *rule,
                                   ToAckAction(*action), until.is_number_integer() ? until.get<int64_t>() : 0, *caller, now));
  if (!sent.ok()) return Error(res, 503, std::string(sent.message()));
  Reply(res, 202, {{"status", "sent"}});
}

// The verified action link of a /act request, or the page already made.
std::optional<notify::LinkClaims> ActionLink(const Api& api, const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<notify::LinkClaims> claims =
      notify::VerifyLink(req.get_param_value("t"), api.config.link_secret, api.backend.now_ms());
  if (!claims.ok()) {
    const bool expired = claims.status().message() == "link expired";
    Page(res, 401,
         expired ? ActProblemPage("链接已过期，请在最新的消息中操作。", "This link has expired: use the newest message.")
                 : ActProblemPage("链接无效。", "This link is not valid."));
    return std::nullopt;
  }
  if (claims->action == notify::LinkAction::kView) {
    Page(res, 400, ActProblemPage("这是查看链接，不能用于操作。", "This is a view link; it cannot act."));
    return std::nullopt;
  }
  return *claims;
}

void GetAct(const Api& api, const httplib::Request& req, httplib::Response& res) {
  const std::optional<notify::LinkClaims> claims = ActionLink(api, req, res);
  if (!claims) return;
  // GET never acts: chat apps open links ahead of the person to show a preview.
  const WorkerAnswer found = FindWorker(api, claims->worker_id, false);
  const std::string name = found.found == Found::kYes ? found.answer.at("worker").value("name", "") : "";
  Page(res, 200,
       ActConfirmPage(*claims, req.get_param_value("t"), name, api.backend.now_ms(), api.backend.policy.day_offset_minutes));
}

void PostAct(const Api& api, const httplib::Request& req, httplib::Response& res) {
  const std::optional<notify::LinkClaims> claims = ActionLink(api, req, res);
  if (!claims) return;
  const int64_t now = api.backend.now_ms();
  int64_t until = 0;
  if (claims->action == notify::LinkAction::kSnooze) {
    try {
      until = std::stoll(req.get_param_value("snooze_until_ms"));
    } catch (const std::exception&) {
      return Page(res, 400, ActProblemPage("请选择暂缓到的时间。", "Choose until when to snooze."));
    }
    if (!SnoozeProblem(until, now).empty()) {
      return Page(res, 400, ActProblemPage("暂缓时间须在未来 7 天之内。", "A snooze must end within the next 7 days."));
    }
  }
  const WorkerAnswer found = FindWorker(api, claims->worker_id, false);
  const json* episode = found.found == Found::kYes ? OpenEpisode(found.answer, claims->episode_id, claims->rule) : nullptr;
  const int offset = api.backend.policy.day_offset_minutes;
  if (found.found == Found::kNo || (found.found == Found::kYes && episode == nullptr)) {
    return Page(res, 200, ActDonePage(*claims, ActOutcome::kClosed, 0, offset));
  }
  const Caller by{.is_operator = false, .scope = {}, .person_id = claims->person_id, .person_name = claims->person_name};
  // Sent even when the store shows it acknowledged: the engine decides, and ignores a second one.
  const absl::Status sent = api.backend.send_ack(
      MakeAck(claims->worker_id, claims->episode_id, claims->rule, ToAckAction(claims->action), until, by, now));
  if (!sent.ok()) {
    return Page(res, 503, ActProblemPage("暂时无法提交，请稍后再试。", "Could not pass this on just now; try again shortly."));
  }
  const bool already = claims->action == notify::LinkAction::kAcknowledge && episode != nullptr &&
                       episode->value("acknowledged", false);
  Page(res, 200, ActDonePage(*claims, already ? ActOutcome::kAlreadyAcknowledged : ActOutcome::kSent, until, offset));
}

PageVerdict AuthorizePage(const Api& api, const httplib::Request& req, std::string_view scope) {
  if (api.config.api_token.empty()) return PageVerdict::kDisabled;
  const std::string bearer =
      req.has_param("t") ? "Bearer " + req.get_param_value("t") : req.get_header_value("Authorization");
  const absl::StatusOr<Caller> caller =
      Authenticate(bearer, api.config.api_token, api.config.link_secret, api.backend.now_ms());
  if (!caller.ok()) return absl::IsPermissionDenied(caller.status()) ? PageVerdict::kForbidden : PageVerdict::kExpired;
  const std::optional<notify::LinkScope> page = notify::ParseLinkScope(scope);
  if (!page) return PageVerdict::kForbidden;
  if (page->kind != "worker") {
    return MayReadGroup(*caller, page->kind, page->id) ? PageVerdict::kAllowed : PageVerdict::kForbidden;
  }
  if (MayReadWorker(*caller, page->id, "", "")) return PageVerdict::kAllowed;
  const WorkerAnswer found = FindWorker(api, page->id, false);
  return found.found == Found::kYes && MayRead(*caller, found.answer) ? PageVerdict::kAllowed : PageVerdict::kForbidden;
}

}  // namespace

PageAuthorizer MakePageAuthorizer(ApiConfig config, ApiBackend backend) {
  auto api = std::make_shared<const Api>(Api{std::move(config), std::move(backend)});
  return [api](const httplib::Request& req, std::string_view scope) { return AuthorizePage(*api, req, scope); };
}

void RegisterApiRoutes(httplib::Server& server, ApiConfig config, ApiBackend backend) {
  auto api = std::make_shared<const Api>(Api{std::move(config), std::move(backend)});
  if (api->config.link_secret.empty()) {
    spdlog::warn("no --link-secret-file: /act and view links are disabled");
  } else {
    server.Get("/act", [api](const httplib::Request& req, httplib::Response& res) { GetAct(*api, req, res); });
    server.Post("/act", [api](const httplib::Request& req, httplib::Response& res) { PostAct(*api, req, res); });
  }
  if (api->config.api_token.empty()) {
    spdlog::warn("no --api-token-file (or an empty one): the query API and the pages are disabled");
    return;
  }
  server.Get(R"(/api/v1/workers/([^/]+))",
             [api](const httplib::Request& req, httplib::Response& res) { GetWorker(*api, req, res); });
  server.Get(R"(/api/v1/(grids|units)/([^/]+)/(workers|escalations|compliance))",
             [api](const httplib::Request& req, httplib::Response& res) { GetGroup(*api, req, res); });
  server.Post("/api/v1/acks", [api](const httplib::Request& req, httplib::Response& res) { PostAck(*api, req, res); });
}

}  // namespace alertd::app
