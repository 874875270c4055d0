// The WAL scan's checksum: crc32c's check value, and the CPU's instruction agreeing with the table at
// every length and alignment the 8-byte steps and the byte tail can meet.
#include "engine/state/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace alertd::state {
namespace {

TEST(Crc32cTest, CheckValueAndEmpty) {
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283U);
  EXPECT_EQ(Crc32cPortable("123456789", 9), 0xE3069283U);
  EXPECT_EQ(Crc32c("", 0), 0U);
}

TEST(Crc32cTest, AgreesWithTheTableAtEveryLengthAndOffset) {
  std::string bytes(300, '\0');
  uint32_t x = 12345;
  for (char& c : bytes) {
    x = x * 1103515245U + 12345U;
    c = static_cast<char>(x >> 24);
  }
  for (std::size_t offset = 0; offset < 9; ++offset) {
    for (std::size_t n = 0; n + offset <= bytes.size(); n += 7) {
      ASSERT_EQ(Crc32c(bytes.data() + offset, n), Crc32cPortable(bytes.data() + offset, n))
          << "offset " << offset << " length " << n;
    }
  }
}

TEST(Crc32cTest, ContinuesAcrossPieces) {
  const std::string all = "a WAL record's type byte, then its payload";
  for (std::size_t cut = 0; cut <= all.size(); ++cut) {
    EXPECT_EQ(Crc32c(all.data() + cut, all.size() - cut, Crc32c(all.data(), cut)), Crc32c(all.data(), all.size()))
        << "cut at " << cut;
  }
}

}  // namespace
}  // namespace alertd::state
