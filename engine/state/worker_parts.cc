// A worker's head and parts: keys, the difference a commit writes, and reassembly; see worker_parts.h.
#include "engine/state/worker_parts.h"

#include <cstddef>
#include <limits>
#include <optional>
#include <type_traits>
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

const char* WindowName(PartKind kind) {
  return kind == PartKind::kBpSample || kind == PartKind::kBpRun ? "bp_window" : "glucose_window";
}

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

template <typename Sample>  // domain::BpSample or domain::GlucoseSample
absl::StatusOr<Sample> DecodeSample(std::string_view bytes, domain::EventTime at) {
  if constexpr (std::is_same_v<Sample, domain::BpSample>) {
    return DecodeBpSample(bytes, at);
  } else {
    return DecodeGlucoseSample(bytes, at);
  }
}

// A run's samples: [begin, end) of a window, keyed by its first sample's position.
struct Run {
  std::pair<int64_t, uint32_t> key;
  size_t begin = 0;
  size_t end = 0;
};

// Whether `later` (>= `earlier`: windows ascend, checked before) is kRunGapMs or more after `earlier`.
// The unsigned difference is the exact one at any times, where the signed one could overflow.
bool GapBetween(int64_t earlier, int64_t later) {
  return static_cast<uint64_t>(later) - static_cast<uint64_t>(earlier) >= static_cast<uint64_t>(kRunGapMs);
}

// The runs of a window in order (worker_parts.h, "Runs").
template <typename Sample>
std::vector<Run> RunsOf(const std::vector<Sample>& window) {
  std::vector<Run> runs;
  for (WindowCursor<Sample> c(window); !c.done(); c.Next()) {
    const auto position = c.position();
    const bool gap = c.index() > 0 && GapBetween(window[c.index() - 1].measured_at.ms, position.first);
    if (runs.empty() || gap || c.index() - runs.back().begin >= kRunMax ||
        RunCutBefore(position.first, position.second)) {
      if (!runs.empty()) runs.back().end = c.index();
      runs.push_back({.key = position, .begin = c.index(), .end = window.size()});
    }
  }
  return runs;
}

void AppendVarint(std::string& out, uint64_t value) {
  for (; value >= 0x80; value >>= 7) out.push_back(static_cast<char>(value | 0x80));
  out.push_back(static_cast<char>(value));
}

// Takes a varint off the front of `bytes`; false if there is none (cut short, or over 64 bits).
bool TakeVarint(std::string_view& bytes, uint64_t& value) {
  value = 0;
  for (size_t i = 0; i < bytes.size() && i < 10; ++i) {
    const auto byte = static_cast<uint8_t>(bytes[i]);
    if (i == 9 && byte > 1) return false;
    value |= uint64_t{byte & 0x7Fu} << (7 * i);
    if ((byte & 0x80) == 0) {
      bytes.remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

template <typename Sample>
absl::StatusOr<std::string> EncodeRun(const std::vector<Sample>& window, const Run& run) {
  std::string value;
  int64_t previous = window[run.begin].measured_at.ms;  // the key's time: the first delta is 0
  for (size_t i = run.begin; i < run.end; ++i) {
    absl::StatusOr<std::string> record = EncodeSample(window[i], i);
    if (!record.ok()) return record.status();
    AppendVarint(value, static_cast<uint64_t>(window[i].measured_at.ms) - static_cast<uint64_t>(previous));
    AppendVarint(value, record->size());
    value.append(*record);
    previous = window[i].measured_at.ms;
  }
  return value;
}

// Visits the samples of a run value in order, decoded; an error says what is wrong with the bytes.
// Each sample's time is its delta from the previous one's, the first's from the key's (so 0).
template <typename Sample, typename Fn>
absl::Status ForEachRunSample(std::string_view value, const PartKey& key, Fn&& fn) {
  if (value.empty()) return absl::InvalidArgumentError("an empty run");
  int64_t previous = key.measured_at.ms;
  for (size_t n = 0; !value.empty(); ++n) {
    uint64_t delta = 0, length = 0;
    if (!TakeVarint(value, delta) || !TakeVarint(value, length)) {
      return absl::InvalidArgumentError(
          absl::StrCat("sample ", n, " of the run is cut short or holds a number over 64 bits"));
    }
    if (length > value.size()) {
      return absl::InvalidArgumentError(absl::StrCat("sample ", n, " of the run runs past its end"));
    }
    if (n == 0 && delta != 0) {
      return absl::InvalidArgumentError(absl::StrCat("the run's first sample is measured ", delta,
                                                     " ms after its key's time"));
    }
    // INT64_MAX - previous, exact in unsigned arithmetic for any previous.
    const uint64_t room = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - static_cast<uint64_t>(previous);
    if (delta > room) {
      return absl::InvalidArgumentError(absl::StrCat("sample ", n, " of the run is measured past the last time"));
    }
    previous = static_cast<int64_t>(static_cast<uint64_t>(previous) + delta);
    absl::StatusOr<Sample> sample = DecodeSample<Sample>(value.substr(0, length), domain::EventTime{previous});
    if (!sample.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("sample ", n, " of the run: ", sample.status().message()));
    }
    if (absl::Status status = fn(*std::move(sample)); !status.ok()) return status;
    value.remove_prefix(length);
  }
  return absl::OkStatus();
}

// Puts for the runs of `after` whose key is new or whose samples changed, deletions for the keys of
// `before`'s runs that `after` does not have; for a `before` stored one sample a key, deletions of
// each of those keys and puts of every run. Both windows ascend, so one merge.
template <typename Kept, typename Sample>
absl::Status DiffWindow(absl::string_view store, const WorkerKey& key, PartKind single_kind, PartKind run_kind,
                        SampleLayout stored, const std::vector<Kept>& before, const std::vector<Sample>& after,
                        std::vector<Change>& writes) {
  if (auto problem = OutOfOrder(after, run_kind)) return CannotStore(store, key, *problem);
  if (auto problem = OutOfOrder(before, run_kind)) {
    return CannotStore(store, key, absl::StrCat("the state before the commit: ", *problem));
  }
  const auto part_key = [&](PartKind kind, std::pair<int64_t, uint32_t> position) {
    return PartKeyBytes(
        {.worker = key, .kind = kind, .measured_at = domain::EventTime{position.first}, .ordinal = position.second});
  };
  const auto erase = [&](PartKind kind, std::pair<int64_t, uint32_t> position) {
    writes.push_back(Change{.family = Family::kSamples, .key = part_key(kind, position), .value = std::nullopt});
  };
  std::vector<Run> was;
  if (stored == SampleLayout::kSingles) {
    for (WindowCursor<Kept> c(before); !c.done(); c.Next()) erase(single_kind, c.position());
  } else {
    was = RunsOf(before);
  }
  size_t w = 0;
  for (const Run& run : RunsOf(after)) {
    for (; w < was.size() && was[w].key < run.key; ++w) erase(run_kind, was[w].key);
    bool same = w < was.size() && was[w].key == run.key && was[w].end - was[w].begin == run.end - run.begin;
    for (size_t i = 0; same && i < run.end - run.begin; ++i) same = before[was[w].begin + i].Same(after[run.begin + i]);
    if (w < was.size() && was[w].key == run.key) ++w;
    if (same) continue;
    absl::StatusOr<std::string> value = EncodeRun(after, run);
    if (!value.ok()) return CannotStore(store, key, value.status().message());
    writes.push_back(
        Change{.family = Family::kSamples, .key = part_key(run_kind, run.key), .value = *std::move(value)});
  }
  for (; w < was.size(); ++w) erase(run_kind, was[w].key);
  return absl::OkStatus();
}

// `image` made of the worker's state as `stored` reads it, with its layout; left empty when none is stored.
absl::Status LoadImage(const StoredWorkerFn& stored, const WorkerKey& key, std::optional<WorkerImage>& image) {
  SampleLayout layout = SampleLayout::kRuns;
  absl::StatusOr<std::optional<domain::WorkerState>> state = stored(key, &layout);
  if (!state.ok()) return state.status();
  if (*state) image.emplace(**state, layout);
  return absl::OkStatus();
}

}  // namespace

bool RunCutBefore(int64_t measured_at_ms, uint32_t ordinal) {
  // A fixed mix of the sample's position (SplitMix64's finalizer): the cuts are part of the format.
  uint64_t x = static_cast<uint64_t>(measured_at_ms) ^ (uint64_t{ordinal} << 56 | uint64_t{ordinal} >> 8);
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x % kRunTarget == 0;
}

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
  if (kind > static_cast<uint8_t>(PartKind::kGlucoseRun)) return corrupt(absl::StrCat("unknown part kind ", kind));
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
  absl::Status status = DiffWindow(store, key, PartKind::kBpSample, PartKind::kBpRun, was.layout(), was.bp_window(),
                                   now.bp_window, writes);
  if (status.ok()) {
    status = DiffWindow(store, key, PartKind::kGlucoseSample, PartKind::kGlucoseRun, was.layout(), was.glucose_window(),
                        now.glucose_window, writes);
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
      if (absl::Status status = LoadImage(stored, key, made); !status.ok()) return status;
      if (made) before = &*made;
    }
    const domain::WorkerState* after = state ? &*state : nullptr;
    if (absl::Status status = AppendWorkerWrites(store, key, before, after, writes); !status.ok()) return status;
    earlier.insert_or_assign(std::move(key_bytes), after);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> SplitWholeWorkerRecords(absl::string_view store, const std::vector<Change>& changes,
                                             const StoredWorkerFn& stored, SplitSoFar& earlier,
                                             std::vector<Change>& out) {
  const auto whole = [](const Change& change) -> std::optional<domain::WorkerState> {
    if (change.family != Family::kWorkers || !change.value || DecodeWorkerHead(*change.value).ok()) return std::nullopt;
    absl::StatusOr<domain::WorkerState> state = DecodeWorkerState(*change.value);
    if (!state.ok()) return std::nullopt;
    return *std::move(state);
  };
  const auto deletion = [](const Change& change) { return change.family == Family::kWorkers && !change.value; };
  size_t first = 0;
  std::optional<domain::WorkerState> state;
  while (first < changes.size() && !deletion(changes[first]) && !(state = whole(changes[first]))) ++first;
  if (first == changes.size()) return false;
  out.assign(changes.begin(), changes.begin() + static_cast<std::ptrdiff_t>(first));
  for (size_t i = first; i < changes.size(); ++i) {
    const Change& change = changes[i];
    if (i > first) state = whole(change);
    absl::StatusOr<WorkerKey> key =
        state || deletion(change) ? ParseWorkerKey(store, change.key) : absl::StatusOr<WorkerKey>();
    if (!key.ok()) {
      // A schema-4 or later head: what an earlier split left is no longer the worker's state.
      if (change.family == Family::kWorkers) earlier.erase(change.key);
      out.push_back(change);  // a key that does not parse is refused by CheckRestoredChange
      continue;
    }
    std::optional<WorkerImage> before;
    if (auto it = earlier.find(change.key); it != earlier.end()) {
      if (it->second) before.emplace(*it->second);
    } else if (absl::Status status = LoadImage(stored, *key, before); !status.ok()) {
      return status;
    }
    // Written as a commit from the state before it writes it; a state the parts cannot hold stays
    // whole, and is refused.
    if (!AppendWorkerWrites(store, *key, before ? &*before : nullptr, state ? &*state : nullptr, out).ok()) {
      out.push_back(change);
    }
    earlier.insert_or_assign(change.key, std::move(state));
  }
  return true;
}

absl::Status CheckHead(absl::string_view store, const WorkerKey& key, std::string_view value) {
  absl::StatusOr<WorkerHead> head = DecodeWorkerHead(value);
  if (!head.ok()) return Corrupt(store, Family::kWorkers, Describe(key), head.status().message());
  return absl::OkStatus();
}

absl::StatusOr<domain::WorkerState> AssembleWorker(absl::string_view store, const WorkerKey& key,
                                                   std::string_view head_bytes, const PartScan& scan_parts,
                                                   SampleLayout* layout) {
  absl::StatusOr<WorkerHead> head = DecodeWorkerHead(head_bytes);
  if (!head.ok()) return Corrupt(store, Family::kWorkers, Describe(key), head.status().message());
  domain::WorkerState state = std::move(head->state);
  state.bp_window.reserve(head->bp_samples);
  state.glucose_window.reserve(head->glucose_samples);
  absl::Status part_status;
  uint32_t expected_ordinal = 0;
  std::optional<int64_t> previous_at;  // of the previous sample of the same window
  PartKind previous_kind = PartKind::kProfile;
  bool singles = false;
  bool runs = false;
  // Appends a decoded sample to its window, after checking it follows the window's previous one; `first`:
  // the first sample of its part, whose key's ordinal is checked.
  const auto place = [&](auto& window, auto sample, const PartKey& part, bool first) -> absl::Status {
    if (previous_at && sample.measured_at.ms < *previous_at) {
      return absl::InvalidArgumentError(absl::StrCat("a sample measured at ", sample.measured_at.ms,
                                                     " ms after one measured at ", *previous_at, " ms"));
    }
    expected_ordinal = previous_at == sample.measured_at.ms ? expected_ordinal + 1 : 0;
    previous_at = sample.measured_at.ms;
    // Ordinals count from 0 within each measured_at: a gap is a sample lost or left behind.
    if (first && part.ordinal != expected_ordinal) {
      return absl::InvalidArgumentError(
          absl::StrCat("ordinal ", part.ordinal, " where ", expected_ordinal, " belongs"));
    }
    domain::ShareIds(sample, window);
    window.push_back(std::move(sample));
    return absl::OkStatus();
  };
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
    if (part->kind == PartKind::kBpSample || part->kind == PartKind::kGlucoseSample) {
      singles = true;
    } else if (part->kind != PartKind::kProfile) {
      runs = true;
    }
    if (singles && runs) return corrupt("runs and single samples of one worker");
    absl::Status status;
    switch (part->kind) {
      case PartKind::kProfile: {
        absl::StatusOr<domain::WorkerProfile> profile = DecodeProfile(value);
        if (!profile.ok()) return corrupt(profile.status().message());
        state.profile = *std::move(profile);
        break;
      }
      case PartKind::kBpSample: {
        absl::StatusOr<domain::BpSample> sample = DecodeBpSample(value, part->measured_at);
        status = sample.ok() ? place(state.bp_window, *std::move(sample), *part, true) : sample.status();
        break;
      }
      case PartKind::kGlucoseSample: {
        absl::StatusOr<domain::GlucoseSample> sample = DecodeGlucoseSample(value, part->measured_at);
        status = sample.ok() ? place(state.glucose_window, *std::move(sample), *part, true) : sample.status();
        break;
      }
      case PartKind::kBpRun: {
        bool first = true;
        status = ForEachRunSample<domain::BpSample>(value, *part, [&](domain::BpSample sample) {
          return place(state.bp_window, std::move(sample), *part, std::exchange(first, false));
        });
        break;
      }
      case PartKind::kGlucoseRun: {
        bool first = true;
        status = ForEachRunSample<domain::GlucoseSample>(value, *part, [&](domain::GlucoseSample sample) {
          return place(state.glucose_window, std::move(sample), *part, std::exchange(first, false));
        });
        break;
      }
    }
    if (!status.ok()) return corrupt(status.message());
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
  if (layout != nullptr) *layout = singles ? SampleLayout::kSingles : SampleLayout::kRuns;
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
    case PartKind::kBpRun:
      status = ForEachRunSample<domain::BpSample>(*change.value, *part, [](auto&&) { return absl::OkStatus(); });
      break;
    case PartKind::kGlucoseRun:
      status = ForEachRunSample<domain::GlucoseSample>(*change.value, *part, [](auto&&) { return absl::OkStatus(); });
      break;
  }
  if (status.ok()) return status;
  return Corrupt(store, Family::kSamples, EscapedKey(change.key), status.message());
}

}  // namespace alertd::state::layout
