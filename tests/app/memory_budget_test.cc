// The memory budget's split, the prefetch bound it gives the consumer, and the state cache's estimate.
#include "engine/app/memory_budget.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace alertd::app {
namespace {

TEST(MemoryBudgetTest, TheSharesStayWithinTheBudgetAndLeaveRoomForTheRest) {
  for (const uint64_t mib : {kMinMemoryBudgetMiB, kDefaultMemoryBudgetMiB, uint64_t{4096}}) {
    const MemoryShares s = SplitMemoryBudget(mib << 20);
    EXPECT_EQ(s.budget, mib << 20);
    // The memtables are charged into the RocksDB cache, not beside it.
    EXPECT_LT(s.memtables, s.rocks_cache);
    EXPECT_GT(s.memtables, 0u);
    EXPECT_GT(s.restore, 0u);
    EXPECT_LE(s.rocks_cache + s.state_cache + s.prefetch + s.restore, s.budget / 100 * 90) << mib << " MiB";
  }
}

TEST(MemoryBudgetTest, PrefetchIsBoundedInBytesInRecordsAndPerFetch) {
  constexpr uint64_t kShare = 100 << 20;
  const auto props = PrefetchProperties(kShare);
  EXPECT_EQ(props.at("queued.max.messages.kbytes"), std::to_string(kShare / 2 / 1024));
  // A fortieth of the share per fetch and per partition; two fetches' worth, queued at ~5 times their
  // wire bytes, leave three quarters of the share to the queue.
  EXPECT_EQ(props.at("fetch.max.bytes"), std::to_string(kShare / 40));
  EXPECT_EQ(props.at("max.partition.fetch.bytes"), std::to_string(kShare / 40));
  EXPECT_EQ(props.at("queued.min.messages"), std::to_string((kShare - kShare / 40 * 10) / kQueuedRecordBytes));
  // librdkafka's floors: never so small that the engine waits on every fetch, never a fetch under
  // message.max.bytes. The queue keeps its floor when the fetches take the whole share.
  const auto tiny = PrefetchProperties(0);
  EXPECT_EQ(tiny.at("queued.max.messages.kbytes"), "1024");
  EXPECT_EQ(tiny.at("queued.min.messages"), "1000");
  EXPECT_EQ(tiny.at("fetch.max.bytes"), std::to_string(kMinFetchBytes));
  EXPECT_EQ(PrefetchProperties(SplitMemoryBudget(kMinMemoryBudgetMiB << 20).prefetch).at("max.partition.fetch.bytes"),
            std::to_string(kMinFetchBytes));
}

TEST(MemoryBudgetTest, EachConsumerTakesItsOwnShareAndTheOperatorsPropertiesWin) {
  const MemoryShares s = SplitMemoryBudget(kDefaultMemoryBudgetMiB << 20);
  const std::map<std::string, std::string> given = {{"security.protocol", "ssl"},
                                                    {"queued.max.messages.kbytes", "4096"}};
  const auto input = BudgetedConsumerProperties(s.prefetch, given);
  const auto restore = BudgetedConsumerProperties(s.restore, given);
  // Each bounded by its own share: the changelog's queue is not a second copy of the input's.
  EXPECT_EQ(input.at("queued.min.messages"), PrefetchProperties(s.prefetch).at("queued.min.messages"));
  EXPECT_EQ(restore.at("queued.min.messages"), PrefetchProperties(s.restore).at("queued.min.messages"));
  EXPECT_LT(std::stoul(restore.at("queued.min.messages")), std::stoul(input.at("queued.min.messages")) / 2);
  for (const auto* props : {&input, &restore}) {
    EXPECT_EQ(props->at("security.protocol"), "ssl");
    EXPECT_EQ(props->at("queued.max.messages.kbytes"), "4096");
  }
}

TEST(MemoryBudgetTest, AStateCountsItsSamplesAndTheirLongIds) {
  domain::WorkerState state;
  const std::size_t empty = ApproxBytes(state);
  EXPECT_EQ(empty, sizeof(domain::WorkerState));

  state.bp_window.resize(100);
  state.bp_window.shrink_to_fit();
  const std::size_t with_samples = ApproxBytes(state);
  EXPECT_EQ(with_samples, empty + 100 * sizeof(domain::BpSample));

  // Each copy of an id counts; ids shared with a recent sample count once.
  for (auto& s : state.bp_window) s.device_id = std::string(40, 'd');
  const std::size_t with_copies = ApproxBytes(state);
  EXPECT_GE(with_copies, with_samples + 100 * 41);
  for (std::size_t i = 1; i < state.bp_window.size(); ++i) state.bp_window[i].device_id.ShareWith(state.bp_window[i - 1].device_id);
  EXPECT_EQ(ApproxBytes(state), with_samples + state.bp_window[0].device_id.CopyBytes());
  EXPECT_LT(ApproxBytes(state), with_samples + 100);
  // Two monitors taking turns: two copies.
  for (std::size_t i = 0; i < state.bp_window.size(); ++i) state.bp_window[i].device_id = std::string(40, i % 2 ? 'a' : 'b');
  for (std::size_t i = 2; i < state.bp_window.size(); ++i) state.bp_window[i].device_id.ShareWith(state.bp_window[i - 2].device_id);
  EXPECT_EQ(ApproxBytes(state), with_samples + 2 * state.bp_window[0].device_id.CopyBytes());
  // More monitors taking turns than the estimate remembers: each copy still counts at least once.
  constexpr std::size_t kMonitors = 4 * domain::kIdsSharedWithin;
  for (std::size_t i = 0; i < state.bp_window.size(); ++i) {
    state.bp_window[i].device_id = std::string(40, static_cast<char>('A' + i % kMonitors));
  }
  for (std::size_t i = kMonitors; i < state.bp_window.size(); ++i) {
    state.bp_window[i].device_id.ShareWith(state.bp_window[i - kMonitors].device_id);
  }
  EXPECT_GE(ApproxBytes(state), with_samples + kMonitors * state.bp_window[0].device_id.CopyBytes());

  domain::OpenEpisode episode;
  episode.evidence.resize(10);
  episode.evidence.shrink_to_fit();
  state.open.push_back(episode);
  EXPECT_GE(ApproxBytes(state), with_samples + 10 * sizeof(domain::BpSample));
}

}  // namespace
}  // namespace alertd::app
