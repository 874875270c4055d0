// Which partitions an instance keeps warm standby copies of, decided from the group's announcements
// alone (no Kafka, no clock: times are passed in).
//
// The group assignor of librdkafka cannot be extended, so standbys are not assigned by the group: each
// instance announces the partitions it owns on the members topic (membership.h), and every instance
// computes the same plan from what it has read. The live instances, sorted by id, form a ring; the
// standbys of a partition are the N live instances that follow its owner on the ring. An owner that
// died stays the owner of its partitions until another instance announces them, and keeps its place
// on the ring (its successors are found by where its id would sort), so the instances that were
// following its partitions keep following them through the failover: that is what makes the failover
// cheap. Unlike Kafka Streams, the plan cannot steer the group assignment towards the standbys; with
// the cooperative-sticky assignor, a dead owner's partitions go to the least loaded survivors, which
// hold a standby copy whenever N + 1 >= the number of instances.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace alertd::app {

class StandbyPlan {
 public:
  // `member_timeout_ms`: an instance not heard from for this long is not live (it stops standing by
  // for others, and others stop counting it among the standbys).
  explicit StandbyPlan(int64_t member_timeout_ms) : timeout_ms_(member_timeout_ms) {}

  // An instance announced, at `at_ms`, the partitions it owns. Announcements must be noted in the
  // order they were written; an older one than the instance's last is ignored.
  void Note(const std::string& instance, const std::set<int32_t>& owned, int64_t at_ms);
  // The instance left the group cleanly: it owns nothing and is not live.
  void Leave(const std::string& instance);

  // The live instances at `now_ms`, sorted.
  std::vector<std::string> Live(int64_t now_ms) const;
  // Each partition's owner by the latest announcement that holds it.
  const std::map<int32_t, std::string>& owners() const { return owner_; }
  // The partitions `self` stands by for with `replicas` standbys per partition. `self` counts as live.
  std::set<int32_t> StandbysOf(const std::string& self, int replicas, int64_t now_ms) const;

 private:
  struct Member {
    std::set<int32_t> owned;
    int64_t heard_ms = 0;
  };
  const int64_t timeout_ms_;
  std::map<std::string, Member> members_;
  std::map<int32_t, std::string> owner_;
};

}  // namespace alertd::app
