// The memory budget's split and the state cache's estimate (see memory_budget.h).
#include "engine/app/memory_budget.h"

#include <algorithm>
#include <array>
#include <string>

#include "absl/strings/numbers.h"

namespace alertd::app {
namespace {

// Bytes on the heap beyond the string object itself (libstdc++ keeps up to 15 chars inline).
std::size_t HeapOf(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }

std::size_t HeapOf(const domain::Person& p) { return HeapOf(p.id) + HeapOf(p.name); }

template <typename T>
std::size_t VectorOf(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}

// A sample's ids count once per copy: the copies met are remembered, the newest kCopiesRemembered of
// them (a window shares its ids among its samples, domain::ShareIds, so it holds few; one forgotten is
// counted again, which errs on the safe side).
template <typename Sample>
std::size_t SamplesOf(const std::vector<Sample>& samples) {
  constexpr std::size_t kCopiesRemembered = 2 * domain::kIdsSharedWithin;
  std::array<const std::string*, kCopiesRemembered> met{};
  std::size_t copies = 0;
  std::size_t bytes = VectorOf(samples);
  for (const Sample& s : samples) {
    for (const domain::SharedText* id : {&s.station_id, &s.device_id}) {
      if (id->empty()) continue;
      const std::string* copy = &id->str();
      const auto end = met.begin() + static_cast<std::ptrdiff_t>(std::min(copies, kCopiesRemembered));
      if (std::find(met.begin(), end, copy) != end) continue;
      met[copies++ % kCopiesRemembered] = copy;
      bytes += id->CopyBytes();
    }
  }
  return bytes;
}

std::size_t ProfileOf(const domain::WorkerProfile& p) {
  std::size_t bytes = HeapOf(p.worker.value) + HeapOf(p.name) + HeapOf(p.unit_id) + HeapOf(p.unit_name) +
                      HeapOf(p.grid_id) + HeapOf(p.grid_name) + HeapOf(p.health_manager) +
                      HeapOf(p.unit_supervisor) + VectorOf(p.high_risk_posts) + VectorOf(p.policy.extra_recipients);
  for (const domain::Person& person : p.policy.extra_recipients) bytes += HeapOf(person);
  return bytes;
}

std::size_t EpisodeOf(const domain::OpenEpisode& e) {
  std::size_t bytes = HeapOf(e.episode_id) + HeapOf(e.acked_by) + SamplesOf(e.evidence) +
                      SamplesOf(e.glucose_evidence) + VectorOf(e.history);
  for (const domain::EpisodeStep& step : e.history) {
    bytes += VectorOf(step.recipients);
    for (const domain::Recipient& r : step.recipients) bytes += HeapOf(r.id) + HeapOf(r.name);
  }
  return bytes;
}

}  // namespace

MemoryShares SplitMemoryBudget(uint64_t budget_bytes) {
  MemoryShares s;
  s.budget = budget_bytes;
  s.rocks_cache = budget_bytes / 100 * 30;
  s.memtables = budget_bytes / 100 * 20;
  s.state_cache = budget_bytes / 100 * 35;
  s.prefetch = budget_bytes / 100 * 20;
  s.restore = budget_bytes / 100 * 5;
  return s;
}

std::map<std::string, std::string> PrefetchProperties(uint64_t prefetch_bytes) {
  // A fetch lands in the queue whole, and fetch.max.bytes is a soft bound (a broker adds a partition's
  // data while the response is under it, so a response holds up to one partition's more): bounded at
  // a fortieth of the share, per fetch and per partition, two of them on the wire take at most a
  // quarter of the share once queued, at ~5 times their wire bytes (kQueuedRecordBytes against the
  // ~80 bytes a realistic reading takes in a batch). Never under librdkafka's floor.
  const uint64_t fetch_bytes = std::max<uint64_t>(kMinFetchBytes, prefetch_bytes / 40);
  // The rest holds the queue: in records at kQueuedRecordBytes each, and in payload bytes at half the
  // share, for large records. librdkafka 2.0 stops fetching for up to a second whenever either bound
  // is reached (confluentinc/librdkafka#2879), so the bound in records is as high as the share allows.
  const uint64_t queue_bytes = prefetch_bytes - std::min(prefetch_bytes, fetch_bytes * 2 * 5);
  const uint64_t kbytes = std::max<uint64_t>(1024, prefetch_bytes / 2 / 1024);
  const uint64_t records = std::max<uint64_t>(1000, queue_bytes / kQueuedRecordBytes);
  return {{"queued.max.messages.kbytes", std::to_string(kbytes)},
          {"queued.min.messages", std::to_string(records)},
          {"fetch.max.bytes", std::to_string(fetch_bytes)},
          {"max.partition.fetch.bytes", std::to_string(fetch_bytes)}};
}

std::map<std::string, std::string> BudgetedConsumerProperties(uint64_t prefetch_bytes,
                                                              const std::map<std::string, std::string>& given) {
  std::map<std::string, std::string> consumer = PrefetchProperties(prefetch_bytes);
  for (const auto& [name, value] : given) consumer[name] = value;
  const auto message_max = consumer.find("message.max.bytes");
  if (given.contains("fetch.max.bytes") || message_max == consumer.end()) return consumer;
  std::string& fetch_max = consumer.at("fetch.max.bytes");
  uint64_t message = 0, fetch = 0;
  if (absl::SimpleAtoi(message_max->second, &message) && absl::SimpleAtoi(fetch_max, &fetch) && message > fetch) {
    fetch_max = message_max->second;
  }
  return consumer;
}

std::size_t ApproxBytes(const domain::WorkerState& state) {
  std::size_t bytes = sizeof(domain::WorkerState) + SamplesOf(state.bp_window) + SamplesOf(state.glucose_window) +
                      VectorOf(state.open) + VectorOf(state.referrals_sent);
  if (state.profile) bytes += ProfileOf(*state.profile);
  for (const domain::OpenEpisode& e : state.open) bytes += EpisodeOf(e);
  return bytes;
}

}  // namespace alertd::app
