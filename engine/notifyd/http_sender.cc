// HttpSender on libcurl's multi interface, and the channels' rules for an accepted message.
#include "engine/notifyd/http_sender.h"

#include <curl/curl.h>

#include <chrono>
#include <nlohmann/json.hpp>

namespace alertd::notifyd {

absl::Status JudgeResponse(notify::ChannelKind kind, long http_status, std::string_view body) {
  if (http_status < 200 || http_status > 299) {
    return absl::UnavailableError("HTTP status " + std::to_string(http_status));
  }
  const char* field = nullptr;
  switch (kind) {
    case notify::ChannelKind::kWeCom:
    case notify::ChannelKind::kDingTalk:
      field = "errcode";
      break;
    case notify::ChannelKind::kFeishu:
      field = "code";
      break;
    case notify::ChannelKind::kAlertmanager:
    case notify::ChannelKind::kWebhook:
      return absl::OkStatus();
  }
  const nlohmann::json answer = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!answer.is_object()) return absl::UnavailableError("the robot's answer is not a JSON object");
  const auto it = answer.find(field);
  // Feishu's older webhooks answer {"StatusCode":0,...}; either spelling of success is accepted.
  if (it == answer.end() && kind == notify::ChannelKind::kFeishu && answer.contains("StatusCode")) {
    return answer["StatusCode"] == 0 ? absl::OkStatus() : absl::UnavailableError("the robot answered StatusCode != 0");
  }
  if (it == answer.end() || !it->is_number_integer()) {
    return absl::UnavailableError(std::string("the robot's answer has no integer ") + field);
  }
  if (it->get<int64_t>() != 0) {
    return absl::UnavailableError(std::string("the robot refused the message: ") + field + " " +
                                  std::to_string(it->get<int64_t>()));
  }
  return absl::OkStatus();
}

struct HttpSender::Transfer {
  uint64_t id = 0;
  notify::ChannelKind kind = notify::ChannelKind::kWebhook;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string body;    // the request body; curl reads it in place
  std::string answer;  // the channel's answer, at most kMaxAnswerBytes
  std::chrono::steady_clock::time_point started;
};

namespace {

size_t KeepAnswer(char* data, size_t size, size_t count, void* user) {
  auto* answer = static_cast<std::string*>(user);
  const size_t bytes = size * count;
  const size_t room = HttpSender::kMaxAnswerBytes - std::min(answer->size(), HttpSender::kMaxAnswerBytes);
  answer->append(data, std::min(bytes, room));
  return bytes;  // the rest is read and dropped: a huge answer must not fail an accepted message
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpSender>> HttpSender::Create(SendTimeouts timeouts) {
  static const CURLcode global = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (global != CURLE_OK) return absl::InternalError(std::string("libcurl: ") + curl_easy_strerror(global));
  CURLM* multi = curl_multi_init();
  if (multi == nullptr) return absl::InternalError("libcurl: cannot create a multi handle");
  return std::unique_ptr<HttpSender>(new HttpSender(timeouts, multi));
}

HttpSender::HttpSender(SendTimeouts timeouts, void* multi) : timeouts_(timeouts), multi_(multi) {}

HttpSender::~HttpSender() {
  while (!transfers_.empty()) Remove(transfers_.begin()->second.get());
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void HttpSender::Start(uint64_t id, notify::ChannelKind kind, const notify::HttpRequest& request) {
  auto transfer = std::make_unique<Transfer>();
  transfer->id = id;
  transfer->kind = kind;
  transfer->body = request.body;
  transfer->started = std::chrono::steady_clock::now();
  CURL* easy = curl_easy_init();
  transfer->easy = easy;
  for (const auto& [name, value] : request.headers) {
    transfer->headers = curl_slist_append(transfer->headers, (name + ": " + value).c_str());
  }
  // curl would otherwise send "Expect: 100-continue" for larger bodies and wait a second for it.
  transfer->headers = curl_slist_append(transfer->headers, "Expect:");
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, transfer->body.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(transfer->body.size()));
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, timeouts_.connect_ms);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeouts_.total_ms);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);  // a robot that redirects is misconfigured
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, KeepAnswer);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer->answer);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
  curl_multi_add_handle(static_cast<CURLM*>(multi_), easy);
  transfers_[id] = std::move(transfer);
}

std::vector<SendResult> HttpSender::Poll(int timeout_ms) {
  CURLM* multi = static_cast<CURLM*>(multi_);
  int running = 0;
  curl_multi_perform(multi, &running);
  if (running > 0 && timeout_ms > 0) {
    curl_multi_poll(multi, nullptr, 0, timeout_ms, nullptr);
    curl_multi_perform(multi, &running);
  }
  std::vector<SendResult> results;
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(multi, &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    Transfer* transfer = nullptr;
    curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &transfer);
    SendResult result;
    result.id = transfer->id;
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - transfer->started).count();
    if (message->data.result != CURLE_OK) {
      result.status = absl::UnavailableError(curl_easy_strerror(message->data.result));
    } else {
      long http_status = 0;
      curl_easy_getinfo(message->easy_handle, CURLINFO_RESPONSE_CODE, &http_status);
      result.http_status = http_status;
      result.status = JudgeResponse(transfer->kind, http_status, transfer->answer);
    }
    results.push_back(std::move(result));
    Remove(transfer);
  }
  return results;
}

void HttpSender::Abort(uint64_t id) {
  const auto it = transfers_.find(id);
  if (it != transfers_.end()) Remove(it->second.get());
}

void HttpSender::Remove(Transfer* transfer) {
  curl_multi_remove_handle(static_cast<CURLM*>(multi_), transfer->easy);
  curl_easy_cleanup(transfer->easy);
  curl_slist_free_all(transfer->headers);
  transfers_.erase(transfer->id);
}

}  // namespace alertd::notifyd
