// The simulator's random draws: one seeded engine and the distributions every part of the model uses.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <random>
#include <string_view>

namespace alertd::cli::sim {

// std::mt19937_64 and libstdc++'s distributions make a run reproducible on one build.
using Rng = std::mt19937_64;

inline double Normal(Rng& rng, double mean, double sd) { return std::normal_distribution<double>(mean, sd)(rng); }
inline double Uniform(Rng& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
inline int UniformInt(Rng& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
inline bool Chance(Rng& rng, double p) { return p > 0 && std::bernoulli_distribution(std::min(p, 1.0))(rng); }
inline int Poisson(Rng& rng, double mean) { return mean > 0 ? std::poisson_distribution<int>(mean)(rng) : 0; }

template <size_t N>
std::string_view Pick(Rng& rng, const std::array<std::string_view, N>& items) {
  return items[std::uniform_int_distribution<size_t>(0, N - 1)(rng)];
}

}  // namespace alertd::cli::sim
