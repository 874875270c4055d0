#include "engine/state/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace alertd::state {
namespace {

#if defined(__x86_64__)
// Eight bytes per instruction: ~20 times the table's speed, which made reading a large WAL before the
// store opens cost half a second of a restart.
__attribute__((target("sse4.2"))) uint32_t Crc32cSse42(const char* data, std::size_t n, uint32_t crc) {
  uint64_t c = ~crc;
  for (; n >= 8; data += 8, n -= 8) {
    uint64_t word = 0;
    std::memcpy(&word, data, 8);
    c = _mm_crc32_u64(c, word);
  }
  auto c32 = static_cast<uint32_t>(c);
  for (; n > 0; ++data, --n) c32 = _mm_crc32_u8(c32, static_cast<uint8_t>(*data));
  return ~c32;
}
#endif

}  // namespace

uint32_t Crc32cPortable(const char* data, std::size_t n, uint32_t crc) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78U : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (std::size_t i = 0; i < n; ++i) crc = table[(crc ^ static_cast<uint8_t>(data[i])) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint32_t Crc32c(const char* data, std::size_t n, uint32_t crc) {
#if defined(__x86_64__)
  static const bool sse42 = __builtin_cpu_supports("sse4.2");
  if (sse42) return Crc32cSse42(data, n, crc);
#endif
  return Crc32cPortable(data, n, crc);
}

}  // namespace alertd::state
