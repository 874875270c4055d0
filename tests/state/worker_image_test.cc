// The image a commit compares a worker's new state with: it must say "same" exactly when the domain's
// own == does, for every field of a sample, and its ids must stay valid after the state is gone.
#include "engine/state/worker_image.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace alertd::state {
namespace {

using domain::BpSample;
using domain::GlucoseSample;

BpSample Bp() {
  return BpSample{.measured_at = domain::EventTime{1000},
                  .systolic_mmhg = 150,
                  .diastolic_mmhg = 95,
                  .pulse_bpm = 70,
                  .category = domain::BpCategory::kGrade1,
                  .station_id = "S-01",
                  .device_id = "BP-DEVICE-0000001",
                  .context = domain::ReadingContext::kPreShift};
}

GlucoseSample Glucose() {
  return GlucoseSample{.measured_at = domain::EventTime{1000},
                       .mmol_per_l = 7.8,
                       .timing = domain::GlucoseTiming::kFasting,
                       .station_id = "S-01",
                       .device_id = "GLU-DEVICE-0000001",
                       .context = domain::ReadingContext::kCheckup};
}

template <typename Sample>
struct Change {
  const char* field;
  std::function<void(Sample&)> apply;
};

const std::vector<Change<BpSample>>& BpChanges() {
  static const std::vector<Change<BpSample>> changes = {
      {"measured_at", [](BpSample& s) { s.measured_at.ms += 1; }},
      {"systolic_mmhg", [](BpSample& s) { s.systolic_mmhg += 1; }},
      {"diastolic_mmhg", [](BpSample& s) { s.diastolic_mmhg += 1; }},
      {"pulse_bpm", [](BpSample& s) { s.pulse_bpm += 1; }},
      {"category", [](BpSample& s) { s.category = domain::BpCategory::kGrade2; }},
      {"station_id", [](BpSample& s) { s.station_id = "S-02"; }},
      {"station_id emptied", [](BpSample& s) { s.station_id = ""; }},
      {"device_id", [](BpSample& s) { s.device_id = "BP-DEVICE-0000002"; }},
      {"context", [](BpSample& s) { s.context = domain::ReadingContext::kSelfTest; }},
  };
  return changes;
}

const std::vector<Change<GlucoseSample>>& GlucoseChanges() {
  static const std::vector<Change<GlucoseSample>> changes = {
      {"measured_at", [](GlucoseSample& s) { s.measured_at.ms -= 1; }},
      {"mmol_per_l", [](GlucoseSample& s) { s.mmol_per_l += 0.1; }},
      {"timing", [](GlucoseSample& s) { s.timing = domain::GlucoseTiming::kRandom; }},
      {"station_id", [](GlucoseSample& s) { s.station_id = "S-02"; }},
      {"device_id", [](GlucoseSample& s) { s.device_id = ""; }},
      {"context", [](GlucoseSample& s) { s.context = domain::ReadingContext::kClinic; }},
  };
  return changes;
}

TEST(WorkerImageTest, ASampleIsTheSameExactlyWhenTheDomainSaysSo) {
  domain::WorkerState state;
  state.bp_window = {Bp()};
  state.glucose_window = {Glucose()};
  const WorkerImage image(state);
  ASSERT_EQ(image.bp_window().size(), 1u);
  ASSERT_EQ(image.glucose_window().size(), 1u);
  EXPECT_TRUE(image.bp_window()[0].Same(Bp())) << "equal texts in other copies are the same ids";
  EXPECT_TRUE(image.glucose_window()[0].Same(Glucose()));
  for (const auto& change : BpChanges()) {
    BpSample changed = Bp();
    change.apply(changed);
    EXPECT_NE(changed, Bp()) << change.field;
    EXPECT_FALSE(image.bp_window()[0].Same(changed)) << change.field;
  }
  for (const auto& change : GlucoseChanges()) {
    GlucoseSample changed = Glucose();
    change.apply(changed);
    EXPECT_NE(changed, Glucose()) << change.field;
    EXPECT_FALSE(image.glucose_window()[0].Same(changed)) << change.field;
  }
}

// The image is compared after the rules have changed or dropped the samples it was taken from (and
// ASan checks that no id points into freed memory).
TEST(WorkerImageTest, TheIdsOutliveTheStateTheyWereTakenFrom) {
  auto state = std::make_unique<domain::WorkerState>();
  for (int i = 0; i < 50; ++i) {
    BpSample s = Bp();
    s.measured_at.ms += i;
    s.station_id = "S-" + std::to_string(i % 7);  // more distinct texts than the image searches
    s.device_id = std::string(40, static_cast<char>('a' + i % 3));
    state->bp_window.push_back(std::move(s));
  }
  state->profile.emplace();
  state->profile->worker = domain::WorkerId{"W1"};
  state->profile->name = "张伟";
  state->profile->unit_name = "第三运输车队（夜班）";
  const domain::WorkerState copy = *state;
  const WorkerImage image(*state);
  state.reset();
  const WorkerImage moved = WorkerImage(image);
  ASSERT_EQ(moved.bp_window().size(), copy.bp_window.size());
  for (std::size_t i = 0; i < copy.bp_window.size(); ++i) {
    EXPECT_TRUE(moved.bp_window()[i].Same(copy.bp_window[i])) << i;
    EXPECT_EQ(*moved.bp_window()[i].station_id, copy.bp_window[i].station_id.str()) << i;
  }
  EXPECT_EQ(moved.profile(), copy.profile);
  EXPECT_EQ(WorkerImage().bp_window().size(), 0u);
  EXPECT_FALSE(WorkerImage().profile().has_value());
}

}  // namespace
}  // namespace alertd::state
