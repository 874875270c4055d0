// Serves the embedded grid view files on cpp-httplib.
#include "engine/web/pages.h"

#include <httplib.h>

#include <memory>
#include <string>

#include "engine/web/embedded_assets.h"

namespace alertd::web {
namespace {

// The pages load nothing but their own script and style, and the token in their URL never leaves in a
// Referer header.
constexpr const char* kPageSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

constexpr std::string_view kIdPattern = "([A-Za-z0-9_.\\-]{1,64})";

std::string_view Asset(std::string_view name) {
  for (const EmbeddedAsset& asset : EmbeddedAssets()) {
    if (asset.name == name) return asset.bytes;
  }
  return {};  // embed_assets.cmake embeds every file the routes name, so this is a build mistake
}

std::string_view ContentType(std::string_view name) {
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "text/html; charset=utf-8";
}

void SetHeaders(httplib::Response& res, bool page) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  if (page) {
    res.set_header("Content-Security-Policy", kPageSecurityPolicy);
    res.set_header("Cache-Control", "no-store");
  } else {
    res.set_header("Cache-Control", "no-cache");
  }
}

void AnswerFile(httplib::Response& res, std::string_view name, bool page) {
  const std::string_view bytes = Asset(name);
  SetHeaders(res, page);
  res.set_content(bytes.data(), bytes.size(), std::string(ContentType(name)).c_str());
}

void RegisterPage(httplib::Server& server, std::string_view kind, std::string_view file,
                  std::shared_ptr<const PageOptions> options) {
  const std::string pattern = "/" + std::string(kind) + "/" + std::string(kIdPattern);
  server.Get(pattern, [kind = std::string(kind), file, options](const httplib::Request& req, httplib::Response& res) {
    const std::string scope = kind + ":" + req.matches[1].str();
    const PageAccess access = options->authorize ? options->authorize(req, scope) : PageAccess::kDisabled;
    switch (access) {
      case PageAccess::kAllowed:
        AnswerFile(res, file, true);
        return;
      case PageAccess::kDisabled:
        res.status = 404;
        res.set_content("not found\n", "text/plain");
        return;
      case PageAccess::kExpired:
      case PageAccess::kForbidden:
        AnswerFile(res, "expired.html", true);
        res.status = access == PageAccess::kExpired ? 401 : 403;
        return;
    }
  });
}

}  // namespace

void RegisterPages(httplib::Server& server, PageOptions options) {
  auto shared = std::make_shared<const PageOptions>(std::move(options));
  RegisterPage(server, "grid", "grid.html", shared);
  RegisterPage(server, "unit", "grid.html", shared);
  RegisterPage(server, "worker", "worker.html", shared);
  // Only the script and the style: the HTML pages are reached through their checked routes.
  server.Get("/static/(app\\.js|style\\.css)", [](const httplib::Request& req, httplib::Response& res) {
    AnswerFile(res, req.matches[1].str(), false);
  });
}

std::string_view LinkExpiredPage() { return Asset("expired.html"); }

}  // namespace alertd::web
