// The changelog's record format and its writer (see changelog.h).
#include "engine/app/changelog.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/app/kafka_error.h"
#include "engine/app/steady_time.h"

namespace alertd::app {
namespace {

constexpr uint8_t kMaxFamily = static_cast<uint8_t>(state::Family::kSamples);

}  // namespace

std::string EncodeEpoch(uint32_t epoch) {
  std::string bytes(4, '\0');
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>((epoch >> (24 - 8 * i)) & 0xFF);
  return bytes;
}

uint32_t DecodeEpoch(std::string_view four_bytes) {
  uint32_t epoch = 0;
  for (int i = 0; i < 4; ++i) epoch = (epoch << 8) | static_cast<unsigned char>(four_bytes[i]);
  return epoch;
}

std::string ChangelogKey(const state::Change& change) {
  std::string key;
  key.reserve(1 + change.key.size());
  key.push_back(static_cast<char>(change.family));
  key.append(change.key);
  return key;
}

absl::StatusOr<ChangelogRecord> DecodeChangelogRecord(std::string_view key, const std::string_view* value,
                                                      std::optional<std::string_view> epoch_header) {
  ChangelogRecord record;
  if (epoch_header) {
    if (epoch_header->size() != 4) {
      return absl::InvalidArgumentError(absl::StrCat("header ", kEpochHeader, " has ", epoch_header->size(),
                                                     " bytes, not 4"));
    }
    record.epoch = DecodeEpoch(*epoch_header);
  }
  if (key == kCommitKey) {
    record.kind = ChangelogRecord::Kind::kCommit;
    return record;
  }
  if (key == kFenceKey) {
    if (value == nullptr || value->size() != 4) {
      return absl::InvalidArgumentError("fence record without a 4-byte epoch value");
    }
    record.kind = ChangelogRecord::Kind::kFence;
    record.fence_epoch = DecodeEpoch(*value);
    return record;
  }
  if (key.empty() || static_cast<uint8_t>(key[0]) > kMaxFamily) {
    return absl::InvalidArgumentError(absl::StrCat("key \"", absl::CHexEscape(absl::string_view(key.data(), key.size())),
                                                   "\" does not start with a column family byte"));
  }
  record.change.family = static_cast<state::Family>(key[0]);
  record.change.key.assign(key.substr(1));
  if (value != nullptr) record.change.value = std::string(*value);
  return record;
}

void ChangelogReplay::DropPending() {
  for (state::Change& c : pending_) dropped_.insert({c.family, std::move(c.key)});
  dropped_records_ += pending_.size();
  pending_.clear();
}

void ChangelogReplay::Add(ChangelogRecord record, int64_t offset) {
  if (record.epoch < epoch_) {
    // Written by an owner that had already been fenced off: a paused instance that woke up.
    dropped_records_ += 1;
    if (record.kind == ChangelogRecord::Kind::kChange) dropped_.insert({record.change.family, std::move(record.change.key)});
    return;
  }
  if (record.epoch > epoch_) {
    DropPending();  // a new owner: whatever its predecessor left unfinished was never committed
    epoch_ = record.epoch;
  }
  switch (record.kind) {
    case ChangelogRecord::Kind::kFence:
      DropPending();
      epoch_ = std::max(epoch_, record.fence_epoch);
      break;
    case ChangelogRecord::Kind::kCommit:
      for (state::Change& c : pending_) ready_.push_back(std::move(c));
      pending_.clear();
      ready_next_offset_ = offset + 1;
      break;
    case ChangelogRecord::Kind::kChange:
      pending_.push_back(std::move(record.change));
      break;
  }
}

void ChangelogReplay::End() { DropPending(); }

std::optional<int64_t> ChangelogReplay::TakeReady(std::vector<state::Change>& changes) {
  if (ready_next_offset_ < 0) return std::nullopt;
  changes = std::move(ready_);
  ready_.clear();
  const int64_t next = ready_next_offset_;
  ready_next_offset_ = -1;
  return next;
}

// One record on its way to the broker; the delivery report fills in where it landed. The value and
// the epoch header point into the caller's changes and epochs, which outlive Send(): it returns only
// once every record has its delivery report, so the producer may keep referring to them until then
// and needs no copy of its own.
struct ChangelogWriter::Outgoing {
  int32_t partition = 0;
  std::string key;
  const std::string* value = nullptr;  // nullptr: a null value (a deletion, a commit record)
  const std::string* epoch = nullptr;  // header bytes
  int64_t offset = -1;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__IN_PROGRESS;
};

absl::StatusOr<std::unique_ptr<ChangelogWriter>> ChangelogWriter::Create(const std::string& bootstrap,
                                                                         std::string topic,
                                                                         const kafka::Properties& properties,
                                                                         metrics::EngineMetrics& metrics,
                                                                         int lanes) {
  // The output's size limit is not the changelog's: a change is one store record, bounded by the
  // input bounds and window caps, and the changelog topic must accept it (README, Scale-out).
  kafka::Properties extra = properties;
  extra.erase("message.max.bytes");
  std::vector<rd_kafka_t*> producers;
  for (int lane = 0; lane < std::max(1, lanes); ++lane) {
    auto producer = kafka::NewCClient(
        RD_KAFKA_PRODUCER,
        {
            {"bootstrap.servers", bootstrap},
            // In order and once per partition, whatever the retries: a restore applies records in offset
            // order, and contiguity (checkpoint) is read from the offsets.
            {"enable.idempotence", "true"},
            {"acks", "all"},
            {"linger.ms", "1"},
        },
        extra, "changelog producer", [](rd_kafka_conf_t* conf) {
          rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) {
            OnDelivery(rk, m, opaque);
          });
        });
    if (!producer.ok()) {
      for (rd_kafka_t* p : producers) rd_kafka_destroy(p);
      return producer.status();
    }
    producers.push_back(*producer);
    // A new topic handle asks for the topic's leaders in the background, so they are known by the
    // first takeover: a producer that learns of a topic from its first records held them until its
    // next metadata refresh (the first fence took 1 s). Nothing here waits for the broker.
    rd_kafka_topic_destroy(rd_kafka_topic_new(*producer, topic.c_str(), nullptr));
  }
  return std::unique_ptr<ChangelogWriter>(new ChangelogWriter(std::move(producers), std::move(topic), metrics));
}

ChangelogWriter::ChangelogWriter(std::vector<rd_kafka_t*> lanes, std::string topic, metrics::EngineMetrics& metrics)
    : lanes_(std::move(lanes)), topic_(std::move(topic)), metrics_(metrics) {}

ChangelogWriter::~ChangelogWriter() {
  for (rd_kafka_t* lane : lanes_) rd_kafka_flush(lane, 5000);
  for (rd_kafka_t* lane : lanes_) rd_kafka_destroy(lane);
}

void ChangelogWriter::OnDelivery(rd_kafka_t*, const void* message, void*) {
  const auto* m = static_cast<const rd_kafka_message_t*>(message);
  auto* out = static_cast<Outgoing*>(m->_private);
  if (out == nullptr) return;
  out->err = m->err;
  out->offset = m->offset;
}

absl::Status ChangelogWriter::Send(std::vector<Outgoing>& records) {
  std::lock_guard<std::mutex> lock(send_mu_);
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t bytes = 0;
  for (Outgoing& r : records) {
    bytes += r.key.size() + (r.value ? r.value->size() : 0);
    for (;;) {
      // rd_kafka_produceva rather than the producev macros, whose C casts the warnings refuse.
      rd_kafka_vu_t vus[7];
      vus[0].vtype = RD_KAFKA_VTYPE_TOPIC;
      vus[0].u.cstr = topic_.c_str();
      vus[1].vtype = RD_KAFKA_VTYPE_PARTITION;
      vus[1].u.i32 = r.partition;
      vus[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
      vus[2].u.i = 0;  // no copy of the value: it outlives the delivery report (see Outgoing)
      vus[3].vtype = RD_KAFKA_VTYPE_KEY;
      vus[3].u.mem = {const_cast<char*>(r.key.data()), r.key.size()};
      vus[4].vtype = RD_KAFKA_VTYPE_VALUE;
      vus[4].u.mem = {r.value ? const_cast<char*>(r.value->data()) : nullptr, r.value ? r.value->size() : 0};
      vus[5].vtype = RD_KAFKA_VTYPE_HEADER;
      vus[5].u.header = {kEpochHeader, r.epoch->data(), static_cast<ssize_t>(r.epoch->size())};
      vus[6].vtype = RD_KAFKA_VTYPE_OPAQUE;
      vus[6].u.ptr = &r;
      rd_kafka_t* lane = LaneOf(r.partition);
      rd_kafka_error_t* error = rd_kafka_produceva(lane, vus, 7);
      const rd_kafka_resp_err_t err = error == nullptr ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_error_code(error);
      if (error != nullptr) rd_kafka_error_destroy(error);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(lane, 50);
        continue;
      }
      r.err = err;
      break;
    }
  }
  // Every record either failed to enqueue or gets a delivery report, after at most message.timeout.ms.
  // A poll returns at its lane's first report, so the wait is the slowest lane's, not their sum.
  for (const Outgoing& r : records) {
    while (r.err == RD_KAFKA_RESP_ERR__IN_PROGRESS) rd_kafka_poll(LaneOf(r.partition), 100);
  }
  for (const Outgoing& r : records) {
    if (r.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      metrics_.CountChangelogError();
      return absl::UnavailableError(absl::StrCat("changelog ", topic_, "[", r.partition,
                                                 "]: the broker did not confirm the commit's records: ",
                                                 rd_kafka_err2str(r.err)));
    }
  }
  metrics_.CountChangelogWrite(records.size(), bytes, SecondsSince(t0));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<state::ChangelogCheckpoint>> ChangelogWriter::Fence(
    const std::vector<Takeover>& takeovers) {
  std::vector<Outgoing> records;
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // each takeover's [first, last] record
  std::vector<std::string> epochs;  // one per takeover; reserved, so records may point into it
  epochs.reserve(takeovers.size());
  for (const Takeover& t : takeovers) {
    const std::string& epoch_bytes = epochs.emplace_back(EncodeEpoch(t.epoch));
    const std::size_t first = records.size();
    // The fence's value is its epoch.
    records.push_back({t.partition, std::string(kFenceKey), &epoch_bytes, &epoch_bytes});
    for (const state::Change& c : t.repairs) {
      records.push_back({t.partition, ChangelogKey(c), c.value ? &*c.value : nullptr, &epoch_bytes});
    }
    records.push_back({t.partition, std::string(kCommitKey), nullptr, &epoch_bytes});
    spans.emplace_back(first, records.size() - 1);
  }
  if (records.empty()) return std::vector<state::ChangelogCheckpoint>();
  if (auto st = Send(records); !st.ok()) return st;
  std::vector<state::ChangelogCheckpoint> checkpoints;
  std::lock_guard<std::mutex> lock(owned_mu_);
  for (std::size_t i = 0; i < takeovers.size(); ++i) {
    const auto [first, last] = spans[i];
    Owned owned{.epoch = takeovers[i].epoch, .fence_offset = records[first].offset, .last_offset = records[last].offset};
    for (std::size_t r = first + 1; r <= last; ++r) {
      if (records[r].offset != records[r - 1].offset + 1) owned.contiguous = false;
    }
    owned_[takeovers[i].partition] = owned;
    checkpoints.push_back({.next_offset = owned.last_offset + 1,
                           .epoch = owned.epoch,
                           .fence_offset = owned.fence_offset,
                           .contiguous = owned.contiguous});
  }
  return checkpoints;
}

absl::StatusOr<std::vector<std::pair<int32_t, state::ChangelogCheckpoint>>> ChangelogWriter::Write(
    const std::vector<state::Change>& changes) {
  std::map<int32_t, Owned> owned;
  {
    std::lock_guard<std::mutex> lock(owned_mu_);
    owned = owned_;
  }
  std::vector<Outgoing> records;
  // The changes and a commit record per partition they touch: growing past it would move every
  // record's key (~1.5% of the realistic drain's CPU when this reserved one commit record).
  records.reserve(changes.size() + owned.size());
  std::map<int32_t, std::string> touched;  // partition -> epoch header bytes; the nodes stay put
  for (const state::Change& c : changes) {
    const int32_t p = state::PartitionOfChange(c);
    auto it = owned.find(p);
    if (it == owned.end()) continue;
    auto epoch = touched.find(p);
    if (epoch == touched.end()) epoch = touched.emplace(p, EncodeEpoch(it->second.epoch)).first;
    records.push_back({p, ChangelogKey(c), c.value ? &*c.value : nullptr, &epoch->second});
  }
  for (const auto& [p, epoch] : touched) records.push_back({p, std::string(kCommitKey), nullptr, &epoch});
  std::vector<std::pair<int32_t, state::ChangelogCheckpoint>> checkpoints;
  if (records.empty()) return checkpoints;
  if (auto st = Send(records); !st.ok()) return st;

  std::lock_guard<std::mutex> lock(owned_mu_);
  for (const Outgoing& r : records) {
    auto it = owned_.find(r.partition);
    if (it == owned_.end()) continue;  // released meanwhile
    Owned& o = it->second;
    if (o.contiguous && o.last_offset >= 0 && r.offset != o.last_offset + 1) {
      // Someone else wrote to the partition since this writer's last record: a new owner (this
      // instance was paused past its session and is a zombie now), or a paused old owner waking up.
      o.contiguous = false;
      metrics_.CountChangelogForeignWrite();
      spdlog::warn("changelog {}[{}]: records of another instance between offsets {} and {}; the local copy of "
                   "partition {} will be restored from the changelog's start when it is next assigned",
                   topic_, r.partition, o.last_offset, r.offset, r.partition);
    }
    o.last_offset = std::max(o.last_offset, r.offset);
  }
  for (const auto& [p, _] : touched) {
    auto it = owned_.find(p);
    if (it == owned_.end()) continue;
    checkpoints.push_back({p, state::ChangelogCheckpoint{.next_offset = it->second.last_offset + 1,
                                                         .epoch = it->second.epoch,
                                                         .fence_offset = it->second.fence_offset,
                                                         .contiguous = it->second.contiguous}});
  }
  return checkpoints;
}

void ChangelogWriter::Release(int32_t partition) {
  std::lock_guard<std::mutex> lock(owned_mu_);
  owned_.erase(partition);
}

uint32_t ChangelogWriter::EpochOf(int32_t partition) const {
  std::lock_guard<std::mutex> lock(owned_mu_);
  auto it = owned_.find(partition);
  return it == owned_.end() ? 0 : it->second.epoch;
}

}  // namespace alertd::app
