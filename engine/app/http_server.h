// alertd's HTTP listener: /metrics (Prometheus text), /healthz (loop alive), /readyz (owns partitions), and
// whatever routes the API and the pages register (api_routes.h). Every request is bounded: a body of at
// most 64 KiB, 5 s to read it and 5 s to write the answer.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace alertd::app {

struct HttpHandlers {
  std::function<std::string()> metrics;  // Prometheus exposition text
  std::function<bool()> healthy;
  std::function<bool()> ready;
  // Optional: add routes before the server starts listening (the query API and /act; the grid view's
  // pages). Called on the starting thread; the routes' handlers then run on the server's threads.
  std::function<void(httplib::Server&)> register_api = {};
  std::function<void(httplib::Server&)> register_pages = {};
};

inline constexpr std::size_t kMaxRequestBodyBytes = 64 * 1024;
inline constexpr int kRequestTimeoutSeconds = 5;

// Serves on its own thread until destroyed. Thread-safe: handlers are called from the server thread.
class HttpServer {
 public:
  // `address` is host:port; port 0 picks a free port (see port()).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const std::string& address, HttpHandlers handlers);
  ~HttpServer();
  int port() const { return port_; }

 private:
  HttpServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace alertd::app
