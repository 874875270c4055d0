// Version-5 UUIDs over OpenSSL's one-shot SHA-1, as RFC 9562 section 5.5 computes them.
#include "engine/fhir/name_uuid.h"

#include <openssl/sha.h>

#include <array>
#include <cassert>
#include <cstdint>

namespace alertd::fhir {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::array<unsigned char, 16> UuidBytes(std::string_view text) {
  std::array<unsigned char, 16> bytes{};
  std::size_t n = 0;
  int high = -1;
  for (char c : text) {
    if (c == '-') continue;
    const int v = HexValue(c);
    assert(v >= 0 && n < bytes.size());
    if (high < 0) {
      high = v;
    } else {
      bytes[n++] = static_cast<unsigned char>(high * 16 + v);
      high = -1;
    }
  }
  assert(n == bytes.size());
  return bytes;
}

}  // namespace

std::string NameUuid(std::string_view namespace_uuid, std::string_view name) {
  const std::array<unsigned char, 16> ns = UuidBytes(namespace_uuid);
  std::string input(reinterpret_cast<const char*>(ns.data()), ns.size());
  input.append(name);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0F) | 0x50);  // version 5
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0x0F]);
  }
  return out;
}

}  // namespace alertd::fhir
