// Helper of crash_test.cc: commits to a RocksDB state store in a tight loop until it is killed.
//
// Usage: state_crash_writer <store dir>. Each commit i (continuing after what the store already
// holds) sets worker W's readings_accepted and readings/0's next offset to i, puts outbox seq
// NextOutboxSeq() with value "i" and deletes the previous entry, moves W's timer from fire time
// i - 1 to i, and adds worker W<i> of partition 1 (readings_accepted i) with its timer at fire time
// i, with the WAL fsynced as alertd commits by default. Once Commit has returned OK, i.e. the store
// has said commit i is durable, it writes "committed i" on stdout with write(2) (no stdio buffer), so
// every line the parent reads names a commit that must survive a kill.
#include <unistd.h>

#include <cerrno>

#include <cstdio>
#include <string>

#include "engine/state/store.h"

namespace {

using alertd::domain::ProcessingTime;
using alertd::domain::Rule;
using alertd::domain::Timer;
using alertd::domain::WorkerId;
using alertd::state::CommitBatch;
using alertd::state::InputPosition;
using alertd::state::StateStore;
using alertd::state::WorkerKey;

int Run(const std::string& path) {
  absl::StatusOr<std::unique_ptr<StateStore>> opened =
      alertd::state::OpenRocksStore({.path = path, .sync_commits = true});
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  StateStore& store = **opened;
  const WorkerKey worker{.partition = 0, .worker = WorkerId{"W"}};
  const InputPosition position{.topic = "readings", .partition = 0};

  absl::StatusOr<std::optional<int64_t>> resumed = store.LoadNextOffset(position);
  absl::StatusOr<std::vector<alertd::state::OutboxEntry>> outbox = store.LoadOutbox();
  if (!resumed.ok() || !outbox.ok()) {
    std::fprintf(stderr, "load failed\n");
    return 1;
  }
  std::vector<alertd::state::OutboxId> undelivered;
  for (const auto& entry : *outbox) undelivered.push_back(entry.id());

  for (int64_t i = resumed->value_or(0) + 1;; ++i) {
    alertd::domain::WorkerState state;
    state.readings_accepted = static_cast<uint64_t>(i);
    // Batches of varying size, so a torn WAL record can end anywhere.
    for (int64_t s = 0; s < i % 24; ++s) {
      state.bp_window.push_back({.measured_at = {i * 1000 + s},
                                 .systolic_mmhg = 120,
                                 .diastolic_mmhg = 80,
                                 .pulse_bpm = 70,
                                 .category = alertd::domain::BpCategory::kHighNormal,
                                 .station_id = "S",
                                 .device_id = "D",
                                 .context = alertd::domain::ReadingContext::kSelfTest});
    }
    CommitBatch batch;
    batch.workers.push_back({worker, std::move(state)});
    batch.next_offsets.push_back({position, i});
    const uint64_t seq = store.NextOutboxSeq();
    batch.outbox_put.push_back(
        {.seq = seq, .topic = "escalations", .key = "W", .value = std::to_string(i), .source_partition = 0});
    batch.outbox_delete = std::move(undelivered);
    undelivered = {batch.outbox_put.back().id()};
    const WorkerKey added{.partition = 1, .worker = WorkerId{"W" + std::to_string(i)}};
    alertd::domain::WorkerState added_state;
    added_state.readings_accepted = static_cast<uint64_t>(i);
    batch.workers.push_back({added, std::move(added_state)});
    const auto moving_timer = [&](int64_t fire_at) {
      return Timer{.fire_at = ProcessingTime{fire_at},
                   .partition = 0,
                   .worker = worker.worker,
                   .rule = Rule::kR2SustainedHypertension,
                   .kind = alertd::domain::TimerKind::kRenotify};
    };
    batch.timers_put = {moving_timer(i), Timer{.fire_at = ProcessingTime{i},
                                               .partition = 1,
                                               .worker = added.worker,
                                               .rule = Rule::kR3SelfTestMissed,
                                               .kind = alertd::domain::TimerKind::kSelfTestDue}};
    batch.timers_delete = {moving_timer(i - 1)};
    if (absl::Status status = store.Commit(batch); !status.ok()) {
      std::fprintf(stderr, "commit %lld: %s\n", static_cast<long long>(i), status.ToString().c_str());
      return 1;
    }
    const std::string line = "committed " + std::to_string(i) + "\n";
    ssize_t written = 0;
    do {
      written = write(STDOUT_FILENO, line.data(), line.size());
    } while (written < 0 && errno == EINTR);
    if (written != static_cast<ssize_t>(line.size())) return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <store dir>\n", argv[0]);
    return 2;
  }
  return Run(argv[1]);
}
