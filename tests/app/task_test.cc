// The task with the commit window and the outbox on the in-memory store, no broker: what one record
// leaves in the next commit.
#include "engine/app/task.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "engine/app/commit_window.h"
#include "engine/app/log_limiter.h"
#include "engine/app/outbox.h"
#include "engine/domain/clock.h"
#include "engine/domain/rulebook.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/state/store.h"
#include "health.pb.h"
#include "tests/support/records.h"

namespace alertd::app {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int32_t kPartition = 3;

Topics TestTopics() {
  return {"readings", "worker-profiles", "shifts", "escalation-acks", "escalations", "dead-letters", "referrals"};
}

// The task, its window and outbox on a fresh memory store; every commit's batch is kept.
class TaskTest : public ::testing::Test {
 protected:
  // Processes one record of `topic` at offset `offset` of kPartition, as the engine loop does.
  void Feed(const std::string& topic, const std::string& key, const std::string& value, int64_t offset) {
    kafka::RawRecord raw;
    raw.topic = topic;
    raw.partition = kPartition;
    raw.offset = offset;
    raw.key = key;
    raw.value = value.data();
    raw.value_len = value.size();
    task_.Process(raw, {kNow});
    window_.Consumed({topic, kPartition}, offset + 1);
  }

  state::CommitBatch CommitOne() {
    committed_.clear();
    EXPECT_TRUE(window_.CommitNow().ok());
    EXPECT_EQ(committed_.size(), 1u);
    return committed_.empty() ? state::CommitBatch{} : committed_.front();
  }

  std::unique_ptr<state::StateStore> store_ = state::NewMemoryStore();
  metrics::EngineMetrics metrics_;
  domain::ManualClock clock_{{kNow}};
  LogLimiter log_limiter_;
  domain::Rulebook rules_{domain::Policy{}};
  std::vector<state::CommitBatch> committed_;
  CommitWindow window_{*store_, metrics_, 1 << 20, [this](const state::CommitBatch& b) { committed_.push_back(b); }};
  Outbox outbox_{TestTopics(), window_, metrics_, clock_, log_limiter_};
  Task task_{TestTopics(), rules_, window_, outbox_, metrics_, log_limiter_};
};

TEST_F(TaskTest, CriticalReadingOfANewWorkerCommitsItsStateOffsetEscalationAndAckDeadline) {
  Feed("readings", "W1", testing::MakeBp("W1", kNow - 60'000, 185, 100).SerializeAsString(), 41);
  const state::CommitBatch batch = CommitOne();

  const state::WorkerKey key{kPartition, domain::WorkerId{"W1"}};
  ASSERT_EQ(batch.workers.size(), 1u);
  EXPECT_EQ(batch.workers[0].first, key);
  ASSERT_TRUE(batch.workers[0].second.has_value());
  EXPECT_EQ(batch.workers[0].second->readings_accepted, 1u);

  ASSERT_EQ(batch.next_offsets.size(), 1u);
  EXPECT_EQ(batch.next_offsets[0].first, (state::InputPosition{"readings", kPartition}));
  EXPECT_EQ(batch.next_offsets[0].second, 42);

  std::vector<healthgrid::v1::Escalation> escalations;
  for (const state::OutboxEntry& e : batch.outbox_put) {
    EXPECT_EQ(e.source_partition, kPartition);
    EXPECT_EQ(e.key, "W1");
    if (e.topic != "escalations") continue;
    ASSERT_TRUE(escalations.emplace_back().ParseFromString(e.value));
  }
  ASSERT_EQ(escalations.size(), 1u);
  EXPECT_EQ(escalations[0].rule(), healthgrid::v1::R1_CRITICAL_BP);
  EXPECT_EQ(batch.outbox_put.front().seq, 1u);  // the fresh store's first outbox sequence

  ASSERT_EQ(batch.timers_put.size(), 1u);
  EXPECT_EQ(batch.timers_put[0].partition, kPartition);
  EXPECT_EQ(batch.timers_put[0].worker, key.worker);
  EXPECT_EQ(batch.timers_put[0].rule, domain::Rule::kR1CriticalBp);
  EXPECT_EQ(batch.timers_put[0].kind, domain::TimerKind::kAckTimeout);
  EXPECT_TRUE(batch.timers_delete.empty());

  // And the store holds exactly that.
  auto stored = store_->LoadWorker(key);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, batch.workers[0].second);
  auto outbox = store_->LoadOutbox();
  ASSERT_TRUE(outbox.ok());
  EXPECT_EQ(*outbox, batch.outbox_put);
}

TEST_F(TaskTest, RejectedReadingLeavesNoWorkerOnlyADeadLetterAndTheOffset) {
  const int64_t ten_days = 10 * domain::kDayMs;
  Feed("readings", "W2", testing::MakeBp("W2", kNow + ten_days, 130, 85).SerializeAsString(), 7);
  EXPECT_EQ(window_.dirty_workers(), 0u);  // refused before the worker's state was looked at
  const state::CommitBatch batch = CommitOne();

  EXPECT_TRUE(batch.workers.empty());
  ASSERT_EQ(batch.outbox_put.size(), 1u);
  EXPECT_EQ(batch.outbox_put[0].topic, "dead-letters");
  ASSERT_EQ(batch.next_offsets.size(), 1u);
  EXPECT_EQ(batch.next_offsets[0].second, 8);
  EXPECT_TRUE(batch.timers_put.empty());
  auto stored = store_->LoadWorker({kPartition, domain::WorkerId{"W2"}});
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->has_value());
}

TEST_F(TaskTest, AckForAnUnknownWorkerLeavesNothingToStore) {
  healthgrid::v1::EscalationAck ack;
  ack.set_worker_id("W9");
  ack.set_rule(healthgrid::v1::R1_CRITICAL_BP);
  ack.set_action(healthgrid::v1::ACKNOWLEDGE);
  ack.set_at_ms(kNow);
  Feed("escalation-acks", "W9", ack.SerializeAsString(), 0);
  EXPECT_EQ(window_.dirty_workers(), 1u);  // looked at, left as new
  const state::CommitBatch batch = CommitOne();

  EXPECT_TRUE(batch.workers.empty());
  EXPECT_TRUE(batch.outbox_put.empty());
  EXPECT_TRUE(batch.timers_put.empty());
  ASSERT_EQ(batch.next_offsets.size(), 1u);  // the offset still moves
  auto stored = store_->LoadWorker({kPartition, domain::WorkerId{"W9"}});
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->has_value());
}

TEST_F(TaskTest, AnAckDeadlineThatFiresClimbsAndReplacesItself) {
  Feed("readings", "W1", testing::MakeBp("W1", kNow - 60'000, 185, 100).SerializeAsString(), 0);
  const domain::Timer deadline = CommitOne().timers_put.at(0);

  task_.FireTimer(deadline, deadline.fire_at);
  const state::CommitBatch batch = CommitOne();
  EXPECT_EQ(batch.timers_delete, std::vector<domain::Timer>{deadline});
  for (const domain::Timer& t : batch.timers_put) EXPECT_NE(t, deadline);
  std::vector<healthgrid::v1::Escalation> climbed;
  for (const state::OutboxEntry& e : batch.outbox_put) {
    if (e.topic != "escalations") continue;
    ASSERT_TRUE(climbed.emplace_back().ParseFromString(e.value));
  }
  ASSERT_EQ(climbed.size(), 1u);
  EXPECT_EQ(climbed[0].rule(), healthgrid::v1::R1_CRITICAL_BP);
  EXPECT_GT(climbed[0].sequence(), 1u);
}

}  // namespace
}  // namespace alertd::app
