// What one partition of `escalations` has delivered: its delivery keys' outcomes, restored from the
// same partition of `deliveries`, and the escalation offset that may be committed.
//
// alertd-notify's changelog is the `deliveries` topic: a key with a SENT, FAILED or SKIPPED record is
// done and never sent again; a HELD key waits for quiet hours to end. An escalation offset settles
// when every delivery it made has an outcome record the broker acknowledged (and a dead letter, when
// it did not parse, likewise), and the commit position never passes an unsettled offset: a kill -9
// loses nothing. Pure bookkeeping, no I/O; thread-compatible (the delivery loop owns it).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "health.pb.h"

namespace alertd::notifyd {

class PartitionBook {
 public:
  // Done keys older than `dedupe_horizon_ms` (by their outcome's at_ms) are forgotten by Evict(): a
  // duplicate of an event that arrives later than that would be sent again. The bound keeps memory
  // and restore time finite while the deliveries topic's retention does the same on the broker.
  explicit PartitionBook(int64_t dedupe_horizon_ms) : horizon_ms_(dedupe_horizon_ms) {}

  // One record of deliveries[p], in offset order (restore), or an outcome the broker just
  // acknowledged. A final status makes the key done; HELD keeps the record until one follows.
  void Record(const healthgrid::v1::Delivery& outcome);

  // The HELD deliveries that no final outcome followed: to be scheduled again after a restore.
  std::vector<healthgrid::v1::Delivery> Held() const;

  // True if `key` must be delivered now by the caller: not done, not held, not claimed before in
  // this book (a duplicate event, or the same key twice in one event, claims nothing).
  bool Claim(const std::string& key);
  bool Done(const std::string& key) const { return done_.contains(key); }

  // Escalation offset `offset` was consumed and made `pending` things to settle (deliveries to
  // record, a dead letter to write); 0 settles it at once. Offsets arrive in increasing order.
  void Consumed(int64_t offset, int pending);
  // One pending thing of `offset` is now recorded by the broker.
  void Settle(int64_t offset);
  // The offset to commit (the next one to consume after a restart): the lowest unsettled offset,
  // else one past the last consumed; nullopt before anything was consumed.
  std::optional<int64_t> CommitPosition() const;
  std::size_t unsettled_offsets() const { return pending_.size(); }

  // Forgets done keys decided before `now_ms - horizon`.
  void Evict(int64_t now_ms);
  std::size_t done_keys() const { return done_.size(); }

 private:
  int64_t horizon_ms_;
  std::unordered_map<std::string, int64_t> done_;  // key -> at_ms of its final outcome
  std::map<std::string, healthgrid::v1::Delivery> held_;
  std::unordered_map<std::string, bool> claimed_;  // keys handed out, not yet done
  std::map<int64_t, int> pending_;                 // unsettled offset -> things still to record
  std::optional<int64_t> last_consumed_;
};

}  // namespace alertd::notifyd
