// A simulated health grid ready to play: its population, random stream, reading model and encoder.
#pragma once

#include <cstdint>

#include "engine/cli/sim/population.h"
#include "engine/cli/sim/random.h"
#include "engine/cli/sim/readings.h"

namespace alertd::cli::sim {

// Every scenario (backfill, week, live) draws from the one stream and encodes with the one encoder, so
// a run is reproducible from the seed and device sequence numbers never repeat within it. Pure: "now"
// is given. Not thread-safe, not copyable (the model and encoder refer to the members).
struct Simulation {
  Simulation(const PopulationOptions& population_options, const ReadingOptions& readings, uint64_t seed,
             int64_t now_ms)
      : reading_options(readings),
        rng(seed),
        population(BuildPopulation(population_options, now_ms, rng)),
        model(reading_options, population, rng),
        encoder(population, rng) {}
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  const ReadingOptions reading_options;
  Rng rng;
  Population population;
  ReadingModel model;
  ReadingEncoder encoder;
};

}  // namespace alertd::cli::sim
