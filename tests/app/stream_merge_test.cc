// StreamMerge without a broker: what goes next, what waits, and the buffer bound.
#include "engine/app/stream_merge.h"

#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace alertd::app {
namespace {

// One step of a scenario: push a record, note an input's end, or drain what may go.
struct Op {
  char what;  // 'p' push, 'e' end, 'd' drain
  int32_t partition = 0;
  int input = 0;
  int64_t ts = 0;
  std::string id;  // push: the record; drain: the ids expected, space-separated ("" = nothing may go)
};
Op Push(int32_t p, int input, int64_t ts, std::string id) { return {'p', p, input, ts, std::move(id)}; }
Op End(int32_t p, int input) { return {'e', p, input, 0, ""}; }
Op Drain(std::string expected) { return {'d', 0, 0, 0, std::move(expected)}; }

struct Scenario {
  std::string name;
  std::vector<std::pair<int32_t, int>> inputs;  // declared (partition, input)
  std::vector<Op> ops;
};

void PrintTo(const Scenario& s, std::ostream* os) { *os << s.name; }

std::string DrainAll(StreamMerge<std::string>& merge) {
  std::ostringstream out;
  while (auto next = merge.Pop()) out << (out.tellp() > 0 ? " " : "") << next->record;
  return out.str();
}

class StreamMergeScenarioTest : public ::testing::TestWithParam<Scenario> {};

TEST_P(StreamMergeScenarioTest, RecordsGoInTimestampOrderOnceNoInputCanOvertake) {
  StreamMerge<std::string> merge(100);
  for (auto [p, input] : GetParam().inputs) merge.AddInput(p, input);
  int step = 0;
  for (const Op& op : GetParam().ops) {
    ++step;
    if (op.what == 'p') {
      merge.Push(op.partition, op.input, op.ts, op.id);
    } else if (op.what == 'e') {
      merge.MarkEnd(op.partition, op.input);
    } else {
      EXPECT_EQ(DrainAll(merge), op.id) << "step " << step;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Scenarios, StreamMergeScenarioTest,
    ::testing::Values(
        Scenario{"WaitsForEveryInputThenMergesByTimestamp",
                 {{0, 0}, {0, 1}},
                 {Push(0, 1, 30, "r30"), Push(0, 1, 10, "r10"), Drain(""),  // profiles may still bring older
                  Push(0, 0, 20, "p20"), Drain("p20"),                      // r30 is older than nothing yet
                  End(0, 0), Drain("r30 r10")}},                            // within a topic: arrival order
        Scenario{"AnEndedInputDoesNotHoldTheOthers",
                 {{0, 0}, {0, 1}, {0, 2}, {0, 3}},
                 {End(0, 0), End(0, 2), End(0, 3), Push(0, 1, 5, "r5"), Drain("r5"), Push(0, 1, 6, "r6"),
                  Drain("r6")}},
        Scenario{"ARecordAfterTheEndMakesTheInputWaitForItsNextEnd",
                 {{0, 0}, {0, 1}},
                 {End(0, 0), End(0, 1), Push(0, 0, 50, "p50"), Drain("p50"),  // processed as it comes
                  Push(0, 1, 70, "r70"), Drain(""),  // profiles had news since their end: wait for it
                  Push(0, 0, 60, "p60"), Drain("p60"), End(0, 0), Drain("r70")}},
        Scenario{"EqualTimestampsGoToTheLowerInputFirst",
                 {{0, 0}, {0, 1}},
                 {Push(0, 1, 10, "r10"), Push(0, 0, 10, "p10"), End(0, 0), End(0, 1), Drain("p10 r10")}},
        Scenario{"PartitionsWaitIndependently",
                 {{0, 0}, {0, 1}, {1, 0}, {1, 1}},
                 {Push(0, 1, 10, "a"), Push(1, 1, 5, "b"), End(1, 0), Drain("b"), Push(0, 0, 20, "c"),
                  Drain("a"), End(0, 1), Drain("c")}},
        Scenario{"UndeclaredInputsNeverWait",
                 {{0, 1}},
                 {Push(0, 1, 10, "r10"), Drain("r10"), End(0, 1), Push(0, 3, 1, "ack"), Drain("ack")}},
        Scenario{"NoTimestampGoesFirst",
                 {{0, 0}, {0, 1}},
                 {Push(0, 0, 40, "p40"), Push(0, 1, -1, "r?"), Drain("r?"), End(0, 1), Drain("p40")}}),
    [](const ::testing::TestParamInfo<Scenario>& p) { return p.param.name; });

TEST(StreamMergeTest, AFullInputIsPausedAndResumedAtHalf) {
  StreamMerge<std::string> merge(4);
  merge.AddInput(0, 0);
  merge.AddInput(0, 1);
  std::vector<bool> pause;
  for (int i = 0; i < 5; ++i) pause.push_back(merge.Push(0, 1, i, "r" + std::to_string(i)));
  EXPECT_EQ(pause, (std::vector<bool>{false, false, false, true, false}));  // once, at the bound
  EXPECT_EQ(merge.buffered(), 5u);
  EXPECT_FALSE(merge.Pop()) << "profiles may still bring an older record";
  merge.MarkEnd(0, 0);
  std::vector<bool> resume;
  while (auto next = merge.Pop()) resume.push_back(next->resume_input);
  EXPECT_EQ(resume, (std::vector<bool>{false, false, true, false, false}));  // at 2 of 4 left
  EXPECT_FALSE(merge.Push(0, 1, 9, "r9"));
}

TEST(StreamMergeTest, ClearReleasesEveryBufferedRecord) {
  auto alive = std::make_shared<int>(0);
  StreamMerge<std::shared_ptr<int>> merge(10);
  merge.AddInput(0, 0);
  merge.AddInput(0, 1);
  merge.Push(0, 1, 1, alive);
  merge.Push(0, 1, 2, alive);
  EXPECT_EQ(alive.use_count(), 3);
  merge.Clear();
  EXPECT_EQ(alive.use_count(), 1);
  EXPECT_EQ(merge.buffered(), 0u);
  // After a new assignment the partition waits for its inputs again.
  merge.AddInput(0, 0);
  merge.AddInput(0, 1);
  merge.Push(0, 1, 3, alive);
  EXPECT_FALSE(merge.Pop());
}

}  // namespace
}  // namespace alertd::app

namespace alertd::app {
namespace {

// An end the consumer reported before a record of another input was written is stale once that
// record arrives: the caller knows (from the fetch's high watermark) that the ended input has more,
// and the record waits for it.
TEST(StreamMergeTest, AStaleEndReportHoldsBackALaterRecordOfAnotherInput) {
  bool shifts_has_more = true;
  StreamMerge<std::string> merge(10, [&](int32_t, int input) { return input != 2 || !shifts_has_more; });
  merge.AddInput(0, 1);  // readings
  merge.AddInput(0, 2);  // shifts
  merge.MarkEnd(0, 2);
  merge.Push(0, 1, 100, "reading@100");
  EXPECT_EQ(DrainAll(merge), "") << "the clock-in written before the reading is still on its way";
  merge.Push(0, 2, 50, "clock-in@50");
  EXPECT_EQ(DrainAll(merge), "clock-in@50");
  merge.MarkEnd(0, 2);
  shifts_has_more = false;
  merge.MarkEnd(0, 2);  // the end, reported again, marks the partition to be looked at
  EXPECT_EQ(DrainAll(merge), "reading@100");
}

}  // namespace
}  // namespace alertd::app
