// web_fixture_server: the grid view's pages (alertd_web) and the /api/v1 routes answering from a fixture
// grid, recording every POST /api/v1/acks, for the browser test. Prints "listening <port>"; exits when
// stdin closes, so it never outlives the test that started it.
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/web/pages.h"
#include "tests/web/fixture_grid.h"

namespace {

using alertd::web::PageAccess;
using alertd::web::fixture::FixtureGrid;
using alertd::web::fixture::Viewer;
using nlohmann::json;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The tokens a test can put in a page's URL.
enum class TokenKind { kValid, kExpired, kUnknown };
struct Token {
  TokenKind kind = TokenKind::kUnknown;
  Viewer viewer;
  bool page_opens = false;  // "stale-token": the page opened, then the link expired before its API calls
};

Token Lookup(const std::string& token) {
  if (token == "grid-token") return {TokenKind::kValid, {"hm-g01", "王芳", "grid:G01"}, true};
  if (token == "unit-token") return {TokenKind::kValid, {"sup-u01", "刘洋", "unit:U01"}, true};
  if (token == "worker-token") return {TokenKind::kValid, {"W002", "李娜", "worker:W002"}, true};
  if (token == "operator-token") return {TokenKind::kValid, {"operator", "operator", "*"}, true};
  if (token == "expired-token") return {TokenKind::kExpired, {}, false};
  if (token == "stale-token") return {TokenKind::kExpired, {}, true};
  return {};
}

std::string BearerOf(const httplib::Request& req) {
  const std::string header = req.get_header_value("Authorization");
  return header.starts_with("Bearer ") ? header.substr(7) : std::string();
}

void Answer(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

class FixtureApi {
 public:
  explicit FixtureApi(int64_t now_ms) : grid_(now_ms) {}

  PageAccess AuthorizePage(const httplib::Request& req, std::string_view scope) {
    const Token token = Lookup(req.get_param_value("t"));
    if (token.page_opens && token.kind == TokenKind::kExpired) return PageAccess::kAllowed;
    if (token.kind != TokenKind::kValid) return PageAccess::kExpired;
    std::lock_guard lock(mu_);
    return grid_.CoversScope(token.viewer, std::string(scope)) ? PageAccess::kAllowed : PageAccess::kForbidden;
  }

  // The viewer behind the request's bearer token, or the 401/403 answer already written.
  std::optional<Viewer> Authenticate(const httplib::Request& req, httplib::Response& res, const std::string& scope) {
    const Token token = Lookup(BearerOf(req));
    if (token.kind != TokenKind::kValid) {
      Answer(res, 401, {{"error", token.kind == TokenKind::kExpired ? "link expired" : "unknown token"}});
      return std::nullopt;
    }
    std::lock_guard lock(mu_);
    if (!scope.empty() && !grid_.CoversScope(token.viewer, scope)) {
      Answer(res, 403, {{"error", "link does not cover " + scope}});
      return std::nullopt;
    }
    return token.viewer;
  }

  void Register(httplib::Server& server) {
    server.Get(R"(/api/v1/workers/([A-Za-z0-9_.\-]{1,64}))", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string id = req.matches[1];
      if (!Authenticate(req, res, "worker:" + id)) return;
      std::lock_guard lock(mu_);
      const std::optional<json> worker = grid_.Worker(id);
      if (!worker) return Answer(res, 404, {{"error", "unknown worker"}});
      Answer(res, 200, *worker);
    });
    server.Get(R"(/api/v1/(grids|units)/([A-Za-z0-9_.\-]{1,64})/(workers|escalations|compliance))",
               [this](const httplib::Request& req, httplib::Response& res) {
                 const std::string group = req.matches[1], id = req.matches[2], part = req.matches[3];
                 if (!Authenticate(req, res, (group == "grids" ? "grid:" : "unit:") + id)) return;
                 std::lock_guard lock(mu_);
                 if (part == "workers") return Answer(res, 200, grid_.Workers(group, id));
                 if (part == "escalations") return Answer(res, 200, grid_.Escalations(group, id));
                 Answer(res, 200, grid_.Compliance(group, id, NowMs()));
               });
    server.Post("/api/v1/acks", [this](const httplib::Request& req, httplib::Response& res) { Ack(req, res); });
    // What the pages posted, for the test to check: [{"body":..., "authorization":..., "status":...}].
    server.Get("/__fixture/acks", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard lock(mu_);
      Answer(res, 200, posts_);
    });
  }

 private:
  void Ack(const httplib::Request& req, httplib::Response& res) {
    json ack = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    {
      std::lock_guard lock(mu_);
      posts_.push_back({{"body", ack.is_discarded() ? json(req.body) : ack},
                        {"authorization", req.get_header_value("Authorization")},
                        {"content_type", req.get_header_value("Content-Type")}});
    }
    const auto reject = [&](int status, const json& body) {
      Answer(res, status, body);
      std::lock_guard lock(mu_);
      posts_.back()["status"] = status;
    };
    const std::string action = ack.is_object() ? ack.value("action", "") : "";
    const bool snooze_ok = action != "snooze" || (ack.contains("snooze_until_ms") &&
                                                  ack["snooze_until_ms"].is_number_integer() &&
                                                  ack["snooze_until_ms"].get<int64_t>() > NowMs());
    if (!ack.is_object() || !ack["worker_id"].is_string() || !ack["episode_id"].is_string() ||
        !ack["rule"].is_string() || (action != "acknowledge" && action != "resolve" && action != "snooze") ||
        !snooze_ok) {
      return reject(400, {{"error", "expected {worker_id, episode_id, rule, action[, snooze_until_ms in the future]}"}});
    }
    const std::optional<Viewer> viewer = Authenticate(req, res, "worker:" + ack["worker_id"].get<std::string>());
    std::lock_guard lock(mu_);
    if (!viewer) {
      posts_.back()["status"] = res.status;
      return;
    }
    const bool open = grid_.Act(ack, *viewer, NowMs());
    posts_.back()["status"] = open ? 202 : 409;
    Answer(res, open ? 202 : 409, open ? json{{"status", "sent"}} : json{{"status", "closed"}});
  }

  std::mutex mu_;
  FixtureGrid grid_;
  json posts_ = json::array();
};

}  // namespace

int main() {
  FixtureApi api(NowMs());
  httplib::Server server;
  server.set_payload_max_length(64 * 1024);
  server.set_read_timeout(5, 0);
  server.set_write_timeout(5, 0);
  alertd::web::RegisterPages(server, {.authorize = [&api](const httplib::Request& req, std::string_view scope) {
                                        return api.AuthorizePage(req, scope);
                                      }});
  api.Register(server);
  const int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    std::cerr << "web_fixture_server: cannot listen on 127.0.0.1\n";
    return 1;
  }
  std::thread stdin_watch([&server] {
    while (std::getchar() != EOF) {
    }
    // stop() does nothing to a server that has not started listening yet.
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    server.stop();
  });
  std::cout << "listening " << port << std::endl;
  server.listen_after_bind();
  stdin_watch.join();
  return 0;
}
