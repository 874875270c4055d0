// Sends channel requests over HTTP with libcurl's multi interface: many sends at once on the
// delivery loop's thread, none blocking another, each bounded in time and in the answer it keeps.
//
// Not thread-safe: one delivery loop owns it. JudgeResponse is pure (tests call it directly).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/notify/channel_kind.h"
#include "engine/notify/payloads.h"

namespace alertd::notifyd {

// Whether a channel accepted a message: a 2xx status, and for the chat robots (which answer 200 to
// refusals) a JSON body whose errcode (WeChat Work, DingTalk) or code (Feishu) is 0. A robot answer
// that is not JSON is a failure: the robot did not say it took the message.
[[nodiscard]] absl::Status JudgeResponse(notify::ChannelKind kind, long http_status, std::string_view body);

struct SendTimeouts {
  long connect_ms = 3000;
  long total_ms = 10000;
};

struct SendResult {
  uint64_t id = 0;
  absl::Status status;  // ok: accepted
  long http_status = 0;  // the answer's status; 0 when none arrived (no connection, a timeout)
  double seconds = 0;   // from start to answer (or failure)
};

class HttpSender {
 public:
  // The answers kept from a channel are cut here: enough for any robot's JSON.
  static constexpr std::size_t kMaxAnswerBytes = 64 << 10;

  static absl::StatusOr<std::unique_ptr<HttpSender>> Create(SendTimeouts timeouts);
  ~HttpSender();
  HttpSender(const HttpSender&) = delete;
  HttpSender& operator=(const HttpSender&) = delete;

  // Starts sending; its result comes from a later Poll under the same id.
  void Start(uint64_t id, notify::ChannelKind kind, const notify::HttpRequest& request);
  // Drives the sends for up to `timeout_ms` (less when one finishes) and returns those that ended.
  std::vector<SendResult> Poll(int timeout_ms);
  // Abandons a send (its partition moved away); its result never comes.
  void Abort(uint64_t id);
  std::size_t active() const { return transfers_.size(); }

 private:
  struct Transfer;
  HttpSender(SendTimeouts timeouts, void* multi);
  void Remove(Transfer* transfer);

  SendTimeouts timeouts_;
  void* multi_;  // CURLM*
  std::unordered_map<uint64_t, std::unique_ptr<Transfer>> transfers_;
};

}  // namespace alertd::notifyd
