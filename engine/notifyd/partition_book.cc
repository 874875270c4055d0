// PartitionBook: delivery keys' outcomes and the commit position of one escalations partition.
#include "engine/notifyd/partition_book.h"

namespace alertd::notifyd {

namespace pb = healthgrid::v1;

void PartitionBook::Record(const pb::Delivery& outcome) {
  const std::string& key = outcome.delivery_key();
  if (outcome.status() == pb::DELIVERY_HELD) {
    if (!done_.contains(key)) held_[key] = outcome;
    return;
  }
  held_.erase(key);
  claimed_.erase(key);
  done_[key] = outcome.at_ms();
}

std::vector<pb::Delivery> PartitionBook::Held() const {
  std::vector<pb::Delivery> out;
  out.reserve(held_.size());
  for (const auto& [key, record] : held_) out.push_back(record);
  return out;
}

bool PartitionBook::Claim(const std::string& key) {
  if (done_.contains(key) || held_.contains(key)) return false;
  return claimed_.emplace(key, true).second;
}

void PartitionBook::Consumed(int64_t offset, int pending) {
  last_consumed_ = offset;
  if (pending > 0) pending_[offset] += pending;
}

void PartitionBook::Settle(int64_t offset) {
  const auto it = pending_.find(offset);
  if (it == pending_.end()) return;
  if (--it->second <= 0) pending_.erase(it);
}

std::optional<int64_t> PartitionBook::CommitPosition() const {
  if (!pending_.empty()) return pending_.begin()->first;
  if (last_consumed_) return *last_consumed_ + 1;
  return std::nullopt;
}

void PartitionBook::Evict(int64_t now_ms) {
  std::erase_if(done_, [&](const auto& entry) { return entry.second < now_ms - horizon_ms_; });
}

}  // namespace alertd::notifyd
