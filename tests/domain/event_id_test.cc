// Deterministic ids (StableDigest, EpisodeId, EventId) and the short names of the domain's enums.
#include "engine/domain/event_id.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "domain_test_support.h"
#include "engine/domain/types.h"

namespace alertd::domain {
namespace {

using test_support::IsLowerHex32;

// ---------------------------------------------------------------------------------------------------
// Format and stability

struct DigestRow {
  const char* name;
  std::string input;
  friend void PrintTo(const DigestRow& r, std::ostream* os) { *os << r.name; }
};

class StableDigestTest : public ::testing::TestWithParam<DigestRow> {};

TEST_P(StableDigestTest, Is32LowercaseHexAndStable) {
  const DigestRow& row = GetParam();
  const std::string d = StableDigest(row.input);
  EXPECT_TRUE(IsLowerHex32(d)) << d;
  EXPECT_EQ(StableDigest(row.input), d);
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, StableDigestTest,
    ::testing::Values(DigestRow{"empty", ""}, DigestRow{"one_byte", "a"}, DigestRow{"word", "alertd"},
                      DigestRow{"embedded_nul", std::string("a\0b", 3)}, DigestRow{"utf8", "张伟"},
                      DigestRow{"long", std::string(10000, 'x')}),
    test_support::RowName());

TEST(StableDigestTest, DifferentInputsGiveDifferentDigests) {
  const std::vector<std::string> inputs = {"",   "a",  "b",  "ab", "ba", "aa", std::string("\0", 1),
                                           "w-1001|1|1", "w-1001|1|2", "w-1001|2|1", "w-1002|1|1"};
  std::set<std::string> digests;
  for (const std::string& in : inputs) digests.insert(StableDigest(in));
  EXPECT_EQ(digests.size(), inputs.size());
}

// Regression guard: these values were computed once from the implementation (first build of
// engine/domain/event_id.cc, not textbook FNV-1a-128, which gives b3e3cdea... for "alertd"). If one
// changes, ids already emitted to the alerts topic stop matching their replay: change only on purpose.
TEST(StableDigestTest, PinnedValuesDoNotChange) {
  EXPECT_EQ(StableDigest("alertd"), "8a2d970dbac14c4239d0c634e14f4faf");
  const std::string episode = EpisodeId(WorkerId{"w-1001"}, Rule::kR1CriticalBp, 1);
  EXPECT_EQ(episode, "414bb005e8d2c9702cc6de1d71b09e66");
  EXPECT_EQ(EventId(episode, 1), "31d1cfbe05af86dca66c08fdfba031fe");
}

// ---------------------------------------------------------------------------------------------------
// EpisodeId and EventId

struct EpisodeInput {
  const char* name;
  std::string worker;
  Rule rule;
  uint64_t number;
  friend void PrintTo(const EpisodeInput& r, std::ostream* os) { *os << r.name; }
};

TEST(EpisodeIdTest, EachInputGivesItsOwnId) {
  // Pairs like ("w-1", 12) / ("w-11", 2) catch ids built by plain concatenation.
  const std::vector<EpisodeInput> rows = {
      {"base", "w-1001", Rule::kR1CriticalBp, 1},
      {"other_worker", "w-1002", Rule::kR1CriticalBp, 1},
      {"other_rule", "w-1001", Rule::kR2SustainedHypertension, 1},
      {"other_number", "w-1001", Rule::kR1CriticalBp, 2},
      {"concat_a", "w-1", Rule::kR1CriticalBp, 12},
      {"concat_b", "w-11", Rule::kR1CriticalBp, 2},
      {"big_number", "w-1001", Rule::kR1CriticalBp, UINT64_MAX},
      {"empty_worker", "", Rule::kR1CriticalBp, 1},
  };
  std::set<std::string> ids;
  for (const EpisodeInput& row : rows) {
    SCOPED_TRACE(row.name);
    const std::string id = EpisodeId(WorkerId{row.worker}, row.rule, row.number);
    EXPECT_TRUE(IsLowerHex32(id)) << id;
    EXPECT_EQ(EpisodeId(WorkerId{row.worker}, row.rule, row.number), id);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), rows.size());
}

TEST(EventIdTest, EachEpisodeAndSequenceGivesItsOwnId) {
  const std::string e1 = EpisodeId(WorkerId{"w-1001"}, Rule::kR1CriticalBp, 1);
  const std::string e2 = EpisodeId(WorkerId{"w-1001"}, Rule::kR1CriticalBp, 2);
  std::set<std::string> ids;
  int made = 0;
  for (const std::string& episode : {e1, e2}) {
    for (uint32_t seq = 1; seq <= 12; ++seq) {
      const std::string id = EventId(episode, seq);
      EXPECT_TRUE(IsLowerHex32(id)) << id;
      EXPECT_EQ(EventId(episode, seq), id);
      EXPECT_NE(id, episode);
      ids.insert(id);
      ++made;
    }
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(made));
}

// ---------------------------------------------------------------------------------------------------
// Names: used as metrics labels, so each must be non-empty and distinct within its enum.

template <typename Enum>
void ExpectDistinctNames(const std::vector<Enum>& values) {
  std::set<std::string> names;
  for (Enum v : values) {
    const char* n = Name(v);
    ASSERT_NE(n, nullptr) << static_cast<int>(v);
    EXPECT_GT(std::strlen(n), 0u) << static_cast<int>(v);
    names.insert(n);
  }
  EXPECT_EQ(names.size(), values.size());
}

TEST(NamesTest, EveryEnumeratorHasADistinctName) {
  ExpectDistinctNames<BpCategory>({BpCategory::kNormal, BpCategory::kHighNormal, BpCategory::kGrade1,
                                   BpCategory::kGrade2, BpCategory::kGrade3});
  ExpectDistinctNames<Rule>({Rule::kR1CriticalBp, Rule::kR2SustainedHypertension, Rule::kR3SelfTestMissed,
                             Rule::kR4PreShiftFitness, Rule::kR5Glucose, Rule::kR6FocusTracking});
  ExpectDistinctNames<Severity>({Severity::kInfo, Severity::kHigh, Severity::kUrgent, Severity::kCritical});
  ExpectDistinctNames<EscalationLevel>(
      {EscalationLevel::kWorker, EscalationLevel::kHealthManager, EscalationLevel::kUnitSupervisor});
  ExpectDistinctNames<EscalationState>({EscalationState::kOpen, EscalationState::kEscalated,
                                        EscalationState::kRenotified, EscalationState::kResolved});
  ExpectDistinctNames<RejectReason>({RejectReason::kUndecodable, RejectReason::kMissingWorkerId,
                                     RejectReason::kKeyMismatch, RejectReason::kNoMeasurement,
                                     RejectReason::kImpossibleValue, RejectReason::kFutureTimestamp,
                                     RejectReason::kTooOld, RejectReason::kMissingTimestamp,
                                     RejectReason::kTooLarge, RejectReason::kUnknownValue});
  ExpectDistinctNames<ReadingContext>({ReadingContext::kSelfTest, ReadingContext::kPreShift,
                                       ReadingContext::kCheckup, ReadingContext::kClinic});
}

}  // namespace
}  // namespace alertd::domain
