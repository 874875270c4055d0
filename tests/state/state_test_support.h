// Shared helpers of the state tests: temporary directories, the two store implementations for typed
// tests, raw writes that bypass the store, and worker states with every field set.
#pragma once

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/domain/worker_state.h"
#include "engine/state/layout.h"
#include "engine/state/store.h"
#include "engine/state/worker_parts.h"

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

// The twins differ only in what "reopen" means: for RocksDB, close and open the same directory;
// the memory store lives as long as the test, so it keeps the instance.
struct MemoryImpl {
  std::unique_ptr<StateStore> Open() { return NewMemoryStore(); }
  std::unique_ptr<StateStore> Reopen(std::unique_ptr<StateStore> store) { return store; }
};

struct RocksImpl {
  TempDir dir;
  std::unique_ptr<StateStore> Open() {
    absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore(StoreOptions{.path = dir.Sub("db")});
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
  std::unique_ptr<StateStore> Reopen(std::unique_ptr<StateStore> store) {
    store.reset();  // closes the DB and releases its lock
    return Open();
  }
};

// For TYPED_TEST_SUITE(Suite, StoreImplementations, StoreImplName): every contract test runs on both.
using StoreImplementations = ::testing::Types<MemoryImpl, RocksImpl>;
class StoreImplName {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, MemoryImpl> ? "Memory" : "Rocks";
  }
};

// Writes raw bytes into one column family, bypassing the store, as corruption or another build would.
inline void RawPut(const std::string& path, layout::Family family, const std::string& key, const std::string& value) {
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {{rocksdb::kDefaultColumnFamilyName, {}}};
  for (layout::Family f : layout::kFamilies) descriptors.emplace_back(layout::Name(f), rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors, &handles, &db).ok());
  rocksdb::Status put = db->Put(rocksdb::WriteOptions(), handles[1 + static_cast<size_t>(family)], key, value);
  EXPECT_TRUE(put.ok()) << put.ToString();
  for (auto* handle : handles) EXPECT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
  EXPECT_TRUE(db->Close().ok());
  delete db;
}

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

inline domain::GlucoseSample GlucoseAt(int64_t at_ms, double mmol, domain::GlucoseTiming timing,
                                       domain::ReadingContext context = domain::ReadingContext::kSelfTest) {
  return domain::GlucoseSample{.measured_at = domain::EventTime{at_ms},
                               .mmol_per_l = mmol,
                               .timing = timing,
                               .station_id = "U07-G12-S1",
                               .device_id = "accu-chek-3",
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
  profile.policy.abnormal_systolic_mmhg = 135;
  profile.policy.abnormal_diastolic_mmhg = 85;
  profile.policy.ack_timeout_minutes = 20;
  profile.policy.renotify_interval_hours = 6;
  profile.policy.self_test_enrolled = true;
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
  state.glucose_window = {GlucoseAt(1'716'990'000'000, 7.4, GlucoseTiming::kFasting, ReadingContext::kSelfTest),
                          GlucoseAt(1'716'995'000'000, 12.3, GlucoseTiming::kRandom, ReadingContext::kPreShift),
                          GlucoseAt(1'716'999'000'000, 2.6, GlucoseTiming::kPostprandial2h, ReadingContext::kClinic),
                          GlucoseAt(1'717'000'000'000, 5.1, GlucoseTiming::kFasting, ReadingContext::kCheckup)};
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
    if (i % 2 == 1) episode.glucose_evidence = {state.glucose_window[0], state.glucose_window[2]};
    // Lifecycle fields, varied so that set and unset both round-trip.
    if (i % 2 == 1) {
      episode.acknowledged = true;
      episode.acked_by = Person{.id = "HM-3", .name = "王芳"};
      episode.acked_at = ProcessingTime{1'717'000'600'000 + static_cast<int64_t>(i)};
    }
    if (i % 3 == 0) episode.snoozed_until = ProcessingTime{1'717'100'000'000};
    if (i % 3 != 2) episode.next_deadline = ProcessingTime{1'717'100'000'000 + static_cast<int64_t>(i)};
    // Who was told: none (a record from before the history), or steps whose recipients change, repeat
    // the step before, and are nobody (no profile then).
    const Recipient manager{.id = "HM-3", .name = "王芳", .role = RecipientRole::kHealthManager};
    const Recipient supervisor{.id = "SUP-1", .name = "Chen Jun", .role = RecipientRole::kUnitSupervisor};
    const Recipient extra{.id = "DR-9", .name = "Dr. Liu", .role = RecipientRole::kExtra};
    const Recipient self{.id = "W001", .name = "张伟", .role = RecipientRole::kWorker};
    const int64_t told = 1'717'000'000'000 + static_cast<int64_t>(i) * 1000;
    if (i != 5) {
      episode.history.push_back({1, EscalationState::kOpen, levels[i % std::size(levels)],
                                 severities[i % std::size(severities)], ProcessingTime{told}, {self}});
    }
    if (i % 2 == 0) {
      episode.history.push_back({2, EscalationState::kEscalated, EscalationLevel::kUnitSupervisor, Severity::kCritical,
                                 ProcessingTime{told + 1'800'000}, {manager, supervisor, extra}});
      episode.history.push_back({static_cast<uint32_t>(i + 2), EscalationState::kRenotified,
                                 EscalationLevel::kUnitSupervisor, Severity::kCritical,
                                 ProcessingTime{told + 86'400'000}, {manager, supervisor, extra}});
    }
    if (i == 3) {
      episode.history.push_back({2, EscalationState::kRenotified, EscalationLevel::kHealthManager, Severity::kHigh,
                                 ProcessingTime{told + 60'000}, {}});
    }
    state.open.push_back(episode);
  }
  state.episodes_opened = 9;
  state.self_test_since = ProcessingTime{1'716'900'000'000};
  state.self_test_due = ProcessingTime{1'717'605'000'000};
  state.referrals_sent = {{Rule::kR1CriticalBp, ReferralUrgency::kUrgent, EventTime{1'717'000'400'000}},
                          {Rule::kR5Glucose, ReferralUrgency::kRoutine, EventTime{1'716'995'000'000}}};
  return state;
}

// A typed-test fixture holding one open store of `Impl` (MemoryImpl or RocksImpl), reopenable.
template <typename Impl>
class OpenedStore : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = impl_.Open();
    ASSERT_NE(store_, nullptr);
  }

  StateStore& store() { return *store_; }
  void Reopen() {
    store_ = impl_.Reopen(std::move(store_));
    ASSERT_NE(store_, nullptr);
  }

  Impl impl_;
  std::unique_ptr<StateStore> store_;
};

inline domain::WorkerState CountedState(uint64_t readings) {
  domain::WorkerState state;
  state.readings_accepted = readings;
  return state;
}

// The first index of each run a window is stored in, by the rule worker_parts.h states: a run starts
// at the first sample, at one kRunGapMs or more after the one before, at a sample whose (measured_at,
// ordinal) is a cut, and after kRunMax samples.
template <typename Sample>
std::vector<size_t> RunStarts(const std::vector<Sample>& window) {
  std::vector<size_t> starts;
  uint32_t ordinal = 0;
  for (size_t i = 0; i < window.size(); ++i) {
    ordinal = i > 0 && window[i].measured_at == window[i - 1].measured_at ? ordinal + 1 : 0;
    // As unsigned: the exact difference of an ascending pair, where the signed one could overflow.
    const uint64_t after_previous =
        i > 0 ? static_cast<uint64_t>(window[i].measured_at.ms) - static_cast<uint64_t>(window[i - 1].measured_at.ms)
              : 0;
    const bool gap = i > 0 && after_previous >= static_cast<uint64_t>(layout::kRunGapMs);
    if (starts.empty() || gap || i - starts.back() >= layout::kRunMax ||
        layout::RunCutBefore(window[i].measured_at.ms, ordinal)) {
      starts.push_back(i);
    }
  }
  return starts;
}

}  // namespace alertd::state::testing_support
