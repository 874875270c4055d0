// Stream mode's merge of a partition's input topics into one record order, by record timestamp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace alertd::app {

// Buffers the records of every owned partition per input (topic) and hands them out in timestamp
// order within each partition, as Kafka Streams does: a partition's next record is the smallest head
// timestamp among its inputs (ties: the lower input index first; within one input, arrival order),
// and only once every input of the partition has a buffered record or is known to be at its end, so
// a record still on its way in another topic cannot be overtaken. The order is then a function of
// the data alone, not of fetch timing, which makes replays deterministic.
//
// "At its end" is what the consumer reported last (enable.partition.eof), confirmed at the moment it
// matters by the caller's `still_at_end` (the engine compares the high watermark of the latest fetch
// with what it has received): an end reported before a record of another input was written is stale
// once that record arrives, since the fetch that brought it also told of the newer end, so the
// record waits for what was written before it. A record arriving on the input clears the flag until
// the consumer reports the end again.
//
// The buffer of each input is bounded: Push says when an input reached `max_buffered` records (the
// caller pauses it in the consumer) and Pop when it fell to half of that (the caller resumes it).
// `Record` is any movable handle (the engine's owns an rd_kafka_message_t); dropping one releases it.
// Thread-compatible.
template <typename Record>
class StreamMerge {
 public:
  struct Next {
    int32_t partition = 0;
    int input = 0;
    int64_t timestamp = 0;
    Record record;
    bool resume_input = false;  // the input was paused for a full buffer and may fetch again
  };

  // Asked about an input that reported its end and has nothing buffered, before a record of another
  // input of its partition goes: false if more records of it are known to exist.
  using StillAtEnd = std::function<bool(int32_t partition, int input)>;

  explicit StreamMerge(std::size_t max_buffered, StillAtEnd still_at_end = nullptr)
      : max_buffered_(max_buffered < 2 ? 2 : max_buffered), still_at_end_(std::move(still_at_end)) {}

  // Declares an input of an owned partition (on assignment). Records of undeclared inputs are kept
  // but never wait for anything.
  void AddInput(int32_t partition, int input) {
    Partition& p = partitions_[partition];
    if (p.inputs.size() <= static_cast<std::size_t>(input)) p.inputs.resize(static_cast<std::size_t>(input) + 1);
    p.inputs[static_cast<std::size_t>(input)].declared = true;
  }

  // Forgets every partition and drops their buffered records (on revocation: they are read again
  // from the stored offsets).
  void Clear() {
    partitions_.clear();
    dirty_.clear();
  }

  // Forgets one partition and drops its buffered records (it moved away: they are read again by its
  // next owner from the stored offsets).
  void RemovePartition(int32_t partition) { partitions_.erase(partition); }

  // Buffers a record; true if its input just reached the bound and should be paused.
  bool Push(int32_t partition, int input, int64_t timestamp, Record record) {
    Partition& p = partitions_[partition];
    if (p.inputs.size() <= static_cast<std::size_t>(input)) p.inputs.resize(static_cast<std::size_t>(input) + 1);
    Input& in = p.inputs[static_cast<std::size_t>(input)];
    in.buffer.push_back({timestamp, std::move(record)});
    in.at_end = false;
    MarkDirty(partition, p);
    if (!in.paused && in.buffer.size() >= max_buffered_) {
      in.paused = true;
      return true;
    }
    return false;
  }

  // The consumer reached the end of this input.
  void MarkEnd(int32_t partition, int input) {
    Partition& p = partitions_[partition];
    if (p.inputs.size() <= static_cast<std::size_t>(input)) p.inputs.resize(static_cast<std::size_t>(input) + 1);
    p.inputs[static_cast<std::size_t>(input)].at_end = true;
    MarkDirty(partition, p);
  }

  // The next record of some partition that may go on, or nullopt if every partition waits.
  // Amortised O(inputs): only partitions that changed since they last waited are looked at.
  std::optional<Next> Pop() {
    while (!dirty_.empty()) {
      const int32_t partition = dirty_.front();
      auto it = partitions_.find(partition);
      if (it == partitions_.end()) {
        dirty_.pop_front();
        continue;
      }
      Partition& p = it->second;
      const int pick = Pick(partition, p);
      if (pick < 0) {
        p.dirty = false;
        dirty_.pop_front();
        continue;
      }
      Input& in = p.inputs[static_cast<std::size_t>(pick)];
      Next next{partition, pick, in.buffer.front().timestamp, std::move(in.buffer.front().record), false};
      in.buffer.pop_front();
      if (in.paused && in.buffer.size() <= max_buffered_ / 2) {
        in.paused = false;
        next.resume_input = true;
      }
      return next;
    }
    return std::nullopt;
  }

  // Records buffered across all partitions.
  std::size_t buffered() const {
    std::size_t n = 0;
    for (const auto& [_, p] : partitions_) {
      for (const Input& in : p.inputs) n += in.buffer.size();
    }
    return n;
  }

 private:
  struct Buffered {
    int64_t timestamp;
    Record record;
  };
  struct Input {
    std::deque<Buffered> buffer;
    bool declared = false;
    bool at_end = false;
    bool paused = false;
  };
  struct Partition {
    std::deque<Input> inputs;  // a deque: growing it never moves the buffers
    bool dirty = false;
  };

  void MarkDirty(int32_t partition, Partition& p) {
    if (p.dirty) return;
    p.dirty = true;
    dirty_.push_back(partition);
  }

  // The input whose head goes next, or -1 while a declared input may still bring an earlier record.
  int Pick(int32_t partition, const Partition& p) const {
    int best = -1;
    for (std::size_t i = 0; i < p.inputs.size(); ++i) {
      const Input& in = p.inputs[i];
      if (in.buffer.empty()) {
        if (in.declared && !in.at_end) return -1;
        if (in.declared && still_at_end_ && !still_at_end_(partition, static_cast<int>(i))) return -1;
        continue;
      }
      if (best < 0 || in.buffer.front().timestamp < p.inputs[static_cast<std::size_t>(best)].buffer.front().timestamp) {
        best = static_cast<int>(i);
      }
    }
    return best;
  }

  std::size_t max_buffered_;
  StillAtEnd still_at_end_;
  std::map<int32_t, Partition> partitions_;
  std::deque<int32_t> dirty_;  // partitions to look at, each at most once
};

}  // namespace alertd::app
