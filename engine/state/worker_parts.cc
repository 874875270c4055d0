// A worker's head and parts: keys, the difference a commit writes, and reassembly; see worker_parts.h.
#include "engine/state/worker_parts.h"

#include <cstddef>
#include <limits>
#include <optional>
#include <unordered_map>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/state/layout.h"
#include "engine/state/worker_record.h"

namespace alertd::state::layout {
namespace {

// Partition and id length before the id; kind after it; measured_at and ordinal after a sample's kind.
constexpr size_t kPrefixFixedBytes = 4 + 4;
constexpr size_t kSampleSuffixBytes = 8 + 4;

std::string EscapedKey(std::string_view key) {
  return absl::StrCat("key \"", absl::CHexEscape(absl::string_view(key.data(), key.size())), "\"");
}

absl::Status Corrupt(absl::string_view store, Family family, absl::string_view what, absl::string_view detail) {
  return absl::DataLossError(absl::StrCat("state store ", store, ": column family ", Name(family),
                                          ": corrupt record for ", what, ": ", detail));
}

// Named after the workers family whichever part is at fault: the worker's state is what cannot be stored.
absl::Status CannotStore(absl::string_view store, const WorkerKey& key, absl::string_view detail) {
  return absl::InvalidArgumentError(absl::StrCat("state store ", store, ": column family ", Name(Family::kWorkers),
                                                 ": cannot store ", Describe(key), ": ", detail));
}

const char* WindowName(PartKind kind) { return kind == PartKind::kBpSample ? "bp_window" : "glucose_window"; }

// Windows are kept in ascending measured_at; the keys rely on it to read them back in the same order.
template <typename Sample>  // a domain sample or its WorkerImage form
std::optional<std::string> OutOfOrder(const std::vector<Sample>& window, PartKind kind) {
  for (size_t i = 1; i < window.size(); ++i) {
    if (window[i].measured_at < window[i - 1].measured_at) {
      return absl::StrCat(WindowName(kind), "[", i, "] is measured before ", WindowName(kind), "[", i - 1,
                          "]: a window is kept in ascending measured_at");
    }
  }
  return std::nullopt;
}

// Walks a window in key order, giving each sample its ordinal among those of the same measured_at.
template <typename Sample>
class WindowCursor {
 public:
  explicit WindowCursor(const std::vector<Sample>& window) : window_(window) {}
  bool done() const { return index_ >= window_.size(); }
  const Sample& sample() const { return window_[index_]; }
  size_t index() const { return index_; }
  std::pair<int64_t, uint32_t> position() const { return {window_[index_].measured_at.ms, ordinal_}; }
  void Next() {
    ++index_;
    const bool same_time = !done() && window_[index_].measured_at == window_[index_ - 1].measured_at;
    ordinal_ = same_time ? ordinal_ + 1 : 0;
  }

 private:
  const std::vector<Sample>& window_;
  size_t index_ = 0;
  uint32_t ordinal_ = 0;
};

absl::StatusOr<std::string> EncodeSample(const domain::BpSample& sample, size_t index) {
  return EncodeBpSample(sample, index);
}
absl::StatusOr<std::string> EncodeSample(const domain::GlucoseSample& sample, size_t index) {
  return EncodeGlucoseSample(sample, index);
}

// Puts for the samples of `after` whose (measured_at, ordinal) key is new or holds another sample,
// deletions for the keys of `before` that `after` no longer has. Both windows ascend, so one merge.
template <typename Kept, typename Sample>
absl::Status DiffWindow(absl::string_view store, const WorkerKey& key, PartKind kind, const std::vector<Kept>& before,
                        const std::vector<Sample>& after, std::vector<Change>& writes) {
  if (auto problem = OutOfOrder(after, kind)) return CannotStore(store, key, *problem);
  if (auto problem = OutOfOrder(before, kind)) {
    return CannotStore(store, key, absl::StrCat("the state before the commit: ", *problem));
  }
  const auto part_key = [&](std::pair<int64_t, uint32_t> position) {
    return PartKeyBytes(
        {.worker = key, .kind = kind, .measured_at = domain::EventTime{position.first}, .ordinal = position.second});
  };
  WindowCursor<Kept> old_cursor(before);
  WindowCursor<Sample> new_cursor(after);
  while (!old_cursor.done() || !new_cursor.done()) {
    const bool take_old = !old_cursor.done() && (new_cursor.done() || old_cursor.position() < new_cursor.position());
    const bool take_new = !new_cursor.done() && (old_cursor.done() || new_cursor.position() < old_cursor.position());
    if (take_old) {
      writes.push_back(Change{.family = Family::kSamples, .key = part_key(old_cursor.position()), .value = std::nullopt});
      old_cursor.Next();
      continue;
    }
    if (take_new || !old_cursor.sample().Same(new_cursor.sample())) {
      absl::StatusOr<std::string> value = EncodeSample(new_cursor.sample(), new_cursor.index());
      if (!value.ok()) return CannotStore(store, key, value.status().message());
      writes.push_back(Change{.family = Family::kSamples, .key = part_key(new_cursor.position()), .value = *std::move(value)});
    }
    if (!take_new) old_cursor.Next();
    new_cursor.Next();
  }
  return absl::OkStatus();
}

}  // namespace

std::string WorkerPartsPrefix(const WorkerKey& key) {
  std::string bytes;
  bytes.reserve(kPrefixFixedBytes + key.worker.value.size() + 1 + kSampleSuffixBytes);
  AppendBigEndian32(bytes, static_cast<uint32_t>(key.partition));
  AppendBigEndian32(bytes, static_cast<uint32_t>(key.worker.value.size()));
  bytes.append(key.worker.value);
  return bytes;
}

std::string PartKeyBytes(const PartKey& key) {
  std::string bytes = WorkerPartsPrefix(key.worker);
  bytes.push_back(static_cast<char>(key.kind));
  if (key.kind == PartKind::kProfile) return bytes;
  AppendOrderedTime(bytes, key.measured_at.ms);
  AppendBigEndian32(bytes, key.ordinal);
  return bytes;
}

absl::StatusOr<PartKey> ParsePartKey(absl::string_view store, std::string_view bytes) {
  const auto corrupt = [&](absl::string_view detail) {
    return Corrupt(store, Family::kSamples, EscapedKey(bytes), detail);
  };
  if (bytes.size() < kPrefixFixedBytes + 1) return corrupt("shorter than a partition, an id length and a kind");
  const auto partition = ReadBigEndian<uint32_t>(bytes);
  const auto length = ReadBigEndian<uint32_t>(bytes.substr(4));
  if (partition > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) return corrupt("negative partition");
  if (length == 0) return corrupt("empty worker id");
  if (length > bytes.size() - kPrefixFixedBytes - 1) return corrupt("the worker id runs past the key");
  PartKey key;
  key.worker = WorkerKey{.partition = static_cast<int32_t>(partition),
                         .worker = domain::WorkerId{std::string(bytes.substr(kPrefixFixedBytes, length))}};
  const size_t kind_at = kPrefixFixedBytes + length;
  const auto kind = static_cast<uint8_t>(bytes[kind_at]);
  if (kind > static_cast<uint8_t>(PartKind::kGlucoseSample)) return corrupt(absl::StrCat("unknown part kind ", kind));
  key.kind = static_cast<PartKind>(kind);
  const size_t rest = bytes.size() - kind_at - 1;
  if (key.kind == PartKind::kProfile) {
    if (rest != 0) return corrupt(absl::StrCat(rest, " bytes after a profile's kind, not 0"));
    return key;
  }
  if (rest != kSampleSuffixBytes) {
    return corrupt(absl::StrCat(rest, " bytes after a sample's kind, not an 8-byte time and a 4-byte ordinal"));
  }
  key.measured_at = domain::EventTime{ReadOrderedTime(bytes.substr(kind_at + 1))};
  key.ordinal = ReadBigEndian<uint32_t>(bytes.substr(kind_at + 1 + 8));
  return key;
}

absl::Status AppendWorkerWrites(absl::string_view store, const WorkerKey& key, const WorkerImage* before,
                                const domain::WorkerState* after, std::vector<Change>& writes) {
  static const WorkerImage kNoImage;
  static const domain::WorkerState kNone;
  const size_t first = writes.size();
  Change& head = writes.emplace_back(Change{.family = Family::kWorkers, .key = WorkerKeyBytes(key), .value = {}});
  if (after != nullptr) {
    absl::StatusOr<std::string> value = EncodeWorkerHead(*after);
    if (!value.ok()) {
      writes.resize(first);
      return CannotStore(store, key, value.status().message());
    }
    head.value = *std::move(value);
  }
  const WorkerImage& was = before != nullptr ? *before : kNoImage;
  const domain::WorkerState& now = after != nullptr ? *after : kNone;
  if (was.profile() != now.profile) {
    Change& profile = writes.emplace_back(Change{
        .family = Family::kSamples, .key = PartKeyBytes({.worker = key, .kind = PartKind::kProfile}), .value = {}});
    if (now.profile) {
      absl::StatusOr<std::string> value = EncodeProfile(*now.profile);
      if (!value.ok()) {
        writes.resize(first);
        return CannotStore(store, key, absl::StrCat("profile: ", value.status().message()));
      }
      profile.value = *std::move(value);
    }
  }
  absl::Status status = DiffWindow(store, key, PartKind::kBpSample, was.bp_window(), now.bp_window, writes);
  if (status.ok()) {
    status = DiffWindow(store, key, PartKind::kGlucoseSample, was.glucose_window(), now.glucose_window, writes);
  }
  if (!status.ok()) writes.resize(first);
  return status;
}

absl::Status AppendBatchWorkerWrites(absl::string_view store, const CommitBatch& batch, const StoredWorkerFn& stored,
                                     std::vector<Change>& writes) {
  if (!batch.workers_before.empty() && batch.workers_before.size() != batch.workers.size()) {
    return StoreError(absl::StatusCode::kInvalidArgument, store,
                      absl::StrCat("the batch has ", batch.workers.size(), " workers but ", batch.workers_before.size(),
                                   " states before them"));
  }
  // A worker twice in one batch: the later entry is compared with the earlier one's state.
  std::unordered_map<std::string, const domain::WorkerState*> earlier;
  for (size_t i = 0; i < batch.workers.size(); ++i) {
    const auto& [key, state] = batch.workers[i];
    if (absl::Status status = CheckKey(store, key); !status.ok()) return status;
    std::string key_bytes = WorkerKeyBytes(key);
    const WorkerImage* before = nullptr;
    std::optional<WorkerImage> made;  // of an earlier entry's state, or of the stored one
    if (auto it = earlier.find(key_bytes); it != earlier.end()) {
      if (it->second != nullptr) before = &made.emplace(*it->second);
    } else if (!batch.workers_before.empty() && batch.workers_before[i].known) {
      if (batch.workers_before[i].image) before = &*batch.workers_before[i].image;
    } else {
      if (!stored) {
        return StoreError(absl::StatusCode::kInvalidArgument, store,
                          absl::StrCat("the state of ", Describe(key), " before the batch is unknown"));
      }
      absl::StatusOr<std::optional<domain::WorkerState>> stored_state = stored(key);
      if (!stored_state.ok()) return stored_state.status();
      if (*stored_state) before = &made.emplace(**stored_state);
    }
    const domain::WorkerState* after = state ? &*state : nullptr;
    if (absl::Status status = AppendWorkerWrites(store, key, before, after, writes); !status.ok()) return status;
    earlier.insert_or_assign(std::move(key_bytes), after);
  }
  return absl::OkStatus();
}

bool SplitWholeWorkerRecords(const std::vector<Change>& changes, std::vector<Change>& out) {
  const auto whole = [](const Change& change) -> std::optional<domain::WorkerState> {
    if (change.family != Family::kWorkers || !change.value || DecodeWorkerHead(*change.value).ok()) return std::nullopt;
    absl::StatusOr<domain::WorkerState> state = DecodeWorkerState(*change.value);
    if (!state.ok()) return std::nullopt;
    return *std::move(state);
  };
  size_t first = 0;
  std::optional<domain::WorkerState> state;
  while (first < changes.size() && !(state = whole(changes[first]))) ++first;
  if (first == changes.size()) return false;
  out.assign(changes.begin(), changes.begin() + static_cast<std::ptrdiff_t>(first));
  for (size_t i = first; i < changes.size(); ++i) {
    if (i > first) state = whole(changes[i]);
    absl::StatusOr<WorkerKey> key = state ? ParseWorkerKey("", changes[i].key) : absl::StatusOr<WorkerKey>();
    // Split as a commit from nothing writes it; a state the parts cannot hold stays whole, and is refused.
    if (!state || !key.ok() || !AppendWorkerWrites("", *key, nullptr, &*state, out).ok()) out.push_back(changes[i]);
  }
  return true;
}

absl::Status CheckHead(absl::string_view store, const WorkerKey& key, std::string_view value) {
  absl::StatusOr<WorkerHead> head = DecodeWorkerHead(value);
  if (!head.ok()) return Corrupt(store, Family::kWorkers, Describe(key), head.status().message());
  return absl::OkStatus();
}

absl::StatusOr<domain::WorkerState> AssembleWorker(absl::string_view store, const WorkerKey& key,
                                                   std::string_view head_bytes, const PartScan& scan_parts) {
  absl::StatusOr<WorkerHead> head = DecodeWorkerHead(head_bytes);
  if (!head.ok()) return Corrupt(store, Family::kWorkers, Describe(key), head.status().message());
  domain::WorkerState state = std::move(head->state);
  state.bp_window.reserve(head->bp_samples);
  state.glucose_window.reserve(head->glucose_samples);
  absl::Status part_status;
  uint32_t expected_ordinal = 0;
  std::optional<int64_t> previous_at;  // of the previous sample of the same window
  PartKind previous_kind = PartKind::kProfile;
  absl::Status scan_status = scan_parts([&](std::string_view bytes, std::string_view value) {
    absl::StatusOr<PartKey> part = ParsePartKey(store, bytes);
    if (!part.ok()) {
      part_status = part.status();
      return false;
    }
    const auto corrupt = [&](absl::string_view detail) {
      part_status = Corrupt(store, Family::kSamples, EscapedKey(bytes), detail);
      return false;
    };
    if (part->worker != key) return corrupt(absl::StrCat("a part of ", Describe(part->worker), " in the range of ", Describe(key)));
    if (part->kind != previous_kind) previous_at.reset();
    previous_kind = part->kind;
    if (part->kind != PartKind::kProfile) {
      // Ordinals count from 0 within each measured_at: a gap is a sample lost or left behind.
      expected_ordinal = previous_at == part->measured_at.ms ? expected_ordinal + 1 : 0;
      previous_at = part->measured_at.ms;
      if (part->ordinal != expected_ordinal) {
        return corrupt(absl::StrCat("ordinal ", part->ordinal, " where ", expected_ordinal, " belongs"));
      }
    }
    switch (part->kind) {
      case PartKind::kProfile: {
        absl::StatusOr<domain::WorkerProfile> profile = DecodeProfile(value);
        if (!profile.ok()) return corrupt(profile.status().message());
        state.profile = *std::move(profile);
        break;
      }
      case PartKind::kBpSample: {
        absl::StatusOr<domain::BpSample> sample = DecodeBpSample(value, part->measured_at);
        if (!sample.ok()) return corrupt(sample.status().message());
        domain::ShareIds(*sample, state.bp_window);
        state.bp_window.push_back(*std::move(sample));
        break;
      }
      case PartKind::kGlucoseSample: {
        absl::StatusOr<domain::GlucoseSample> sample = DecodeGlucoseSample(value, part->measured_at);
        if (!sample.ok()) return corrupt(sample.status().message());
        domain::ShareIds(*sample, state.glucose_window);
        state.glucose_window.push_back(*std::move(sample));
        break;
      }
    }
    return true;
  });
  if (!scan_status.ok()) return scan_status;
  if (!part_status.ok()) return part_status;
  if (state.profile.has_value() != head->has_profile || state.bp_window.size() != head->bp_samples ||
      state.glucose_window.size() != head->glucose_samples) {
    return Corrupt(store, Family::kSamples, Describe(key),
                   absl::StrCat("the head counts ", head->has_profile ? 1 : 0, " profile, ", head->bp_samples,
                                " blood-pressure and ", head->glucose_samples, " glucose samples; stored are ",
                                state.profile ? 1 : 0, ", ", state.bp_window.size(), " and ",
                                state.glucose_window.size()));
  }
  return state;
}

absl::Status CheckPart(absl::string_view store, const Change& change) {
  absl::StatusOr<PartKey> part = ParsePartKey(store, change.key);
  if (!part.ok() || !change.value) return part.status();
  absl::Status status;
  switch (part->kind) {
    case PartKind::kProfile:
      status = DecodeProfile(*change.value).status();
      break;
    case PartKind::kBpSample:
      status = DecodeBpSample(*change.value, part->measured_at).status();
      break;
    case PartKind::kGlucoseSample:
      status = DecodeGlucoseSample(*change.value, part->measured_at).status();
      break;
  }
  if (status.ok()) return status;
  return Corrupt(store, Family::kSamples, EscapedKey(change.key), status.message());
}

}  // namespace alertd::state::layout
