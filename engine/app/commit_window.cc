// The commit window: what a commit holds, how it is written beside the loop, and the cache it feeds.
#include "engine/app/commit_window.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "engine/app/memory_budget.h"
#include "engine/app/steady_time.h"

namespace alertd::app {
namespace {

std::string DirtyKey(const state::WorkerKey& k) { return std::to_string(k.partition) + '\x1f' + k.worker.value; }

// Transient store errors (Busy, TryAgain, TimedOut) are retried this often before they stop the engine.
constexpr int kStoreAttempts = 5;

}  // namespace

CommitWindow::CommitWindow(state::StateStore& store, metrics::EngineMetrics& metrics, std::size_t cache_bytes,
                           CommittedFn on_committed)
    : store_(store), metrics_(metrics), cache_bytes_(cache_bytes), on_committed_(std::move(on_committed)) {}

std::size_t CommitWindow::CachedBytes(const std::string& key, const domain::WorkerState& state) {
  // The map's node and bucket, the list's node and its copy of the key.
  constexpr std::size_t kNodes = sizeof(CachedWorker) + 3 * sizeof(void*) + sizeof(std::string) + 2 * sizeof(void*);
  return ApproxBytes(state) + kNodes + 2 * key.size();
}

CommitWindow::~CommitWindow() = default;

domain::WorkerState& CommitWindow::Load(const state::WorkerKey& key) {
  auto [it, inserted] = dirty_.try_emplace(DirtyKey(key));
  DirtyWorker& d = it->second;
  if (inserted) {
    d.key = key;
    if (in_flight_) {
      if (auto f = in_flight_->states.find(it->first); f != in_flight_->states.end()) {
        // Being committed right now: continue from a copy of that state, since the committer reads it.
        // Its state before this window is that same state, imaged once the commit is done
        // (FinishCommit), when it is known to be what the store holds.
        if (f->second != nullptr) {
          d.state = *f->second;
          d.stored = true;
          d.before_in_flight = true;
        }
        d.before = {.known = true, .image = std::nullopt};
        return d.state;
      }
    }
    if (auto cached = cache_.find(it->first); cached != cache_.end()) {
      d.stored = true;
      d.state = std::move(cached->second.state);
      d.before = {.known = true, .image = state::WorkerImage(d.state)};
      cached_bytes_ -= cached->second.bytes;
      lru_.erase(cached->second.lru);
      cache_.erase(cached);
      return d.state;
    }
    // Beside the commit in flight, without waiting for it: that commit does not touch this worker (it
    // would have been found above), and the store allows this one read during a write (store.h).
    state::SampleLayout layout = state::SampleLayout::kRuns;
    absl::StatusOr<std::optional<domain::WorkerState>> loaded = store_.LoadWorker(key, &layout);
    for (int attempt = 1; absl::IsUnavailable(loaded.status()) && attempt < kStoreAttempts; ++attempt) {
      metrics_.CountStoreRetry();
      std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
      loaded = store_.LoadWorker(key, &layout);
    }
    if (!loaded.ok()) {
      load_error_ = loaded.status();
    } else {
      d.before.known = true;
      if (*loaded) {
        metrics_.CountStateLoad();
        d.before.image.emplace(**loaded, layout);
        d.state = std::move(**loaded);
        d.stored = true;
      }
    }
  } else if (d.deleted) {
    d.deleted = false;
    d.state = domain::WorkerState{};
  }
  return d.state;
}

void CommitWindow::MarkDeleted(const state::WorkerKey& key) {
  DirtyWorker& d = dirty_[DirtyKey(key)];
  d.key = key;
  d.deleted = true;
  d.state = domain::WorkerState{};
}

void CommitWindow::PutTimer(const domain::Timer& t) {
  timers_delete_.erase(t);
  fired_uncommitted_.erase(t);  // wanted again: it may fire again
  timers_put_.insert(t);
  if (mirror_ != nullptr) mirror_->Put(t);
}

void CommitWindow::DeleteTimer(const domain::Timer& t) {
  timers_put_.erase(t);
  timers_delete_.insert(t);
  if (mirror_ != nullptr) mirror_->Erase(t);
}

void CommitWindow::DeleteFiredTimer(const domain::Timer& t) {
  // The mirror no longer holds it: stream mode took it out to fire it.
  if (!timers_put_.count(t)) timers_delete_.insert(t);
}

void CommitWindow::Consumed(const TopicPartition& tp, int64_t next_offset) {
  next_offsets_[tp] = next_offset;
  records_ += 1;
}

bool CommitWindow::empty() const {
  return dirty_.empty() && next_offsets_.empty() && outbox_put_.empty() && outbox_delete_.empty() &&
         timers_put_.empty() && timers_delete_.empty() && stream_times_.empty() && parked_put_.empty();
}

absl::Status CommitWindow::StartCommit() {
  if (!load_error_.ok()) return load_error_;
  if (in_flight_) {
    const auto t0 = std::chrono::steady_clock::now();
    if (auto st = FinishCommit(/*wait=*/true); !st.ok()) return st;
    metrics_.AddCommitWait(SecondsSince(t0));
  }
  if (empty()) return absl::OkStatus();
  auto c = std::make_unique<InFlightCommit>();
  c->records = records_;
  // Key order: RocksDB's memtable inserts a sorted run much faster than random keys. Sorting pointers
  // keeps the states where they are until they move once into the batch.
  std::vector<DirtyWorker*> order;
  order.reserve(dirty_.size());
  for (auto& [_, d] : dirty_) {
    // Looked at and left as new (an ack or a clock-in for a worker alertd does not know): nothing
    // to store, so input about unknown workers cannot grow the store.
    if (!d.stored && !d.deleted && d.state == domain::WorkerState{}) continue;
    order.push_back(&d);
  }
  std::sort(order.begin(), order.end(), [](const DirtyWorker* a, const DirtyWorker* b) { return a->key < b->key; });
  c->batch.workers.reserve(order.size());
  c->batch.workers_before.reserve(order.size());
  for (DirtyWorker* d : order) {
    c->batch.workers.emplace_back(d->key, d->deleted ? std::nullopt : std::optional<domain::WorkerState>(std::move(d->state)));
    c->batch.workers_before.push_back(std::move(d->before));
  }
  for (const auto& [tp, offset] : next_offsets_) c->batch.next_offsets.push_back({{tp.first, tp.second}, offset});
  for (const auto& [partition, ms] : stream_times_) {
    c->batch.stream_times.push_back({partition, std::max<int64_t>(0, ms)});
  }
  c->batch.outbox_put = std::move(outbox_put_);
  c->batch.outbox_delete = std::move(outbox_delete_);
  c->batch.timers_put.assign(timers_put_.begin(), timers_put_.end());
  c->batch.timers_delete.assign(timers_delete_.begin(), timers_delete_.end());
  c->batch.parked_put = std::move(parked_put_);
  c->states.reserve(c->batch.workers.size());
  for (const auto& [key, st] : c->batch.workers) c->states.emplace(DirtyKey(key), st ? &*st : nullptr);

  // Encoding and writing the batch run beside the loop, which goes on with the next window; the batch
  // is read-only until the commit finishes, so Load() may read states from it meanwhile.
  InFlightCommit* raw = c.get();
  c->result = committer_.Run([this, raw] {
    std::unique_lock<std::mutex> lock = LockStore();
    const auto t0 = std::chrono::steady_clock::now();
    absl::Status st = store_.Commit(raw->batch, hook_);
    // Transient by the store's own account: the batch is intact and the same commit may succeed.
    for (int attempt = 1; absl::IsUnavailable(st) && attempt < kStoreAttempts; ++attempt) {
      spdlog::warn("commit: {}; retrying ({} of {})", st.ToString(), attempt + 1, kStoreAttempts);
      metrics_.CountStoreRetry();
      std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
      st = store_.Commit(raw->batch, hook_);
    }
    raw->seconds = SecondsSince(t0);
    return st;
  });
  in_flight_ = std::move(c);
  dirty_.clear();
  next_offsets_.clear();
  stream_times_.clear();
  outbox_put_.clear();
  outbox_delete_.clear();
  timers_put_.clear();
  timers_delete_.clear();
  parked_put_.clear();
  records_ = 0;
  return absl::OkStatus();
}

absl::Status CommitWindow::FinishCommit(bool wait) {
  if (!in_flight_) return absl::OkStatus();
  if (!wait && in_flight_->result.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return absl::OkStatus();
  }
  absl::Status st = in_flight_->result.get();
  std::unique_ptr<InFlightCommit> c = std::move(in_flight_);
  if (!st.ok()) {
    // What the store holds of the workers continued from this commit is unknown now: it reads it.
    for (auto& [_, d] : dirty_) {
      if (d.before_in_flight) d.before = {};
      d.before_in_flight = false;
    }
    return st;
  }
  for (const auto& t : c->batch.timers_delete) fired_uncommitted_.erase(t);
  // Output only after its commit: a crash before this point re-derives it from the same input.
  if (on_committed_) on_committed_(c->batch);
  metrics_.ObserveCommit(c->seconds, c->records);
  for (auto& [key, worker] : c->batch.workers) {
    std::string dirty_key = DirtyKey(key);
    if (auto d = dirty_.find(dirty_key); worker && d != dirty_.end() && d->second.before_in_flight) {
      // Continued by this window: the committed state is its `before` (see Load), and its newer state
      // goes to the cache after its own commit.
      d->second.before.image.emplace(*worker);
      d->second.before_in_flight = false;
    } else if (worker) {
      CacheCommitted(std::move(dirty_key), std::move(*worker));
    } else {
      Uncache(dirty_key);
    }
  }
  metrics_.SetStateCache(cache_.size(), cached_bytes_);
  return absl::OkStatus();
}

absl::Status CommitWindow::CommitNow() {
  if (auto st = StartCommit(); !st.ok()) return st;
  return FinishCommit(/*wait=*/true);
}

void CommitWindow::DropCache() {
  cache_.clear();
  lru_.clear();
  cached_bytes_ = 0;
}

void CommitWindow::CacheCommitted(std::string key, domain::WorkerState state) {
  Uncache(key);
  const std::size_t bytes = CachedBytes(key, state);
  if (bytes > cache_bytes_) {  // would not fit even alone (or no cache, with nothing to count)
    if (cache_bytes_ > 0) metrics_.CountStateEviction();
    return;
  }
  while (cached_bytes_ + bytes > cache_bytes_) {
    Uncache(std::string(lru_.back()));
    metrics_.CountStateEviction();
  }
  lru_.push_front(key);
  cache_[std::move(key)] = CachedWorker{std::move(state), lru_.begin(), bytes};
  cached_bytes_ += bytes;
}

void CommitWindow::Uncache(const std::string& key) {
  if (auto it = cache_.find(key); it != cache_.end()) {
    cached_bytes_ -= it->second.bytes;
    lru_.erase(it->second.lru);
    cache_.erase(it);
  }
}

}  // namespace alertd::app
