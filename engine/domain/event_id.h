// Deterministic ids for episodes and events: the same input history always yields the same ids.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/domain/types.h"

namespace alertd::domain {

// 128-bit FNV-1a style digest rendered as 32 lowercase hex digits. Not cryptographic: ids only need
// to be stable across processes, platforms and restarts, and unlikely to collide.
std::string StableDigest(std::string_view data);

// An episode is named by its worker, its rule and the worker's running episode counter, which the
// state persists, so a replay of the same history reproduces it.
std::string EpisodeId(const WorkerId& worker, Rule rule, uint64_t episode_number);

// An event is named by its episode and its sequence within the episode.
std::string EventId(std::string_view episode_id, uint32_t sequence);

// The referral an episode asks for (at most one per episode) is named by the episode. Its own prefix
// keeps it apart from every event id.
std::string ReferralId(std::string_view episode_id);

}  // namespace alertd::domain
