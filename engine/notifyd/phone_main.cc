// alertd-phone: the demo's phone. Accepts the robots', Alertmanager's and webhook requests on
// loopback and prints each message as a phone would show it, one block per message, on stdout.
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <ctime>
#include <iostream>
#include <mutex>
#include <thread>

#include "engine/notifyd/phone_text.h"
#include "engine/tool/atomic_file.h"
#include "engine/tool/stop_signal.h"
#include "engine/tool/tool_main.h"

namespace {

// Accepted by every channel's rule (notifyd::JudgeResponse): errcode 0 for WeChat Work and
// DingTalk, code 0 for Feishu; Alertmanager and webhooks read only the status.
constexpr const char* kAccepted = R"({"errcode":0,"errmsg":"ok","code":0,"msg":"success"})";

std::string LocalClock() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[16];
  std::strftime(text, sizeof text, "%H:%M:%S", &local);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  std::string port_file;
  bool verbose = false;
  CLI::App app{"alertd-phone: prints the messages alertd-notify sends as a phone would show them"};
  app.add_option("--listen", listen, "host:port to listen on (port 0: any free port)")->capture_default_str();
  app.add_option("--port-file", port_file, "Write the port here once listening");
  app.add_flag("-v,--verbose", verbose);
  return alertd::tool::ToolMain(app, argc, argv, "alertd-phone", &verbose, [&]() -> int {
    const auto colon = listen.rfind(':');
    int port = -1;
    try {
      port = colon == std::string::npos ? -1 : std::stoi(listen.substr(colon + 1));
    } catch (const std::exception&) {
    }
    if (port < 0 || port > 65535) {
      spdlog::critical("--listen {}: expected host:port, e.g. 127.0.0.1:9099", listen);
      return 2;
    }
    const std::string host = listen.substr(0, colon);
    alertd::tool::BlockStopSignals();
    httplib::Server server;
    server.set_payload_max_length(1 << 20);
    server.set_read_timeout(5);
    server.set_write_timeout(5);
    std::mutex out_mutex;  // one block at a time on stdout
    server.Post(".*", [&](const httplib::Request& req, httplib::Response& res) {
      const std::string at = LocalClock();
      std::lock_guard<std::mutex> lock(out_mutex);
      for (const alertd::notifyd::PhoneMessage& m : alertd::notifyd::ReadPhoneMessages(req.body)) {
        std::cout << alertd::notifyd::PhoneText(m, at) << std::flush;
      }
      res.set_content(kAccepted, "application/json");
    });
    const int bound = port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
    if (bound <= 0) {
      spdlog::critical("--listen {}: cannot listen (port in use?)", listen);
      return 2;
    }
    if (!port_file.empty()) {
      if (absl::Status written = alertd::tool::WriteFileAtomically(port_file, std::to_string(bound) + "\n");
          !written.ok()) {
        spdlog::critical("--port-file {}: {}", port_file, std::string(written.message()));
        return 2;
      }
    }
    spdlog::info("listening on {}:{}; point notify.yaml's channels at http://{}:{}/", host, bound, host, bound);
    std::thread serving([&] { server.listen_after_bind(); });
    alertd::tool::WaitForStop();
    server.stop();
    serving.join();
    return 0;
  });
}
