// The changelog's record format and the restore's reading of it, without Kafka: which changes a
// restore applies and which it drops, for commits, torn commits, fences and fenced-off writers.
#include "engine/app/changelog.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace alertd::app {
namespace {

using Kind = ChangelogRecord::Kind;

ChangelogRecord Put(uint32_t epoch, const std::string& key, const std::string& value = "v") {
  return {Kind::kChange, epoch, state::Change{state::Family::kWorkers, key, value}, 0};
}
ChangelogRecord Commit(uint32_t epoch) { return {Kind::kCommit, epoch, {}, 0}; }
ChangelogRecord Fence(uint32_t epoch) { return {Kind::kFence, epoch, {}, epoch}; }

std::vector<std::string> Keys(const std::vector<state::Change>& changes) {
  std::vector<std::string> keys;
  for (const auto& c : changes) keys.push_back(c.key);
  return keys;
}

std::vector<std::string> DroppedKeys(const ChangelogReplay& replay) {
  std::vector<std::string> keys;
  for (const auto& [family, key] : replay.dropped_keys()) keys.push_back(key);
  return keys;
}

struct ReplayCase {
  const char* name;
  uint32_t stored_epoch;
  std::vector<ChangelogRecord> records;  // at offsets 0, 1, 2...
  std::vector<std::string> applied;      // keys, in order
  std::optional<int64_t> next_offset;    // after the last applied commit record
  std::vector<std::string> dropped;      // keys, sorted
  uint32_t epoch;                        // at the end
};

class ReplayTest : public ::testing::TestWithParam<ReplayCase> {};

TEST_P(ReplayTest, AppliesCompleteCommitsOfTheLatestOwnerAndDropsTheRest) {
  const ReplayCase& c = GetParam();
  ChangelogReplay replay(c.stored_epoch);
  int64_t offset = 0;
  for (const ChangelogRecord& r : c.records) replay.Add(r, offset++);
  replay.End();
  std::vector<state::Change> changes;
  const std::optional<int64_t> next = replay.TakeReady(changes);
  EXPECT_EQ(Keys(changes), c.applied);
  EXPECT_EQ(next, c.next_offset);
  EXPECT_EQ(DroppedKeys(replay), c.dropped);
  EXPECT_EQ(replay.epoch(), c.epoch);
  // Taken once.
  EXPECT_EQ(replay.TakeReady(changes), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(
    Changelog, ReplayTest,
    ::testing::Values(
        ReplayCase{"two_commits", 1, {Put(1, "a"), Commit(1), Put(1, "b"), Put(1, "c"), Commit(1)},
                   {"a", "b", "c"}, 5, {}, 1},
        ReplayCase{"nothing", 3, {}, {}, std::nullopt, {}, 3},
        // A crash between producing a commit's changes and its commit record: never applied.
        ReplayCase{"torn_tail", 1, {Put(1, "a"), Commit(1), Put(1, "b")}, {"a"}, 2, {"b"}, 1},
        // The next owner's fence ends the torn commit before it.
        ReplayCase{"torn_then_fence", 1,
                   {Put(1, "a"), Put(1, "b"), Fence(2), Put(2, "c"), Commit(2)}, {"c"}, 5, {"a", "b"}, 2},
        // A paused owner wakes up after the fence and writes under its old epoch: ignored, commit
        // record and all, even interleaved with the new owner's commit.
        ReplayCase{"zombie_after_fence", 1,
                   {Put(1, "a"), Commit(1), Fence(2), Put(2, "b"), Put(1, "z"), Commit(1), Commit(2)},
                   {"a", "b"}, 7, {"z"}, 2},
        // Records of a newer owner whose fence compaction removed: they end what came before.
        ReplayCase{"newer_epoch_without_fence", 1, {Put(1, "a"), Put(3, "b"), Commit(3)}, {"b"}, 3, {"a"}, 3},
        // A store restored up to epoch 4 ignores what an older owner wrote after its checkpoint.
        ReplayCase{"older_than_stored", 4, {Put(3, "x"), Commit(3), Put(4, "a"), Commit(4)}, {"a"}, 4, {"x"}, 4},
        // A commit tried again after the broker confirmed only part of it: its changes twice, in
        // order, then one commit record; applying them in order ends in the same state.
        ReplayCase{"retried_commit", 2, {Put(2, "a"), Put(2, "a"), Put(2, "b"), Commit(2)}, {"a", "a", "b"}, 4, {}, 2},
        // A fence alone (a takeover with nothing to repair) applies nothing and raises the epoch.
        ReplayCase{"fence_then_empty_commit", 1, {Fence(5), Commit(5)}, {}, 2, {}, 5}),
    [](const ::testing::TestParamInfo<ReplayCase>& param) { return std::string(param.param.name); });

TEST(ReplayTest, ReadyChangesComeOutInBatchesWithTheOffsetAfterTheirLastCommit) {
  ChangelogReplay replay(0);
  replay.Add(Put(1, "a"), 10);
  replay.Add(Commit(1), 11);
  std::vector<state::Change> changes;
  EXPECT_EQ(replay.TakeReady(changes), 12);
  EXPECT_EQ(Keys(changes), std::vector<std::string>{"a"});
  replay.Add(Put(1, "b"), 12);
  EXPECT_EQ(replay.TakeReady(changes), std::nullopt) << "b's commit has not been read";
  replay.Add(Commit(1), 13);
  EXPECT_EQ(replay.TakeReady(changes), 14);
  EXPECT_EQ(Keys(changes), std::vector<std::string>{"b"});
}

TEST(ChangelogRecordTest, KeysAndValuesRoundTrip) {
  const state::Change put{state::Family::kTimers, std::string("\x00\x00\x00\x03tk", 6), "value"};
  const std::string key = ChangelogKey(put);
  EXPECT_EQ(key[0], static_cast<char>(state::Family::kTimers));
  const std::string_view value = "value";
  const std::string epoch = EncodeEpoch(0x01020304);
  auto record = DecodeChangelogRecord(key, &value, epoch);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->kind, Kind::kChange);
  EXPECT_EQ(record->epoch, 0x01020304u);
  EXPECT_EQ(record->change, put);

  auto deletion = DecodeChangelogRecord(key, nullptr, epoch);
  ASSERT_TRUE(deletion.ok());
  EXPECT_EQ(deletion->change.value, std::nullopt) << "a null value is a deleted key";

  auto no_header = DecodeChangelogRecord(key, &value, std::nullopt);
  ASSERT_TRUE(no_header.ok());
  EXPECT_EQ(no_header->epoch, 0u);
}

// Every family a commit writes to a partition goes to its changelog, the worker parts of schema 4 too;
// the byte after the last family is no family.
TEST(ChangelogRecordTest, EveryFamilyOfAPartitionDecodesAndNoOtherDoes) {
  const std::string_view value = "v";
  for (state::Family family : {state::Family::kWorkers, state::Family::kOffsets, state::Family::kOutbox,
                               state::Family::kTimers, state::Family::kSamples}) {
    const state::Change change{family, std::string("\x00\x00\x00\x01k", 5), std::string(value)};
    auto record = DecodeChangelogRecord(ChangelogKey(change), &value, EncodeEpoch(1));
    ASSERT_TRUE(record.ok()) << record.status();
    EXPECT_EQ(record->change, change);
  }
  const std::string beyond(1, static_cast<char>(static_cast<uint8_t>(state::Family::kSamples) + 1));
  EXPECT_EQ(DecodeChangelogRecord(beyond + "k", &value, std::nullopt).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ChangelogRecordTest, CommitAndFenceRecords) {
  auto commit = DecodeChangelogRecord(kCommitKey, nullptr, EncodeEpoch(7));
  ASSERT_TRUE(commit.ok());
  EXPECT_EQ(commit->kind, Kind::kCommit);
  EXPECT_EQ(commit->epoch, 7u);
  const std::string fence_value = EncodeEpoch(9);
  const std::string_view fence_view = fence_value;
  auto fence = DecodeChangelogRecord(kFenceKey, &fence_view, EncodeEpoch(9));
  ASSERT_TRUE(fence.ok());
  EXPECT_EQ(fence->kind, Kind::kFence);
  EXPECT_EQ(fence->fence_epoch, 9u);
}

TEST(ChangelogRecordTest, RecordsNoAlertdWritesAreRefusedWithTheReason) {
  const std::string_view value = "v";
  const std::string_view short_value = "abc";
  struct Bad {
    std::string key;
    const std::string_view* value;
    std::optional<std::string_view> header;
    std::string says;
  };
  const std::vector<Bad> cases = {
      {std::string(1, '\x07') + "k", &value, std::nullopt, "column family byte"},
      {"", &value, std::nullopt, "column family byte"},
      {std::string(kFenceKey), nullptr, std::nullopt, "4-byte epoch"},
      {std::string(kFenceKey), &short_value, std::nullopt, "4-byte epoch"},
      {std::string(1, '\x00') + "k", &value, std::string_view("12345"), "not 4"},
  };
  for (const Bad& b : cases) {
    auto record = DecodeChangelogRecord(b.key, b.value, b.header);
    ASSERT_FALSE(record.ok()) << b.says;
    EXPECT_EQ(record.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(record.status().message()).find(b.says), std::string::npos) << record.status();
  }
}

}  // namespace
}  // namespace alertd::app
