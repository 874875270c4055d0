// Request signatures of the chat robots (HMAC-SHA256, Base64) and the URL encoding they need.
// Pure functions over OpenSSL's one-shot HMAC; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace alertd::notify {

// The raw 32-byte HMAC-SHA256 of `message` under `key`.
std::string HmacSha256(std::string_view key, std::string_view message);

// Standard Base64 (RFC 4648 §4) with padding.
std::string Base64(std::string_view bytes);

// Percent-encodes every byte outside RFC 3986's unreserved set (A-Z a-z 0-9 - . _ ~), so a
// Base64 signature's '+', '/' and '=' survive a query string.
std::string PercentEncode(std::string_view text);

// DingTalk robot: Base64(HMAC-SHA256(key = secret, message = timestamp_ms + "\n" + secret)), to
// be percent-encoded into the URL's `sign` (the `timestamp` parameter is the same milliseconds).
std::string DingTalkSignature(int64_t timestamp_ms, std::string_view secret);

// Feishu bot: Base64(HMAC-SHA256(key = timestamp_s + "\n" + secret, message = "")): the string to
// sign is the key and the message is empty, as Feishu's own samples compute it. Goes into the
// JSON body's `sign` with `timestamp` in seconds.
std::string FeishuSignature(int64_t timestamp_s, std::string_view secret);

}  // namespace alertd::notify
