// HTTP endpoints on cpp-httplib.
#include "engine/app/http_server.h"

#include <httplib.h>

#include <chrono>
#include <thread>

#include "absl/status/status.h"

namespace alertd::app {

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& address, HttpHandlers handlers) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError("--http " + address + ": expected host:port, e.g. 127.0.0.1:9464");
  }
  const std::string host = address.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(address.substr(colon + 1));
  } catch (const std::exception&) {
    return absl::InvalidArgumentError("--http " + address + ": port is not a number");
  }
  std::unique_ptr<HttpServer> s(new HttpServer());
  s->server_ = std::make_unique<httplib::Server>();
  s->server_->set_payload_max_length(kMaxRequestBodyBytes);
  s->server_->set_read_timeout(kRequestTimeoutSeconds, 0);
  s->server_->set_write_timeout(kRequestTimeoutSeconds, 0);
  if (handlers.register_api) handlers.register_api(*s->server_);
  if (handlers.register_pages) handlers.register_pages(*s->server_);
  auto h = std::make_shared<HttpHandlers>(std::move(handlers));
  s->server_->Get("/metrics", [h](const httplib::Request&, httplib::Response& res) {
    res.set_content(h->metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
  s->server_->Get("/healthz", [h](const httplib::Request&, httplib::Response& res) {
    const bool ok = h->healthy();
    res.status = ok ? 200 : 503;
    res.set_content(ok ? "ok\n" : "engine loop stalled\n", "text/plain");
  });
  s->server_->Get("/readyz", [h](const httplib::Request&, httplib::Response& res) {
    const bool ok = h->ready();
    res.status = ok ? 200 : 503;
    res.set_content(ok ? "ready\n" : "not ready: no partitions assigned yet\n", "text/plain");
  });
  if (port == 0) {
    s->port_ = s->server_->bind_to_any_port(host);
  } else {
    s->port_ = s->server_->bind_to_port(host, port) ? port : -1;
  }
  if (s->port_ <= 0) return absl::UnavailableError("--http " + address + ": cannot listen (port in use?)");
  httplib::Server* raw = s->server_.get();
  s->thread_ = std::thread([raw] { raw->listen_after_bind(); });
  // cpp-httplib 0.11's stop() does nothing before the listening loop has started, which would leave a
  // server stopped early (a short test, a failed start) listening for ever and its destructor waiting.
  for (int i = 0; i < 5000 && !raw->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return s;
}

HttpServer::~HttpServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace alertd::app
