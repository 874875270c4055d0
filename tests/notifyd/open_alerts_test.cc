// OpenAlerts: an episode's alert is posted again every interval until a RESOLVED event is delivered.
#include "engine/notifyd/open_alerts.h"

#include <gtest/gtest.h>

namespace alertd::notifyd {
namespace {

namespace pb = healthgrid::v1;

DeliveryJob Delivered(const std::string& episode, uint32_t sequence, pb::EscalationState state,
                      const std::string& recipient = "HM0012", int32_t partition = 0) {
  DeliveryJob job;
  job.partition = partition;
  job.channel = "am";
  job.event.set_episode_id(episode);
  job.event.set_sequence(sequence);
  job.event.set_state(state);
  job.recipient.set_id(recipient);
  return job;
}

TEST(OpenAlerts, AnOpenEpisodeIsDueEveryIntervalWithItsNewestEvent) {
  OpenAlerts alerts(/*interval_ms=*/1000);
  alerts.Delivered(Delivered("ep-1", 1, pb::OPEN), 0);
  EXPECT_TRUE(alerts.Due(999).empty());
  alerts.Delivered(Delivered("ep-1", 2, pb::ESCALATED), 500);
  EXPECT_TRUE(alerts.Due(1000).empty()) << "the newer event was posted at 500";
  const auto due = alerts.Due(1500);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0]->event.sequence(), 2u);
  EXPECT_TRUE(alerts.Due(2499).empty());
  EXPECT_EQ(alerts.Due(2500).size(), 1u);
}

TEST(OpenAlerts, ResolvedEndsTheReposts) {
  OpenAlerts alerts(1000);
  alerts.Delivered(Delivered("ep-1", 1, pb::OPEN), 0);
  alerts.Delivered(Delivered("ep-1", 2, pb::RESOLVED), 10);
  EXPECT_EQ(alerts.size(), 0u);
  EXPECT_TRUE(alerts.Due(5000).empty());
}

TEST(OpenAlerts, AnOlderEventDoesNotReplaceANewerOne) {
  OpenAlerts alerts(1000);
  alerts.Delivered(Delivered("ep-1", 3, pb::RENOTIFIED), 0);
  alerts.Delivered(Delivered("ep-1", 2, pb::ESCALATED), 0);
  ASSERT_EQ(alerts.Due(1000).size(), 1u);
  EXPECT_EQ(alerts.Due(2000)[0]->event.sequence(), 3u);
}

TEST(OpenAlerts, EachRecipientHasItsOwnAlertAndAPartitionThatMovesTakesItsAlong) {
  OpenAlerts alerts(1000);
  alerts.Delivered(Delivered("ep-1", 1, pb::OPEN, "HM0012", 0), 0);
  alerts.Delivered(Delivered("ep-1", 1, pb::OPEN, "US0003", 0), 0);
  alerts.Delivered(Delivered("ep-2", 1, pb::OPEN, "HM0012", 1), 0);
  EXPECT_EQ(alerts.size(), 3u);
  alerts.DropPartition(0);
  EXPECT_EQ(alerts.size(), 1u);
}

}  // namespace
}  // namespace alertd::notifyd
