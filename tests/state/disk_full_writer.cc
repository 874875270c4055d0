// Helper of disk_full_test.cc: commits to a RocksDB state store with fsync until a commit fails.
//
// Usage: state_disk_full_writer <store dir> <record bytes> <commits, 0 = until one fails> <reserve bytes>
// Each commit i (continuing after what the store already holds) sets worker W's readings_accepted
// and readings/0's next offset to i and puts outbox seq NextOutboxSeq() holding "i:" and then
// incompressible filler up to <record bytes>; entries are never deleted, so the store grows by
// about one record per commit. After each commit it prints "i\n" to stdout: the commits the parent
// may count on. On a failed open or commit it prints the status to stderr and exits with
// kExitResourceExhausted for a ResourceExhausted status, 1 for any other.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "engine/state/store.h"

namespace {

using alertd::state::CommitBatch;
using alertd::state::InputPosition;
using alertd::state::StateStore;
using alertd::state::WorkerKey;

constexpr int kExitResourceExhausted = 3;

int ExitFor(const absl::Status& status, const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
  return status.code() == absl::StatusCode::kResourceExhausted ? kExitResourceExhausted : 1;
}

int Run(const std::string& path, size_t record_bytes, int64_t commits, uint64_t reserve_bytes) {
  absl::StatusOr<std::unique_ptr<StateStore>> opened = alertd::state::OpenRocksStore(
      {.path = path, .sync_commits = true, .block_cache_bytes = 1 << 20, .disk_reserve_bytes = reserve_bytes});
  if (!opened.ok()) return ExitFor(opened.status(), "open");
  StateStore& store = **opened;
  const WorkerKey worker{.partition = 0, .worker = alertd::domain::WorkerId{"W"}};
  const InputPosition position{.topic = "readings", .partition = 0};

  absl::StatusOr<std::optional<int64_t>> resumed = store.LoadNextOffset(position);
  if (!resumed.ok()) return ExitFor(resumed.status(), "load");
  // Random bytes, so LZ4 cannot shrink what the commits write.
  std::mt19937_64 random(static_cast<uint64_t>(resumed->value_or(0)));
  const int64_t first = resumed->value_or(0) + 1;
  for (int64_t i = first; commits == 0 || i < first + commits; ++i) {
    std::string value = std::to_string(i) + ":";
    while (value.size() < record_bytes) value.push_back(static_cast<char>(random()));
    alertd::domain::WorkerState state;
    state.readings_accepted = static_cast<uint64_t>(i);
    CommitBatch batch;
    batch.workers.push_back({worker, std::move(state)});
    batch.next_offsets.push_back({position, i});
    batch.outbox_put.push_back({.seq = store.NextOutboxSeq(),
                                .topic = "escalations",
                                .key = "W",
                                .value = std::move(value),
                                .source_partition = 0});
    if (absl::Status status = store.Commit(batch); !status.ok()) return ExitFor(status, "commit");
    std::printf("%lld\n", static_cast<long long>(i));
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s <store dir> <record bytes> <commits, 0 = until one fails> <reserve bytes>\n",
                 argv[0]);
    return 2;
  }
  return Run(argv[1], std::strtoull(argv[2], nullptr, 10), std::strtoll(argv[3], nullptr, 10),
             std::strtoull(argv[4], nullptr, 10));
}
