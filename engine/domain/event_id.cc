// Deterministic digests for episode and event ids.
#include "engine/domain/event_id.h"

#include <array>
#include <cstdio>

namespace alertd::domain {
namespace {

// Two independent 64-bit FNV-1a lanes (different offset bases) give a 128-bit digest: enough to make
// collisions among the ids of one deployment negligible, and trivially identical on every platform.
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;
constexpr uint64_t kLaneA = 0xcbf29ce484222325ULL;
constexpr uint64_t kLaneB = 0x84222325cbf29ce4ULL;

uint64_t Fnv1a(std::string_view data, uint64_t basis) {
  uint64_t h = basis;
  for (unsigned char c : data) {
    h ^= c;
    h *= kFnvPrime;
  }
  // Final avalanche (splitmix64) so that near-identical inputs differ in every hex digit.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

}  // namespace

std::string StableDigest(std::string_view data) {
  std::array<char, 33> out{};
  std::snprintf(out.data(), out.size(), "%016llx%016llx",
                static_cast<unsigned long long>(Fnv1a(data, kLaneA)),
                static_cast<unsigned long long>(Fnv1a(data, kLaneB)));
  return std::string(out.data(), 32);
}

std::string EpisodeId(const WorkerId& worker, Rule rule, uint64_t episode_number) {
  // Field separators that cannot occur in the decimal parts keep "W1|12" and "W11|2" apart.
  // Appended piece by piece: GCC 12 misreads `"literal" + std::string` as an overlapping memcpy (-Wrestrict).
  std::string key = "episode\x1f";
  key += worker.value;
  key += '\x1f';
  key += std::to_string(static_cast<int>(rule));
  key += '\x1f';
  key += std::to_string(episode_number);
  return StableDigest(key);
}

std::string EventId(std::string_view episode_id, uint32_t sequence) {
  std::string key = "event\x1f";
  key.append(episode_id);
  key += '\x1f';
  key += std::to_string(sequence);
  return StableDigest(key);
}

std::string ReferralId(std::string_view episode_id) {
  std::string key = "referral\x1f";
  key.append(episode_id);
  return StableDigest(key);
}

}  // namespace alertd::domain
