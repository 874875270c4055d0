// The operator's HTTP endpoints: /metrics (Prometheus text), /healthz (loop alive), /readyz (owns partitions).
#pragma once

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
};

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
