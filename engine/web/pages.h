// The grid view's routes on alertd's HTTP listener: the grid, unit and worker pages and their script and style.
#pragma once

#include <functional>
#include <string_view>

namespace httplib {
class Server;
struct Request;
}  // namespace httplib

namespace alertd::web {

// What the request's token allows for one page; the side that holds the link secret decides.
enum class PageAccess {
  kAllowed,
  kDisabled,   // no operator token configured: the pages do not exist (404)
  kExpired,    // expired or forged: 401 and the "link expired" page
  kForbidden,  // valid, but its scope does not cover this page: 403 and the same page
};

struct PageOptions {
  // Called on the server's threads for every page request with the scope the page shows
  // ("grid:<id>", "unit:<id>" or "worker:<id>"); reads the token from the `t` query parameter or the
  // Authorization header. Unset means kDisabled: pages are never served without a check.
  std::function<PageAccess(const httplib::Request&, std::string_view scope)> authorize;
};

// Registers GET /grid/<id>, /unit/<id>, /worker/<id> (HTML that holds no health data: its script
// fetches /api/v1 with the page's `t` token) and GET /static/<file> (script and style, no token).
// Ids are 1-64 characters of [A-Za-z0-9_.-]; anything else is 404. Call before the server listens.
void RegisterPages(httplib::Server& server, PageOptions options);

// The small zh-CN + en page that says a link has expired or does not cover a page (for /act too).
std::string_view LinkExpiredPage();

}  // namespace alertd::web
