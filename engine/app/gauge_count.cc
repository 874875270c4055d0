// The background count of the dashboard gauges (see gauge_count.h).
#include "engine/app/gauge_count.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

#include "engine/app/start_steps.h"
#include "engine/app/steady_time.h"

namespace alertd::app {
namespace {

// Workers read per turn at the store: a few milliseconds, the longest a cache miss of the engine
// waits behind the count.
constexpr std::size_t kTurnWorkers = 1000;

}  // namespace

GaugeCount::GaugeCount(CommitWindow& window, metrics::EngineMetrics& metrics)
    : window_(window), metrics_(metrics), thread_([this] { Scan(); }) {}

GaugeCount::~GaugeCount() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    ++generation_;
  }
  wake_.notify_all();
  thread_.join();
}

void GaugeCount::Add(int32_t partition) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (counted_.count(partition) > 0 || !partitions_.try_emplace(partition).second) return;
    queue_.push_back(partition);
    UpdateGauge();
  }
  wake_.notify_all();
}

void GaugeCount::Recount(const std::set<int32_t>& partitions) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
    partitions_.clear();
    counted_.clear();
    queue_.clear();
    metrics_.ClearWorkerGauges();
    for (int32_t p : partitions) {
      partitions_.try_emplace(p);
      queue_.push_back(p);
    }
    UpdateGauge();
  }
  wake_.notify_all();
}

void GaugeCount::Track(const state::WorkerKey& key, const metrics::WorkerGauges& before,
                       const metrics::WorkerGauges& after) {
  // Nothing counted in the background: the scan thread is idle and touches no gauge.
  if (counting() == 0) return metrics_.ApplyWorkerChange(before, after);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = partitions_.find(key.partition);
  if (it != partitions_.end() && key.worker.value > it->second.cursor &&
      it->second.changed_ahead.insert(key.worker.value).second) {
    // Ahead of the scan, which will skip it: counted here as it was.
    metrics_.ApplyWorkerChange({}, before);
  }
  metrics_.ApplyWorkerChange(before, after);
}

absl::Status GaugeCount::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

void GaugeCount::UpdateGauge() {
  counting_.store(partitions_.size(), std::memory_order_release);
  metrics_.SetCountingPartitions(partitions_.size());
}

void GaugeCount::Scan() {
  for (;;) {
    int32_t partition = 0;
    uint64_t generation = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      partition = queue_.front();
      generation = generation_;
    }
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t workers = 0, contributing = 0;
    std::string after;
    absl::Status st;
    for (;;) {
      absl::StatusOr<std::string> last = Turn(partition, generation, after, workers, contributing);
      if (!last.ok()) st = last.status();
      if (!last.ok() || last->empty()) break;
      after = *std::move(last);
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (generation != generation_) continue;  // abandoned by Recount(): the new queue starts over
    queue_.pop_front();
    partitions_.erase(partition);
    counted_.insert(partition);
    UpdateGauge();
    if (!st.ok()) {
      if (error_.ok()) error_ = st;
      spdlog::error("dashboard gauges: counting the workers of partition {}: {}", partition, st.ToString());
      continue;
    }
    spdlog::info("dashboard gauges: {} stored workers of partition {} counted ({} with open episodes or enrolled) "
                 "in {:.3f} s, in the background; {} partitions left",
                 workers, partition, contributing, SecondsSince(t0), partitions_.size());
    if (partitions_.empty()) LogStartStep("dashboard gauges counted");
  }
}

absl::StatusOr<std::string> GaugeCount::Turn(int32_t partition, uint64_t generation, const std::string& after,
                                             std::size_t& workers, std::size_t& contributing) {
  std::string last;
  std::size_t read = 0;
  bool abandoned = false;
  absl::Status st = window_.ReadBehind([&](state::StateStore& store) {
    return store.ForEachWorkerAfter(
        partition, after, [&](const state::WorkerKey& key, const domain::WorkerState& state) {
          ++read;
          std::lock_guard<std::mutex> lock(mu_);
          if (generation != generation_) {
            abandoned = true;
            return false;
          }
          Partition& p = partitions_.at(partition);
          p.cursor = key.worker.value;
          // A worker changed ahead of the cursor was counted by Track() as it was before.
          if (p.changed_ahead.erase(key.worker.value) == 0 && metrics::Contributes(state)) {
            ++contributing;
            metrics_.ApplyWorkerChange({}, metrics::GaugesOf(state));
          }
          last = key.worker.value;
          return read < kTurnWorkers;
        });
  });
  if (!st.ok()) return st;
  workers += read;
  if (abandoned || read < kTurnWorkers) return std::string();
  return last;
}

}  // namespace alertd::app
