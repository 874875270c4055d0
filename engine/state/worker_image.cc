// A worker's stored state as a commit's difference compares it; see worker_image.h.
#include "engine/state/worker_image.h"

#include <algorithm>

namespace alertd::state {
namespace {

// A field added to a sample must join its image and Same(), or a commit would miss its changes.
static_assert(sizeof(domain::BpSample) == 48, "BpSample changed: update WorkerImage::Bp and Bp::Same");
static_assert(sizeof(domain::GlucoseSample) == 48, "GlucoseSample changed: update WorkerImage::Glucose and Same");

bool SameText(const std::string* kept, const domain::SharedText& text) {
  return kept == &text.str() || *kept == text.str();
}

// A window shares each id's copy among its samples (domain::ShareIds), so it holds a few copies: the
// newest kept are searched for the same copy.
constexpr std::size_t kTextsSearched = 2 * domain::kIdsSharedWithin;

}  // namespace

bool WorkerImage::Bp::Same(const domain::BpSample& s) const {
  return measured_at == s.measured_at && systolic_mmhg == s.systolic_mmhg && diastolic_mmhg == s.diastolic_mmhg &&
         pulse_bpm == s.pulse_bpm && category == s.category && context == s.context &&
         SameText(station_id, s.station_id) && SameText(device_id, s.device_id);
}

bool WorkerImage::Glucose::Same(const domain::GlucoseSample& s) const {
  return measured_at == s.measured_at && mmol_per_l == s.mmol_per_l && timing == s.timing && context == s.context &&
         SameText(station_id, s.station_id) && SameText(device_id, s.device_id);
}

WorkerImage::WorkerImage(const domain::WorkerState& state, SampleLayout layout)
    : profile_(state.profile), layout_(layout) {
  texts_.reserve(4);
  bp_window_.reserve(state.bp_window.size());
  for (const domain::BpSample& s : state.bp_window) {
    bp_window_.push_back(Bp{.measured_at = s.measured_at,
                            .systolic_mmhg = s.systolic_mmhg,
                            .diastolic_mmhg = s.diastolic_mmhg,
                            .pulse_bpm = s.pulse_bpm,
                            .category = s.category,
                            .context = s.context,
                            .station_id = Keep(s.station_id),
                            .device_id = Keep(s.device_id)});
  }
  glucose_window_.reserve(state.glucose_window.size());
  for (const domain::GlucoseSample& s : state.glucose_window) {
    glucose_window_.push_back(Glucose{.measured_at = s.measured_at,
                                      .mmol_per_l = s.mmol_per_l,
                                      .timing = s.timing,
                                      .context = s.context,
                                      .station_id = Keep(s.station_id),
                                      .device_id = Keep(s.device_id)});
  }
}

const std::string* WorkerImage::Keep(const domain::SharedText& text) {
  // The empty text's address is static; a shared copy lives as long as one holder does.
  if (text.empty()) return &text.str();
  const std::size_t from = texts_.size() > kTextsSearched ? texts_.size() - kTextsSearched : 0;
  const bool kept = std::any_of(texts_.begin() + static_cast<std::ptrdiff_t>(from), texts_.end(),
                                [&](const domain::SharedText& k) { return k.SharesCopyWith(text); });
  if (!kept) texts_.push_back(text);
  return &text.str();
}

}  // namespace alertd::state
