// The commit window: the changes since the last commit, the background commit and the decoded-state cache.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "engine/app/partition_timers.h"
#include "engine/app/serial_thread.h"
#include "engine/domain/timer.h"
#include "engine/domain/worker_state.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/state/store.h"

namespace alertd::app {

// An input topic-partition, as the loop and the window key their offsets.
using TopicPartition = std::pair<std::string, int32_t>;

// Everything the records and deadlines processed since the last commit changed (worker states, input
// offsets, stream clocks, outbox puts and deletes, timer puts and deletes, parked output), turned into
// one state::CommitBatch and written by a background commit while the loop goes on with the next
// window; the ProcessorStateManager of Kafka Streams' shape. Load() continues a worker from the newest
// state it has: this window's, the commit in flight's, the cache of committed states, the store.
//
// Thread-compatible: every method runs on the engine thread. The background commit is the only other
// user of the store; Read() takes turns with it, while Load() reads beside it (store.h, "Threads"), so
// that with a commit always in flight (group commit) a reading of a worker not in the cache does not
// wait for the commit.
class CommitWindow {
 public:
  // Told of each commit once it is durable, before its states move to the cache: the place to hand
  // its output to the producer.
  using CommittedFn = std::function<void(const state::CommitBatch&)>;

  // `cache_bytes`: what the committed worker states kept decoded in memory (LRU) may take, as
  // CachedBytes() counts them; 0 keeps none.
  CommitWindow(state::StateStore& store, metrics::EngineMetrics& metrics, std::size_t cache_bytes,
               CommittedFn on_committed);
  ~CommitWindow();  // waits for the commit in flight
  CommitWindow(const CommitWindow&) = delete;
  CommitWindow& operator=(const CommitWindow&) = delete;

  // The worker's state to change in place; a new worker's is empty. A store read that fails leaves it
  // empty and is reported by error() and the next StartCommit(): the rules must not decide on a blank
  // history, so the engine stops.
  domain::WorkerState& Load(const state::WorkerKey& key);
  // The worker's profile was removed: its state is deleted by the commit, unless a later record
  // brings it back (Load() then starts it afresh).
  void MarkDeleted(const state::WorkerKey& key);
  // A store read that failed in Load(), or OK.
  const absl::Status& error() const { return load_error_; }

  // The commit applies its timer puts and deletes as sets, so only the last request for one timer in a
  // window stands: a timer cancelled and set again (or set and cancelled) ends up in one of the two.
  void PutTimer(const domain::Timer& t);
  void DeleteTimer(const domain::Timer& t);
  // A timer fired: gone from the index, unless the rules asked for the very same deadline again.
  void DeleteFiredTimer(const domain::Timer& t);
  // Wall mode: fired timers whose deletion is not committed yet (the store still returns them as due).
  bool FiredUncommitted(const domain::Timer& t) const { return fired_uncommitted_.count(t) > 0; }
  void MarkFiredUncommitted(const domain::Timer& t) { fired_uncommitted_.insert(t); }
  // Stream mode: an in-memory index kept in step with every timer put and deleted (not owned).
  void MirrorTimers(PartitionTimers* timers) { mirror_ = timers; }

  // One input record processed: the next offset to consume from its topic-partition.
  void Consumed(const TopicPartition& tp, int64_t next_offset);
  // Stream mode: a partition's processing time moved.
  void SetStreamTime(int32_t partition, int64_t ms) { stream_times_[partition] = ms; }
  void PutOutput(state::OutboxEntry entry) { outbox_put_.push_back(std::move(entry)); }
  // The broker confirmed this output: its outbox entry goes in the next commit.
  void DeleteOutput(const state::OutboxId& id) { outbox_delete_.push_back(id); }
  void PutParked(state::ParkedEntry entry) { parked_put_.push_back(std::move(entry)); }

  // Workers looked at since the last commit started (stored by it if they changed).
  std::size_t dirty_workers() const { return dirty_.size(); }
  // Input records processed since the last commit started.
  std::size_t records() const { return records_; }
  // The next input offsets this window moves, for lag reporting.
  const std::map<TopicPartition, int64_t>& next_offsets() const { return next_offsets_; }

  // Hands the window to a background commit and opens a new one; waits for the previous commit first
  // (one in flight at a time: that is the back-pressure). Unavailable from the store is retried.
  [[nodiscard]] absl::Status StartCommit();
  // Completes the commit in flight if it is done, or waits for it: its deletions of fired timers take
  // effect, on_committed sees it, its states go to the cache.
  [[nodiscard]] absl::Status FinishCommit(bool wait);
  [[nodiscard]] absl::Status CommitNow();
  // A commit is being written (until FinishCommit() has completed it).
  bool committing() const { return in_flight_ != nullptr; }
  // The partitions' state may change on another instance before they come back here.
  void DropCache();
  std::size_t cached_workers() const { return cache_.size(); }
  std::size_t cached_bytes() const { return cached_bytes_; }
  // What one cached state counts against the bound: its estimated heap (memory_budget.h), its key and
  // the cache's nodes.
  static std::size_t CachedBytes(const std::string& key, const domain::WorkerState& state);

  // Each commit's changes go through `hook` first (the changelog): see state::ChangeHook.
  void SetChangeHook(state::ChangeHook hook) { hook_ = std::move(hook); }

  // Reads the store between the background commit's writes (waits for the one being written).
  template <typename Fn>
  auto Read(Fn&& read) {
    std::unique_lock<std::mutex> lock = LockStore();
    return read(store_);
  }
  // Read() for a long background scan in turns (the dashboard gauges' count): each turn waits while
  // the loop or the committer waits for the store. A mutex is not fair, and a scan that takes it
  // again right after each turn held a restart's activation of 128 partitions back by 2 s.
  template <typename Fn>
  auto ReadBehind(Fn&& read) {
    std::unique_lock<std::mutex> lock(store_mu_);
    while (store_waiters_.load(std::memory_order_acquire) > 0) {
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      lock.lock();
    }
    return read(store_);
  }
  // Readers and committers waiting for the store now (for tests).
  int store_waiters() const { return store_waiters_.load(std::memory_order_acquire); }

 private:
  struct DirtyWorker {
    state::WorkerKey key;
    domain::WorkerState state;
    bool deleted = false;
    bool stored = false;  // the worker had state before this window (in the store, cache or in flight)
    // The image of the state the store holds once the commit in flight (if any) is written, so the
    // commit writes only the difference (CommitBatch::workers_before). Unknown for a worker deleted unseen.
    state::WorkerBefore before;
    // Continued from the commit in flight: `before` is that commit's state, which FinishCommit images
    // once the commit is done (a failed commit leaves it unknown).
    bool before_in_flight = false;
  };
  // The commit being written by the background task, at most one.
  struct InFlightCommit {
    state::CommitBatch batch;
    std::size_t records = 0;
    absl::flat_hash_map<std::string, const domain::WorkerState*> states;  // into batch; nullptr = deleted
    double seconds = 0;
    // Ready once the committer is done with the batch: only then is the commit finished and dropped
    // (FinishCommit), and the window's destructor first stops the committer (committer_, below).
    std::future<absl::Status> result;
  };
  struct CachedWorker {
    domain::WorkerState state;
    std::list<std::string>::iterator lru;
    std::size_t bytes = 0;
  };

  bool empty() const;
  void CacheCommitted(std::string key, domain::WorkerState state);
  void Uncache(const std::string& key);

  state::StateStore& store_;
  metrics::EngineMetrics& metrics_;
  const std::size_t cache_bytes_;
  const CommittedFn on_committed_;
  PartitionTimers* mirror_ = nullptr;
  state::ChangeHook hook_;
  absl::Status load_error_;

  absl::node_hash_map<std::string, DirtyWorker> dirty_;  // node: Load() hands out references
  std::map<TopicPartition, int64_t> next_offsets_;
  std::map<int32_t, int64_t> stream_times_;
  std::vector<state::OutboxEntry> outbox_put_;
  std::vector<state::OutboxId> outbox_delete_;
  std::set<domain::Timer> timers_put_;  // a timer is in at most one of the two
  std::set<domain::Timer> timers_delete_;
  std::set<domain::Timer> fired_uncommitted_;
  std::vector<state::ParkedEntry> parked_put_;
  std::size_t records_ = 0;

  // Committed states of recently seen workers, decoded: most readings then need no store read and no
  // parse. Least recently used first out.
  absl::node_hash_map<std::string, CachedWorker> cache_;
  std::list<std::string> lru_;  // most recent at the front
  std::size_t cached_bytes_ = 0;

  // The store's lock for the engine's and the committer's turns, counted while they wait for it.
  std::unique_lock<std::mutex> LockStore() {
    store_waiters_.fetch_add(1, std::memory_order_acq_rel);
    std::unique_lock<std::mutex> lock(store_mu_);
    store_waiters_.fetch_sub(1, std::memory_order_acq_rel);
    return lock;
  }

  std::mutex store_mu_;  // the committer and the loop's Read() take turns (Load() does not: store.h)
  std::atomic<int> store_waiters_{0};
  std::unique_ptr<InFlightCommit> in_flight_;
  // Last, so it is destroyed first: it finishes the commit in flight, which takes the mutex and reads
  // in_flight_'s batch, before either goes.
  SerialThread committer_{"alertd-commit"};
};

}  // namespace alertd::app
