// What a commit compares of a worker's stored state to write only the difference: its profile and
// its windows' samples, exactly, without the rest of the state (CommitBatch::workers_before).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/domain/shared_text.h"
#include "engine/domain/types.h"
#include "engine/domain/worker_state.h"

namespace alertd::state {

// How a worker's window samples are stored (worker_parts.h): in runs of consecutive samples, as this
// build writes them, or one per key, as schema 4 wrote them. A commit rewrites a worker of the latter
// in runs, and deletes its single-sample keys.
enum class SampleLayout : uint8_t { kRuns, kSingles };

// Taken as a worker is loaded into a commit window, before the rules change it; the commit then
// compares the state after with it (worker_parts.h). A copy of the whole state did the same at the
// price of a reference count per sample id, taken and given back, on every reading: the image keeps
// each sample's ids as the addresses of their texts and holds each distinct text once, which keeps
// every address valid, so a comparison is exact (the same address is the same text; different
// addresses compare the texts).
class WorkerImage {
 public:
  // A sample as the image keeps it: its own fields, its ids by address.
  struct Bp {
    domain::EventTime measured_at;
    int systolic_mmhg = 0;
    int diastolic_mmhg = 0;
    int pulse_bpm = 0;
    domain::BpCategory category = domain::BpCategory::kNormal;
    domain::ReadingContext context = domain::ReadingContext::kSelfTest;
    const std::string* station_id = nullptr;
    const std::string* device_id = nullptr;
    // As domain::BpSample's own ==.
    bool Same(const domain::BpSample& s) const;
  };
  struct Glucose {
    domain::EventTime measured_at;
    double mmol_per_l = 0;
    domain::GlucoseTiming timing = domain::GlucoseTiming::kRandom;
    domain::ReadingContext context = domain::ReadingContext::kSelfTest;
    const std::string* station_id = nullptr;
    const std::string* device_id = nullptr;
    bool Same(const domain::GlucoseSample& s) const;  // as domain::GlucoseSample's own ==
  };

  WorkerImage() = default;  // an empty state
  explicit WorkerImage(const domain::WorkerState& state, SampleLayout layout = SampleLayout::kRuns);

  const std::optional<domain::WorkerProfile>& profile() const { return profile_; }
  const std::vector<Bp>& bp_window() const { return bp_window_; }
  const std::vector<Glucose>& glucose_window() const { return glucose_window_; }
  SampleLayout layout() const { return layout_; }

 private:
  const std::string* Keep(const domain::SharedText& text);

  std::optional<domain::WorkerProfile> profile_;
  std::vector<Bp> bp_window_;
  std::vector<Glucose> glucose_window_;
  std::vector<domain::SharedText> texts_;  // what the samples' ids point to, each copy once
  SampleLayout layout_ = SampleLayout::kRuns;
};

}  // namespace alertd::state
