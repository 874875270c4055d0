// The changelog: each partition's state changes, also written to that partition of a compacted Kafka
// topic so that the partition's next owner can restore them; the record format and the writer.
//
// Record format (the topic's contract, one Kafka partition per input partition):
//   change  key = 1-byte state::Family + the store key; value = the store's encoded value, null when the
//           key was deleted. Compaction keeps each key's latest value: exactly the live state.
//   commit  key = "\xFF" "commit"; ends one commit's changes of the partition. A restore applies the
//           changes since the previous commit record all at once, never half a commit.
//   fence   key = "\xFF" "fence", value = 4-byte big-endian epoch: a new owner took the partition over.
// Every record carries the header "alertd.epoch" (4 bytes, big-endian), the ownership epoch of the
// instance that wrote it.
//
// Fencing without transactions. The mock cluster (and a broker without transactions) cannot stop an
// old owner that was paused past its session timeout from writing once it wakes up. So the records
// carry the epoch: an owner takes a partition over by restoring it to the end of its changelog and
// writing a fence with an epoch higher than any it read; a restore ignores every record whose epoch is
// lower than the highest it has read so far, and drops the changes read since the last commit record
// when a fence or a newer epoch ends them (a commit torn by a crash, or interrupted by the fence).
// The new owner writes the keys such dropped changes touched again with its own values, so that
// compaction cannot leave a dropped value as a key's latest one.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/kafka/clients.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/state/store.h"

typedef struct rd_kafka_s rd_kafka_t;

namespace alertd::app {

inline constexpr char kEpochHeader[] = "alertd.epoch";
inline constexpr std::string_view kCommitKey = "\xFF" "commit";
inline constexpr std::string_view kFenceKey = "\xFF" "fence";

// One changelog record, decoded.
struct ChangelogRecord {
  enum class Kind { kChange, kCommit, kFence };
  Kind kind = Kind::kChange;
  uint32_t epoch = 0;   // from the header; 0 if the header is missing
  state::Change change;  // kChange only
  uint32_t fence_epoch = 0;  // kFence only
};

// InvalidArgument, saying what is wrong, for a record no alertd writes (an unknown family byte, a
// fence value that is not 4 bytes, a bad header).
[[nodiscard]] absl::StatusOr<ChangelogRecord> DecodeChangelogRecord(std::string_view key, const std::string_view* value,
                                                                    std::optional<std::string_view> epoch_header);
std::string ChangelogKey(const state::Change& change);

// What a restore makes of one partition's changelog records, read in offset order (the rules at the
// top of this file), with no Kafka and no store: the changes of complete commits to apply, and the
// keys of the changes it dropped (fenced off, or a commit that never got its commit record).
class ChangelogReplay {
 public:
  using FamilyKey = std::pair<state::Family, std::string>;

  // `epoch`: the highest epoch the store already holds of the partition (0 if none).
  explicit ChangelogReplay(uint32_t epoch) : epoch_(epoch) {}

  // The record at `offset`.
  void Add(ChangelogRecord record, int64_t offset);
  // The end of what is read: a trailing commit without its commit record is dropped.
  void End();

  // The changes of the complete commits added since the last call, in order, and the offset after
  // the last one's commit record; nullopt if no commit completed since.
  std::optional<int64_t> TakeReady(std::vector<state::Change>& changes);
  std::size_t ready() const { return ready_.size(); }

  uint32_t epoch() const { return epoch_; }
  const std::set<FamilyKey>& dropped_keys() const { return dropped_; }
  uint64_t dropped_records() const { return dropped_records_; }

 private:
  void DropPending();

  uint32_t epoch_;
  std::vector<state::Change> pending_;  // since the last commit record
  std::vector<state::Change> ready_;
  int64_t ready_next_offset_ = -1;
  std::set<FamilyKey> dropped_;
  uint64_t dropped_records_ = 0;
};
std::string EncodeEpoch(uint32_t epoch);
uint32_t DecodeEpoch(std::string_view four_bytes);

// Writes the changelog of the partitions this instance owns: a commit's changes before the commit is
// written locally (so the changelog never lacks what a store holds), a fence when a partition is
// taken over. Blocks until the broker has confirmed the records.
//
// Lanes. librdkafka sends one Produce request per partition, and an idempotent producer keeps at most
// five in flight per broker, so a commit touching a hundred partitions waits for twenty round trips in
// turn on one producer. The writer therefore produces through `lanes` idempotent producers, partition
// p always through lane p % lanes (each partition's records stay in order, as idempotence needs), and
// a commit's requests go out up to 5 * lanes at a time. Kafka Streams likewise once gave each task a
// producer of its own.
//
// Thread-safe: the committer thread writes commits while the engine thread fences and releases.
class ChangelogWriter {
 public:
  static constexpr int kDefaultLanes = 4;
  // The topic must exist; its partitions must match the inputs' (checked by the engine). lanes >= 1.
  static absl::StatusOr<std::unique_ptr<ChangelogWriter>> Create(const std::string& bootstrap, std::string topic,
                                                                 const kafka::Properties& properties,
                                                                 metrics::EngineMetrics& metrics,
                                                                 int lanes = kDefaultLanes);
  ~ChangelogWriter();
  ChangelogWriter(const ChangelogWriter&) = delete;
  ChangelogWriter& operator=(const ChangelogWriter&) = delete;

  const std::string& topic() const { return topic_; }

  // Takes a partition over under `epoch` (higher than any epoch its changelog holds): the fence, then
  // `repairs` (the current values of keys whose changelog values a restore dropped, or a whole
  // snapshot of a store the changelog never had), then a commit record.
  struct Takeover {
    int32_t partition = 0;
    uint32_t epoch = 0;
    std::vector<state::Change> repairs;
  };
  // Writes every takeover's records in one round trip; from then on Write() sends those partitions'
  // changes. Returns the checkpoint to store for each, in order.
  [[nodiscard]] absl::StatusOr<std::vector<state::ChangelogCheckpoint>> Fence(const std::vector<Takeover>& takeovers);
  // The changes of one commit: those of owned partitions go to the changelog, each partition's ended
  // by a commit record; the others stay local (output confirmed after its partition moved away).
  // Unavailable if the broker did not confirm them all (the commit may be tried again: a restore
  // applies repeated changes of one commit in order, which ends in the same state).
  [[nodiscard]] absl::StatusOr<std::vector<std::pair<int32_t, state::ChangelogCheckpoint>>> Write(
      const std::vector<state::Change>& changes);
  // The partition moved away: its changes stay local from now on.
  void Release(int32_t partition);
  // The epoch the partition is owned under; 0 if it is not owned.
  uint32_t EpochOf(int32_t partition) const;

 private:
  struct Owned {
    uint32_t epoch = 0;
    int64_t fence_offset = -1;
    int64_t last_offset = -1;  // of this writer's last record to the partition
    bool contiguous = true;    // every record since the fence landed right after the previous one
  };
  struct Outgoing;
  ChangelogWriter(std::vector<rd_kafka_t*> lanes, std::string topic, metrics::EngineMetrics& metrics);
  rd_kafka_t* LaneOf(int32_t partition) const { return lanes_[static_cast<std::size_t>(partition) % lanes_.size()]; }
  // Produces the records and waits for every delivery report; fills in their offsets.
  absl::Status Send(std::vector<Outgoing>& records);
  static void OnDelivery(rd_kafka_t* rk, const void* message, void* opaque);

  const std::vector<rd_kafka_t*> lanes_;  // one idempotent producer each
  const std::string topic_;
  metrics::EngineMetrics& metrics_;
  std::mutex send_mu_;  // one Send at a time: delivery reports are matched to its records
  mutable std::mutex owned_mu_;
  std::map<int32_t, Owned> owned_;
};

}  // namespace alertd::app
