// PartitionBook: which keys are done after a restore, and which escalation offset may be committed.
#include "engine/notifyd/partition_book.h"

#include <gtest/gtest.h>

namespace alertd::notifyd {
namespace {

namespace pb = healthgrid::v1;

pb::Delivery Outcome(const std::string& key, pb::DeliveryStatus status, int64_t at_ms = 1000) {
  pb::Delivery d;
  d.set_delivery_key(key);
  d.set_status(status);
  d.set_at_ms(at_ms);
  return d;
}

TEST(PartitionBook, RestoredSentFailedAndSkippedKeysAreDoneAndNeverClaimedAgain) {
  PartitionBook book(1'000'000);
  book.Record(Outcome("a", pb::DELIVERY_SENT));
  book.Record(Outcome("b", pb::DELIVERY_FAILED));
  book.Record(Outcome("c", pb::DELIVERY_SKIPPED));
  EXPECT_FALSE(book.Claim("a"));
  EXPECT_FALSE(book.Claim("b"));
  EXPECT_FALSE(book.Claim("c"));
  EXPECT_TRUE(book.Claim("d"));
  EXPECT_FALSE(book.Claim("d")) << "a duplicate event claims nothing while the first is under way";
}

TEST(PartitionBook, HeldKeysComeBackUntilAFinalOutcomeFollows) {
  PartitionBook book(1'000'000);
  book.Record(Outcome("quiet", pb::DELIVERY_HELD));
  book.Record(Outcome("quiet-then-sent", pb::DELIVERY_HELD));
  book.Record(Outcome("quiet-then-sent", pb::DELIVERY_SENT));
  ASSERT_EQ(book.Held().size(), 1u);
  EXPECT_EQ(book.Held()[0].delivery_key(), "quiet");
  EXPECT_FALSE(book.Claim("quiet")) << "a held key is scheduled from its record, not claimed again";
}

TEST(PartitionBook, AHeldRecordAfterTheFinalOneDoesNotReopenTheKey) {
  PartitionBook book(1'000'000);
  book.Record(Outcome("k", pb::DELIVERY_SENT));
  book.Record(Outcome("k", pb::DELIVERY_HELD));
  EXPECT_TRUE(book.Held().empty());
  EXPECT_TRUE(book.Done("k"));
}

TEST(PartitionBook, NothingToCommitBeforeAnythingIsConsumed) {
  PartitionBook book(1'000'000);
  EXPECT_EQ(book.CommitPosition(), std::nullopt);
}

TEST(PartitionBook, CommitStopsAtTheLowestUnsettledOffset) {
  PartitionBook book(1'000'000);
  book.Consumed(10, 2);
  book.Consumed(11, 0);  // a duplicate: nothing to send
  book.Consumed(12, 1);
  EXPECT_EQ(book.CommitPosition(), 10);
  book.Settle(12);
  EXPECT_EQ(book.CommitPosition(), 10) << "a later offset's outcome does not release an earlier one";
  book.Settle(10);
  EXPECT_EQ(book.CommitPosition(), 10) << "offset 10 still has one delivery without a record";
  book.Settle(10);
  EXPECT_EQ(book.CommitPosition(), 13);
}

TEST(PartitionBook, SettlingAnUnknownOffsetChangesNothing) {
  PartitionBook book(1'000'000);
  book.Consumed(5, 1);
  book.Settle(4);
  book.Settle(6);
  EXPECT_EQ(book.CommitPosition(), 5);
}

TEST(PartitionBook, EvictForgetsDoneKeysOlderThanTheHorizonOnly) {
  PartitionBook book(/*dedupe_horizon_ms=*/100);
  book.Record(Outcome("old", pb::DELIVERY_SENT, 1000));
  book.Record(Outcome("new", pb::DELIVERY_SENT, 1050));
  book.Evict(1120);
  EXPECT_FALSE(book.Done("old"));
  EXPECT_TRUE(book.Done("new"));
  EXPECT_EQ(book.done_keys(), 1u);
}

}  // namespace
}  // namespace alertd::notifyd
