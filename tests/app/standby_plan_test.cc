// The standby plan without Kafka: owners from announcements, standbys on the ring of live instances,
// and what a dead or departed owner leaves behind.
#include "engine/app/standby_plan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace alertd::app {
namespace {

constexpr int64_t kTimeout = 15000;

struct Case {
  const char* name;
  int replicas;
  std::string self;
  std::set<int32_t> want;
};

// a owns 0,1; b owns 2,3; c owns 4,5; all live at t=1000.
StandbyPlan ThreeInstances() {
  StandbyPlan plan(kTimeout);
  plan.Note("a", {0, 1}, 1000);
  plan.Note("b", {2, 3}, 1000);
  plan.Note("c", {4, 5}, 1000);
  return plan;
}

TEST(StandbyPlanTest, EachPartitionHasItsOwnersNextInstancesOnTheRing) {
  const std::vector<Case> cases = {
      {"no standbys", 0, "b", {}},
      {"one: b follows a", 1, "b", {0, 1}},
      {"one: c follows b", 1, "c", {2, 3}},
      {"one: a follows c (the ring wraps)", 1, "a", {4, 5}},
      {"two: a follows b and c", 2, "a", {2, 3, 4, 5}},
      {"more than there are others: everything not owned", 5, "a", {2, 3, 4, 5}},
  };
  const StandbyPlan plan = ThreeInstances();
  for (const Case& c : cases) {
    EXPECT_EQ(plan.StandbysOf(c.self, c.replicas, 2000), c.want) << c.name;
  }
}

TEST(StandbyPlanTest, EveryPartitionGetsExactlyNStandbysNoneOnItsOwner) {
  StandbyPlan plan(kTimeout);
  const std::vector<std::string> instances = {"i1", "i2", "i3", "i4"};
  for (std::size_t i = 0; i < instances.size(); ++i) {
    std::set<int32_t> owned;
    for (int32_t p = static_cast<int32_t>(i); p < 16; p += 4) owned.insert(p);
    plan.Note(instances[i], owned, 1000);
  }
  for (int replicas = 1; replicas <= 3; ++replicas) {
    std::map<int32_t, int> standbys;
    for (const std::string& self : instances) {
      for (int32_t p : plan.StandbysOf(self, replicas, 2000)) {
        EXPECT_NE(plan.owners().at(p), self) << "a standby on its own owner, partition " << p;
        ++standbys[p];
      }
    }
    for (int32_t p = 0; p < 16; ++p) EXPECT_EQ(standbys[p], replicas) << "partition " << p << ", N=" << replicas;
  }
}

TEST(StandbyPlanTest, ADeadOwnersPartitionsKeepTheirStandbysUntilSomeoneAnnouncesThem) {
  StandbyPlan plan = ThreeInstances();
  // a is killed: not heard from after t=1000. At t=20000 it is no longer live, but b, which followed
  // its partitions, still does (a's id sorts before b's); b now also follows c's, which a did.
  plan.Note("b", {2, 3}, 19000);
  plan.Note("c", {4, 5}, 19000);
  EXPECT_EQ(plan.Live(20000), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(plan.StandbysOf("b", 1, 20000), (std::set<int32_t>{0, 1, 4, 5}));
  EXPECT_EQ(plan.StandbysOf("c", 1, 20000), (std::set<int32_t>{2, 3}));
  // The group gives 0 to b and 1 to c: b now stands by for c's, c for b's.
  plan.Note("b", {0, 2, 3}, 21000);
  plan.Note("c", {1, 4, 5}, 21000);
  EXPECT_EQ(plan.StandbysOf("b", 1, 22000), (std::set<int32_t>{1, 4, 5}));
  EXPECT_EQ(plan.StandbysOf("c", 1, 22000), (std::set<int32_t>{0, 2, 3}));
}

TEST(StandbyPlanTest, AnInstanceThatLeftCleanlyOwnsNothingAndIsNoStandby) {
  StandbyPlan plan = ThreeInstances();
  plan.Leave("b");
  EXPECT_EQ(plan.owners().count(2), 0u);
  EXPECT_EQ(plan.Live(2000), (std::vector<std::string>{"a", "c"}));
  // a's partitions now go to c, the next live instance after a.
  EXPECT_EQ(plan.StandbysOf("c", 1, 2000), (std::set<int32_t>{0, 1}));
}

TEST(StandbyPlanTest, ARevokedPartitionBelongsToWhoeverAnnouncedItLast) {
  StandbyPlan plan = ThreeInstances();
  plan.Note("c", {1, 4, 5}, 1500);   // c got 1 in a rebalance...
  plan.Note("a", {0}, 1600);          // ...and a, announcing what it kept, does not take it back
  EXPECT_EQ(plan.owners().at(1), "c");
  EXPECT_EQ(plan.owners().at(0), "a");
  plan.Note("a", {0, 1}, 1200);  // an announcement older than a's last one changes nothing
  EXPECT_EQ(plan.owners().at(1), "c");
}

TEST(StandbyPlanTest, AnInstanceAloneOrNotYetAnnouncedStandsByForOthers) {
  StandbyPlan plan(kTimeout);
  EXPECT_TRUE(plan.StandbysOf("a", 1, 0).empty());
  plan.Note("b", {0, 1}, 1000);
  // a has not announced itself yet (it has just started): it still counts itself on the ring.
  EXPECT_EQ(plan.StandbysOf("a", 1, 2000), (std::set<int32_t>{0, 1}));
  EXPECT_TRUE(plan.StandbysOf("b", 1, 2000).empty());
}

}  // namespace
}  // namespace alertd::app
