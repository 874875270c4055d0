// The query API and /act over real HTTP on loopback, on the in-memory store with a recording ack
// sender: signed links valid, expired, forged, replayed and for a closed episode; bearer tokens and
// scopes; the acks route; request bounds.
#include "engine/app/api_routes.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "engine/app/http_server.h"
#include "engine/notify/ack_link.h"

namespace alertd::app {
namespace {

namespace pb = healthgrid::v1;
using nlohmann::json;

constexpr int64_t kNow = 1795476614000;
constexpr int64_t kHourMs = 3600 * 1000;
constexpr char kSecret[] = "test-link-secret";
constexpr char kOperator[] = "operator-token-123";

class ApiRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = state::NewMemoryStore();
    Put(0, "W1", WorkerWithEpisode("G1", "U1", "ep-1", false));
    Put(1, "W2", WorkerWithEpisode("G2", "U1", "ep-2", false));
    Put(1, "W3", WorkerWithEpisode("G1", "U1", "", false));  // no open episode
    Put(5, "W9", WorkerWithEpisode("G1", "U1", "ep-9", false));  // a partition this instance does not serve
    Put(0, "W4", WorkerWithEpisode("G1", "U2", "", false));      // in grid G1 but of another unit
    backend_ = ApiBackend{
        .read_store = [this](const std::function<absl::Status(state::StateStore&)>& read) {
          std::lock_guard<std::mutex> lock(mu_);
          return read(*store_);
        },
        .served_partitions = [] { return std::set<int32_t>{0, 1}; },
        .partition_count = [this] { return partitions_; },
        .send_ack =
            [this](const pb::EscalationAck& ack) {
              std::lock_guard<std::mutex> lock(mu_);
              if (!send_ok_) return absl::UnavailableError("broker away");
              sent_.push_back(ack);
              return absl::OkStatus();
            },
        .now_ms = [] { return kNow; },
        .peers = nullptr,
        .policy = domain::Policy{}};
    config_ = ApiConfig{.api_token = kOperator, .link_secret = kSecret, .instance_id = "alertd-a", .peer_timeout_ms = 500};
    auto server = HttpServer::Start(
        "127.0.0.1:0", {.metrics = [] { return std::string(); },
                        .healthy = [] { return true; },
                        .ready = [] { return true; },
                        .register_api = [&](httplib::Server& s) { RegisterApiRoutes(s, config_, backend_); },
                        .register_pages = nullptr});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  static domain::WorkerState WorkerWithEpisode(const std::string& grid, const std::string& unit,
                                               const std::string& episode, bool acknowledged) {
    domain::WorkerState s;
    s.profile = domain::WorkerProfile{};
    s.profile->name = "王芳";
    s.profile->grid_id = grid;
    s.profile->unit_id = unit;
    if (!episode.empty()) {
      domain::OpenEpisode e;
      e.rule = domain::Rule::kR1CriticalBp;
      e.episode_id = episode;
      e.opened_at = {kNow - kHourMs};
      e.acknowledged = acknowledged;
      if (acknowledged) e.acked_by = {"HM-1", "周波"};
      s.open.push_back(e);
    }
    return s;
  }

  void Put(int32_t partition, const std::string& worker, const domain::WorkerState& s) {
    std::lock_guard<std::mutex> lock(mu_);
    ASSERT_TRUE(store_->Commit(state::CommitBatch{.workers = {{{partition, domain::WorkerId{worker}}, s}}}).ok());
  }

  static std::string Link(notify::LinkAction action, const std::string& worker, const std::string& episode,
                          int64_t expires = kNow + kHourMs, const char* secret = kSecret) {
    notify::LinkClaims c;
    c.action = action;
    c.person_id = "HM-1";
    c.person_name = "周波";
    c.worker_id = worker;
    c.episode_id = episode;
    c.rule = pb::R1_CRITICAL_BP;
    c.issued_ms = kNow - kHourMs;
    c.expires_ms = expires;
    return notify::SignLink(c, secret);
  }

  static std::string ViewLink(const std::string& scope, int64_t expires = kNow + kHourMs) {
    notify::LinkClaims c;
    c.action = notify::LinkAction::kView;
    c.person_id = "HM-1";
    c.person_name = "周波";
    c.scope = scope;
    c.issued_ms = kNow - kHourMs;
    c.expires_ms = expires;
    return notify::SignLink(c, kSecret);
  }

  httplib::Result PostAct(const std::string& token, const std::string& until = "") {
    httplib::Params form{{"t", token}};
    if (!until.empty()) form.emplace("snooze_until_ms", until);
    return client_->Post("/act", form);
  }

  httplib::Result Get(const std::string& path, const std::string& bearer) {
    return client_->Get(path, {{"Authorization", "Bearer " + bearer}});
  }

  std::vector<pb::EscalationAck> Sent() {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }

  std::mutex mu_;
  int partitions_ = 3;  // partition 2 is served nowhere: answers about it are partial or unknown
  ApiConfig config_;
  ApiBackend backend_;
  std::unique_ptr<state::StateStore> store_;
  std::vector<pb::EscalationAck> sent_;
  bool send_ok_ = true;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ApiRoutesTest, GetActShowsTheConfirmationAndNeverActs) {
  auto res = client_->Get("/act?t=" + Link(notify::LinkAction::kAcknowledge, "W1", "ep-1"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("确认收到"), std::string::npos);
  EXPECT_NE(res->body.find("Acknowledge"), std::string::npos);
  EXPECT_NE(res->body.find("王芳"), std::string::npos);
  EXPECT_NE(res->body.find("method=\"post\""), std::string::npos);
  EXPECT_TRUE(Sent().empty());
}

TEST_F(ApiRoutesTest, ASnoozeLinkOffersThreeUntilTimes) {
  auto res = client_->Get("/act?t=" + Link(notify::LinkAction::kSnooze, "W1", "ep-1"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("value=\"" + std::to_string(kNow + kHourMs) + "\""), std::string::npos);
  EXPECT_NE(res->body.find("value=\"" + std::to_string(kNow + 4 * kHourMs) + "\""), std::string::npos);
  EXPECT_NE(res->body.find("明天 08:00"), std::string::npos);
}

TEST_F(ApiRoutesTest, AValidPostSendsTheAckByTheLinksPersonNow) {
  auto res = PostAct(Link(notify::LinkAction::kAcknowledge, "W1", "ep-1"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("已确认"), std::string::npos);
  const auto sent = Sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].worker_id(), "W1");
  EXPECT_EQ(sent[0].episode_id(), "ep-1");
  EXPECT_EQ(sent[0].rule(), pb::R1_CRITICAL_BP);
  EXPECT_EQ(sent[0].action(), pb::ACKNOWLEDGE);
  EXPECT_EQ(sent[0].by().id(), "HM-1");
  EXPECT_EQ(sent[0].by().name(), "周波");
  EXPECT_EQ(sent[0].at_ms(), kNow);
}

TEST_F(ApiRoutesTest, ExpiredAndForgedLinksAreRefusedWithAPageAndSendNothing) {
  auto expired = PostAct(Link(notify::LinkAction::kAcknowledge, "W1", "ep-1", kNow - 1000));
  ASSERT_TRUE(expired);
  EXPECT_EQ(expired->status, 401);
  EXPECT_NE(expired->body.find("链接已过期"), std::string::npos);
  EXPECT_NE(expired->body.find("expired"), std::string::npos);
  auto forged = PostAct(Link(notify::LinkAction::kAcknowledge, "W1", "ep-1", kNow + kHourMs, "someone-elses"));
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 401);
  auto get_expired = client_->Get("/act?t=" + Link(notify::LinkAction::kAcknowledge, "W1", "ep-1", kNow - 1000));
  ASSERT_TRUE(get_expired);
  EXPECT_EQ(get_expired->status, 401);
  auto view_as_action = PostAct(ViewLink("worker:W1"));
  ASSERT_TRUE(view_as_action);
  EXPECT_EQ(view_as_action->status, 400);
  EXPECT_TRUE(Sent().empty());
}

TEST_F(ApiRoutesTest, AReplayedPostAnswersKindlyAndLeavesTheDecisionToTheEngine) {
  const std::string link = Link(notify::LinkAction::kAcknowledge, "W1", "ep-1");
  ASSERT_EQ(PostAct(link)->status, 200);
  Put(0, "W1", WorkerWithEpisode("G1", "U1", "ep-1", true));  // the engine applied the first
  auto again = PostAct(link);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_NE(again->body.find("already acknowledged"), std::string::npos);
  EXPECT_EQ(Sent().size(), 2u);  // the engine ignores the second (rulebook: already acknowledged)
}

TEST_F(ApiRoutesTest, AClosedEpisodeIsSaidSoAndNothingIsSent) {
  partitions_ = 2;  // every partition served here: an unknown worker is known to be unknown
  auto res = PostAct(Link(notify::LinkAction::kResolve, "W3", "ep-old"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("Already closed"), std::string::npos);
  auto unknown = PostAct(Link(notify::LinkAction::kAcknowledge, "W404", "ep-x"));
  ASSERT_TRUE(unknown);
  EXPECT_NE(unknown->body.find("Already closed"), std::string::npos);
  EXPECT_TRUE(Sent().empty());
}

TEST_F(ApiRoutesTest, ASnoozeMustEndWithinSevenDays) {
  const std::string link = Link(notify::LinkAction::kSnooze, "W1", "ep-1");
  EXPECT_EQ(PostAct(link)->status, 400);
  EXPECT_EQ(PostAct(link, std::to_string(kNow - 1))->status, 400);
  EXPECT_EQ(PostAct(link, std::to_string(kNow + 7 * 24 * kHourMs + 1))->status, 400);
  EXPECT_TRUE(Sent().empty());
  EXPECT_EQ(PostAct(link, std::to_string(kNow + 4 * kHourMs))->status, 200);
  ASSERT_EQ(Sent().size(), 1u);
  EXPECT_EQ(Sent()[0].action(), pb::SNOOZE);
  EXPECT_EQ(Sent()[0].snooze_until_ms(), kNow + 4 * kHourMs);
}

TEST_F(ApiRoutesTest, ABrokerThatDoesNotConfirmIsNotCalledDone) {
  send_ok_ = false;
  auto res = PostAct(Link(notify::LinkAction::kAcknowledge, "W1", "ep-1"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
}

TEST_F(ApiRoutesTest, TheWorkerRouteNeedsABearerAndAnswersFromServedPartitionsOnly) {
  auto none = client_->Get("/api/v1/workers/W1");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_TRUE(json::parse(none->body).contains("error"));
  EXPECT_EQ(Get("/api/v1/workers/W1", "wrong")->status, 401);
  auto ok = Get("/api/v1/workers/W1", kOperator);
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200);
  const json body = json::parse(ok->body);
  EXPECT_EQ(body["worker"]["id"], "W1");
  EXPECT_EQ(body["partition"], 0);
  EXPECT_EQ(body["owner"], "alertd-a");
  EXPECT_EQ(body["episodes"][0]["episode_id"], "ep-1");
  // Partition 2 is served nowhere: the worker may be there.
  EXPECT_EQ(Get("/api/v1/workers/W404", kOperator)->status, 503);
  const json local = json::parse(Get("/api/v1/workers/W404?local=1", kOperator)->body);
  EXPECT_EQ(local["partitions"], json({0, 1}));
  partitions_ = 2;
  auto unknown = Get("/api/v1/workers/W404", kOperator);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(json::parse(unknown->body)["error"], "unknown worker");
  EXPECT_EQ(Get("/api/v1/workers/W9", kOperator)->status, 404);  // a copy of a partition served elsewhere
}

TEST_F(ApiRoutesTest, AViewLinkReadsItsScopeAndNothingElse) {
  EXPECT_EQ(Get("/api/v1/workers/W1", ViewLink("worker:W1"))->status, 200);
  EXPECT_EQ(Get("/api/v1/workers/W2", ViewLink("worker:W1"))->status, 403);
  EXPECT_EQ(Get("/api/v1/workers/W1", ViewLink("grid:G1"))->status, 200);
  EXPECT_EQ(Get("/api/v1/workers/W2", ViewLink("grid:G1"))->status, 403);
  EXPECT_EQ(Get("/api/v1/workers/W2", ViewLink("unit:U1"))->status, 200);
  EXPECT_EQ(Get("/api/v1/grids/G1/workers", ViewLink("grid:G1"))->status, 200);
  EXPECT_EQ(Get("/api/v1/grids/G2/workers", ViewLink("grid:G1"))->status, 403);
  EXPECT_EQ(Get("/api/v1/units/U1/escalations", ViewLink("grid:G1"))->status, 403);
  EXPECT_EQ(Get("/api/v1/workers/W1", ViewLink("worker:W1", kNow - 1))->status, 401);
  EXPECT_EQ(Get("/api/v1/workers/W1", Link(notify::LinkAction::kAcknowledge, "W1", "ep-1"))->status, 403);
}

TEST_F(ApiRoutesTest, AGridAnswerSaysWhichPartitionsNobodyAnsweredFor) {
  auto res = Get("/api/v1/grids/G1/workers", kOperator);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const json body = json::parse(res->body);
  ASSERT_EQ(body["workers"].size(), 3u);  // W1, W3, W4; W9's partition is not served here
  EXPECT_EQ(body["workers"][0]["id"], "W1");
  EXPECT_EQ(body["workers"][1]["id"], "W3");
  EXPECT_EQ(body["workers"][2]["id"], "W4");
  EXPECT_EQ(body["partial"], true);
  EXPECT_EQ(body["missing_partitions"], json({2}));
  const json escalations = json::parse(Get("/api/v1/units/U1/escalations", kOperator)->body);
  EXPECT_EQ(escalations["escalations"].size(), 2u);
  const json local = json::parse(Get("/api/v1/grids/G1/compliance?local=1", kOperator)->body);
  EXPECT_EQ(local["partitions"], json({0, 1}));
}

TEST_F(ApiRoutesTest, AUnitsLinkReadsItsGridsButOnlyTheUnitsWorkersInThem) {
  auto res = Get("/api/v1/grids/G1/workers", ViewLink("unit:U1"));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const json body = json::parse(res->body);
  ASSERT_EQ(body["workers"].size(), 2u);  // not W4, of unit U2
  EXPECT_EQ(body["workers"][0]["id"], "W1");
  EXPECT_EQ(body["workers"][1]["id"], "W3");
  EXPECT_EQ(json::parse(Get("/api/v1/grids/G1/workers?within_unit=U2", kOperator)->body)["workers"].size(), 1u);
  EXPECT_EQ(Get("/api/v1/units/U2/workers", ViewLink("unit:U1"))->status, 403);
}

TEST_F(ApiRoutesTest, APageIsServedOnlyToATokenThatCoversItsScope) {
  const PageAuthorizer authorize = MakePageAuthorizer(config_, backend_);
  auto verdict = [&](const std::string& token, std::string_view scope) {
    httplib::Request req;
    req.params.emplace("t", token);
    return authorize(req, scope);
  };
  EXPECT_EQ(verdict(kOperator, "grid:G1"), PageVerdict::kAllowed);
  EXPECT_EQ(verdict(ViewLink("grid:G1"), "grid:G1"), PageVerdict::kAllowed);
  EXPECT_EQ(verdict(ViewLink("grid:G1"), "grid:G2"), PageVerdict::kForbidden);
  EXPECT_EQ(verdict(ViewLink("unit:U1"), "grid:G2"), PageVerdict::kAllowed);
  EXPECT_EQ(verdict(ViewLink("grid:G1"), "worker:W1"), PageVerdict::kAllowed);
  EXPECT_EQ(verdict(ViewLink("grid:G1"), "worker:W2"), PageVerdict::kForbidden);
  EXPECT_EQ(verdict(ViewLink("worker:W2"), "worker:W2"), PageVerdict::kAllowed);
  EXPECT_EQ(verdict(ViewLink("worker:W2", kNow - 1), "worker:W2"), PageVerdict::kExpired);
  EXPECT_EQ(verdict("forged", "grid:G1"), PageVerdict::kExpired);
  EXPECT_EQ(verdict(Link(notify::LinkAction::kAcknowledge, "W1", "ep-1"), "worker:W1"), PageVerdict::kForbidden);
  httplib::Request bearer;
  bearer.headers.emplace("Authorization", std::string("Bearer ") + kOperator);
  EXPECT_EQ(authorize(bearer, "unit:U1"), PageVerdict::kAllowed);
  const PageAuthorizer disabled = MakePageAuthorizer(ApiConfig{}, backend_);
  EXPECT_EQ(disabled(bearer, "unit:U1"), PageVerdict::kDisabled);
}

TEST_F(ApiRoutesTest, AnActionOnAWorkerNobodyAnswersForIsSentForTheEngineToDecide) {
  auto res = PostAct(Link(notify::LinkAction::kAcknowledge, "W404", "ep-x"));  // partition 2 is served nowhere
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("已确认"), std::string::npos);
  EXPECT_EQ(Sent().size(), 1u);
}

TEST_F(ApiRoutesTest, TheAcksRouteSendsOnlyForAnOpenEpisode) {
  auto post = [&](const json& body, const std::string& bearer) {
    return client_->Post("/api/v1/acks", {{"Authorization", "Bearer " + bearer}}, body.dump(), "application/json");
  };
  const json ack = {{"worker_id", "W2"}, {"episode_id", "ep-2"}, {"rule", "R1"}, {"action", "acknowledge"}};
  auto sent = post(ack, ViewLink("unit:U1"));
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->status, 202);
  EXPECT_EQ(json::parse(sent->body)["status"], "sent");
  ASSERT_EQ(Sent().size(), 1u);
  EXPECT_EQ(Sent()[0].by().id(), "HM-1");
  EXPECT_EQ(post(ack, ViewLink("grid:G1"))->status, 403);
  json closed = ack;
  closed["episode_id"] = "ep-gone";
  auto res = post(closed, kOperator);
  EXPECT_EQ(res->status, 409);
  EXPECT_EQ(json::parse(res->body)["status"], "closed");
  json bad = ack;
  bad["rule"] = "R9";
  EXPECT_EQ(post(bad, kOperator)->status, 400);
  bad = ack;
  bad["action"] = "snooze";
  EXPECT_EQ(post(bad, kOperator)->status, 400);  // no snooze_until_ms
  EXPECT_EQ(client_->Post("/api/v1/acks", {{"Authorization", std::string("Bearer ") + kOperator}}, "not json",
                          "application/json")
                ->status,
            400);
  EXPECT_EQ(Sent().size(), 1u);
}

TEST_F(ApiRoutesTest, ABodyOver64KiBIsRefused) {
  const std::string big(65 * 1024, 'x');
  auto res = client_->Post("/api/v1/acks", {{"Authorization", std::string("Bearer ") + kOperator}}, big,
                           "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
}

TEST(ApiRoutesDisabled, WithoutAnOperatorTokenTheApiIsNotThere) {
  ApiBackend backend{.read_store = nullptr, .served_partitions = nullptr, .partition_count = nullptr,
                     .send_ack = nullptr, .now_ms = [] { return kNow; }, .peers = nullptr, .policy = {}};
  auto server = HttpServer::Start(
      "127.0.0.1:0", {.metrics = [] { return std::string(); },
                      .healthy = [] { return true; },
                      .ready = [] { return true; },
                      .register_api = [&](httplib::Server& s) { RegisterApiRoutes(s, ApiConfig{}, backend); },
                      .register_pages = nullptr});
  ASSERT_TRUE(server.ok());
  httplib::Client client("127.0.0.1", (*server)->port());
  EXPECT_EQ(client.Get("/api/v1/workers/W1", {{"Authorization", "Bearer "}})->status, 404);
  EXPECT_EQ(client.Get("/act?t=x")->status, 404);
}

}  // namespace
}  // namespace alertd::app
