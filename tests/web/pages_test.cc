// The grid view's routes: which page each path serves, what the token check decides, the headers, the
// embedded files.
#include "engine/web/pages.h"

#include <httplib.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "engine/web/embedded_assets.h"

namespace alertd::web {
namespace {

// A cpp-httplib server on a free loopback port with the pages registered, and the scopes it was asked about.
class PageServer {
 public:
  explicit PageServer(PageAccess access, bool with_authorize = true) {
    PageOptions options;
    if (with_authorize) {
      options.authorize = [this, access](const httplib::Request&, std::string_view scope) {
        std::lock_guard lock(mu_);
        scopes_.emplace_back(scope);
        return access;
      };
    }
    RegisterPages(server_, std::move(options));
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() in the destructor does nothing to a server that has not started its loop.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~PageServer() {
    server_.stop();
    thread_.join();
  }
  httplib::Result Get(const std::string& path) {
    httplib::Client client("127.0.0.1", port_);
    return client.Get(path);
  }
  std::vector<std::string> scopes() {
    std::lock_guard lock(mu_);
    return scopes_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<std::string> scopes_;
};

struct PageCase {
  std::string name;
  std::string path;
  std::string scope;      // what authorize is asked
  std::string page_mark;  // in the HTML answered
};

class PageRouteTest : public testing::TestWithParam<PageCase> {};

TEST_P(PageRouteTest, ServesItsPageAfterAskingAboutItsScope) {
  PageServer server(PageAccess::kAllowed);
  const auto res = server.Get(GetParam().path);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(res->body.find(GetParam().page_mark), std::string::npos);
  EXPECT_NE(res->body.find(R"(<script src="/static/app.js")"), std::string::npos);
  EXPECT_EQ(server.scopes(), std::vector<std::string>{GetParam().scope});
}

INSTANTIATE_TEST_SUITE_P(
    Pages, PageRouteTest,
    testing::Values(PageCase{"Grid", "/grid/G01?t=x", "grid:G01", R"(data-page="grid")"},
                    PageCase{"Unit", "/unit/U01-G04?t=x", "unit:U01-G04", R"(data-page="grid")"},
                    PageCase{"Worker", "/worker/W000191?t=x", "worker:W000191", R"(data-page="worker")"},
                    PageCase{"EveryIdCharacter", "/worker/a.b_c-9", "worker:a.b_c-9", R"(data-page="worker")"}),
    [](const testing::TestParamInfo<PageCase>& param) { return param.param.name; });

TEST(PagesTest, PagesForbidScriptsFromElsewhereAndNeverLeakTheirTokenInAReferer) {
  PageServer server(PageAccess::kAllowed);
  const auto res = server.Get("/grid/G01?t=secret");
  ASSERT_TRUE(res);
  EXPECT_NE(res->get_header_value("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_NE(res->get_header_value("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(res->get_header_value("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");
  EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff");
}

struct RefusalCase {
  std::string name;
  PageAccess access;
  int status;
  bool expired_page;
};

class PageRefusalTest : public testing::TestWithParam<RefusalCase> {};

TEST_P(PageRefusalTest, ARefusedTokenGetsItsStatusAndTheExpiredPage) {
  PageServer server(GetParam().access);
  const auto res = server.Get("/worker/W001?t=old");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, GetParam().status);
  EXPECT_EQ(res->body.find("/static/app.js"), std::string::npos) << "a refused page must not load the script";
  EXPECT_EQ(res->body.find("链接已过期") != std::string::npos, GetParam().expired_page);
  EXPECT_EQ(res->body.find("Link expired") != std::string::npos, GetParam().expired_page);
}

INSTANTIATE_TEST_SUITE_P(Refusals, PageRefusalTest,
                         testing::Values(RefusalCase{"Expired", PageAccess::kExpired, 401, true},
                                         RefusalCase{"OutOfScope", PageAccess::kForbidden, 403, true},
                                         RefusalCase{"Disabled", PageAccess::kDisabled, 404, false}),
                         [](const testing::TestParamInfo<RefusalCase>& param) { return param.param.name; });

TEST(PagesTest, WithoutATokenCheckNoPageIsServed) {
  PageServer server(PageAccess::kAllowed, /*with_authorize=*/false);
  for (const char* path : {"/grid/G01?t=x", "/unit/U01?t=x", "/worker/W001?t=x"}) {
    const auto res = server.Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 404) << path;
  }
}

TEST(PagesTest, IdsOutsideTheAllowedCharactersAreNotFoundWithoutAskingTheTokenCheck) {
  PageServer server(PageAccess::kAllowed);
  for (const std::string& path : std::vector<std::string>{"/grid/a%2Fb", "/grid/%3Cscript%3E", "/grid/" + std::string(65, 'G'), "/grid/",
                                 "/grid/G01/extra", "/worker/W 1", "/static/grid.html", "/static/../pages.cc",
                                 "/static/app.jsx"}) {
    const auto res = server.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
  }
  EXPECT_TRUE(server.scopes().empty());
  const auto longest = server.Get("/grid/" + std::string(64, 'G'));
  ASSERT_TRUE(longest);
  EXPECT_EQ(longest->status, 200);
}

TEST(PagesTest, ScriptAndStyleNeedNoTokenAndCarryTheirTypes) {
  PageServer server(PageAccess::kExpired);
  const auto script = server.Get("/static/app.js");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->status, 200);
  EXPECT_EQ(script->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  const auto style = server.Get("/static/style.css");
  ASSERT_TRUE(style);
  EXPECT_EQ(style->status, 200);
  EXPECT_EQ(style->get_header_value("Content-Type"), "text/css; charset=utf-8");
  EXPECT_TRUE(server.scopes().empty());
}

std::string SourceFile(const std::string& name) {
  std::ifstream in(std::string(ALERTD_WEB_ASSETS_DIR) + "/" + name, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

TEST(EmbeddedAssetsTest, EveryFileIsEmbeddedByteForByte) {
  std::vector<std::string> names;
  for (const EmbeddedAsset& asset : EmbeddedAssets()) {
    names.emplace_back(asset.name);
    const std::string source = SourceFile(std::string(asset.name));
    ASSERT_FALSE(source.empty()) << asset.name;
    EXPECT_EQ(asset.bytes, source) << asset.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"grid.html", "worker.html", "expired.html", "app.js", "style.css"}));
  EXPECT_EQ(LinkExpiredPage(), SourceFile("expired.html"));
}

// Names and values reach the page as text; HTML built from strings would let a worker's name run script.
TEST(EmbeddedAssetsTest, TheScriptNeverParsesDataAsHtml) {
  const std::string script = SourceFile("app.js");
  for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"}) {
    EXPECT_EQ(script.find(sink), std::string::npos) << sink;
  }
}

}  // namespace
}  // namespace alertd::web
