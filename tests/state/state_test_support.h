// Shared helpers of the state tests: temporary directories and worker states with every field set.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "engine/domain/worker_state.h"

namespace alertd::state::testing_support {

// A fresh directory under the test temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "alertd_state_XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << pattern;
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;  // best effort: a leftover temp dir must not fail the test
    std::filesystem::remove_all(path_, ignored);
  }

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline domain::BpSample Sample(int64_t at_ms, int systolic, int diastolic, domain::BpCategory category,
                               domain::ReadingContext context = domain::ReadingContext::kSelfTest) {
  return domain::BpSample{.measured_at = domain::EventTime{at_ms},
                          .systolic_mmhg = systolic,
                          .diastolic_mmhg = diastolic,
                          .pulse_bpm = 72,
                          .category = category,
                          .station_id = "U07-G12-S1",
                          .device_id = "omron-17",
                          .context = context};
}

// A state with every field set to a non-default value, every enum value used somewhere.
inline domain::WorkerState FullState(const std::string& worker = "W001") {
  using namespace domain;
  WorkerState state;
  WorkerProfile profile;
  profile.worker = WorkerId{worker};
  profile.name = "李明";
  profile.unit_id = "U07";
  profile.unit_name = "Seventh Oil Production Plant";
  profile.grid_id = "U07-G12";
  profile.grid_name = "Well team 12";
  profile.health_manager = Person{.id = "HM-3", .name = "王芳"};
  profile.unit_supervisor = Person{.id = "US-1", .name = "Zhang Wei"};
  profile.high_risk_posts = {HighRiskPost::kDriver, HighRiskPost::kWorkAtHeight, HighRiskPost::kHotWork,
                             HighRiskPost::kConfinedSpace, HighRiskPost::kElectrical};
  profile.diagnosed_hypertension_grade = 2;
  profile.coronary_heart_disease = true;
  profile.diabetes = true;
  profile.policy.critical_systolic_mmhg = 170;
  profile.policy.critical_diastolic_mmhg = 105;
  profile.policy.self_test_interval_days = 3;
  profile.policy.focus_tracking = true;
  profile.policy.extra_recipients = {{.id = "DR-9", .name = "Dr. Liu"}};
  profile.active = false;
  profile.updated_at_ms = 1'716'000'000'123;
  state.profile = profile;
  state.readings_accepted = 41;
  state.bp_readings = 37;
  state.newest_bp_at = EventTime{1'717'000'500'000};
  state.bp_window = {Sample(1'717'000'100'000, 118, 78, BpCategory::kNormal, ReadingContext::kSelfTest),
                     Sample(1'717'000'200'000, 135, 85, BpCategory::kHighNormal, ReadingContext::kPreShift),
                     Sample(1'717'000'300'000, 150, 95, BpCategory::kGrade1, ReadingContext::kCheckup),
                     Sample(1'717'000'400'000, 170, 105, BpCategory::kGrade2, ReadingContext::kClinic),
                     Sample(1'717'000'500'000, 185, 112, BpCategory::kGrade3)};
  const Rule rules[] = {Rule::kR1CriticalBp,     Rule::kR2SustainedHypertension,
                        Rule::kR3SelfTestMissed, Rule::kR4PreShiftFitness,
                        Rule::kR5Glucose,        Rule::kR6FocusTracking};
  const Severity severities[] = {Severity::kInfo, Severity::kHigh, Severity::kUrgent, Severity::kCritical};
  const EscalationLevel levels[] = {EscalationLevel::kWorker, EscalationLevel::kHealthManager,
                                    EscalationLevel::kUnitSupervisor};
  for (size_t i = 0; i < std::size(rules); ++i) {
    OpenEpisode episode;
    episode.rule = rules[i];
    episode.episode_id = "ep-" + std::to_string(i);
    episode.last_sequence = static_cast<uint32_t>(i + 2);
    episode.severity = severities[i % std::size(severities)];
    episode.level = levels[i % std::size(levels)];
    episode.opened_at = EventTime{1'717'000'000'000 + static_cast<int64_t>(i)};
    episode.last_trigger_at = EventTime{1'717'000'500'000};
    episode.trigger_count = static_cast<uint32_t>(i + 1);
    if (i % 2 == 0) episode.evidence = {state.bp_window[3], state.bp_window[4]};
    state.open.push_back(episode);
  }
  state.episodes_opened = 9;
  return state;
}

inline domain::WorkerState CountedState(uint64_t readings) {
  domain::WorkerState state;
  state.readings_accepted = readings;
  return state;
}

}  // namespace alertd::state::testing_support
