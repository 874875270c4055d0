// A reader of RocksDB's WAL framing that counts intact WriteBatches and damaged records.
#include "engine/state/wal_scan.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "engine/state/crc32c.h"

namespace alertd::state {
namespace {

constexpr size_t kBlockSize = 32768;
constexpr size_t kHeaderSize = 7;
constexpr size_t kRecyclableHeaderSize = 11;
constexpr size_t kBatchHeaderSize = 12;  // sequence + count
enum RecordType : uint8_t { kZero = 0, kFull = 1, kFirst = 2, kMiddle = 3, kLast = 4, kSetCompression = 9 };

uint32_t Unmask(uint32_t masked) {
  const uint32_t rot = masked - 0xa282ead8U;
  return (rot >> 17) | (rot << 15);
}

uint64_t Fixed(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// One WAL file, record by record, as RocksDB's log::Reader frames it.
class FileScanner {
 public:
  FileScanner(std::string name, std::string bytes, WalScan& out)
      : name_(std::move(name)), bytes_(std::move(bytes)), out_(out) {}

  void Run() {
    size_t pos = 0;
    while (pos < bytes_.size()) {
      const size_t block_left = kBlockSize - pos % kBlockSize;
      if (block_left < kHeaderSize) {  // trailer padding
        pos += block_left;
        continue;
      }
      if (bytes_.size() - pos < kHeaderSize) {
        Damaged(pos, bytes_.size() - pos, /*tail=*/true, /*uncounted=*/false);
        return;
      }
      const char* h = bytes_.data() + pos;
      const uint32_t length = static_cast<uint32_t>(Fixed(h + 4, 2));
      uint8_t type = static_cast<uint8_t>(h[6]);
      if (type == kZero && length == 0 && Fixed(h, 4) == 0) {
        // Preallocated, never written: the end of the data (RocksDB reads it as such too).
        return;
      }
      const bool recyclable = type >= 5 && type <= 8;
      const size_t header = recyclable ? kRecyclableHeaderSize : kHeaderSize;
      if (recyclable) type = static_cast<uint8_t>(type - 4);
      if (header + length > block_left || (type > kLast && type != kSetCompression) || type == kZero) {
        if (pos + header + length > bytes_.size() && type >= kFull && type <= kLast &&
            header + length <= block_left) {
          Damaged(pos, bytes_.size() - pos, /*tail=*/true, /*uncounted=*/false);
          return;
        }
        // Framing lost: RocksDB drops the rest of the block, and so must we, unable to count it.
        Damaged(pos, std::min(block_left, bytes_.size() - pos), /*tail=*/false, /*uncounted=*/true);
        pos += block_left;
        continue;
      }
      if (pos + header + length > bytes_.size()) {
        Damaged(pos, bytes_.size() - pos, /*tail=*/true, /*uncounted=*/false);
        return;
      }
      const size_t record_bytes = header + length;
      const uint32_t expected = Unmask(static_cast<uint32_t>(Fixed(h, 4)));
      // The checksum covers the type byte, the log number of a recyclable header, and the payload.
      if (Crc32c(h + 6, 1 + (header - kHeaderSize) + length) != expected) {
        Damaged(pos, record_bytes, /*tail=*/false, /*uncounted=*/false);
        pos += record_bytes;
        continue;
      }
      Fragment(type, std::string_view(h + header, length), record_bytes, pos);
      pos += record_bytes;
    }
    if (in_batch_) Damaged(batch_start_, bytes_.size() - batch_start_, /*tail=*/true, /*uncounted=*/false);
  }

 private:
  void Fragment(uint8_t type, std::string_view payload, size_t record_bytes, size_t pos) {
    switch (type) {
      case kSetCompression:
        return;
      case kFull:
      case kFirst:
        if (in_batch_) ++out_.damaged_batches;  // a FIRST without its LAST: that batch is lost
        // Only its header is read (sequence and count): no copy of the batch itself.
        batch_.assign(payload.substr(0, kBatchHeaderSize));
        batch_bytes_ = record_bytes;
        batch_start_ = pos;
        in_batch_ = type == kFirst;
        if (type == kFull) Complete();
        return;
      case kMiddle:
      case kLast:
        if (!in_batch_) return;  // the rest of a batch whose start was damaged (counted there)
        if (batch_.size() < kBatchHeaderSize) batch_.append(payload.substr(0, kBatchHeaderSize - batch_.size()));
        batch_bytes_ += record_bytes;
        if (type == kLast) {
          in_batch_ = false;
          Complete();
        }
        return;
      default:
        return;
    }
  }

  void Complete() {
    if (batch_.size() < kBatchHeaderSize) {
      ++out_.damaged_batches;
      return;
    }
    out_.batches.push_back({.sequence = Fixed(batch_.data(), 8), .bytes = batch_bytes_, .file = name_});
  }

  void Damaged(size_t offset, size_t bytes, bool tail, bool uncounted) {
    in_batch_ = false;  // a batch being assembled is lost with the damage
    if (!uncounted) ++out_.damaged_batches;
    out_.damage.push_back({.file = name_, .offset = offset, .bytes = bytes, .tail = tail, .uncounted = uncounted});
  }

  const std::string name_;
  const std::string bytes_;
  WalScan& out_;
  std::string batch_;
  uint64_t batch_bytes_ = 0;
  size_t batch_start_ = 0;
  bool in_batch_ = false;
};

}  // namespace

WalScan ScanWal(const std::string& dir) {
  WalScan scan;
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".log") files.push_back(entry.path());
  }
  // Names are zero-padded numbers, so name order is file-number order (and write order).
  std::sort(files.begin(), files.end());
  for (const std::filesystem::path& path : files) {
    ++scan.files;
    std::ifstream in(path, std::ios::binary);
    const uintmax_t size = std::filesystem::file_size(path, ec);
    std::string bytes(ec ? 0 : size, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    bytes.resize(static_cast<size_t>(in.gcount()));  // a file cut short since: what is there
    if (ec || (!in.good() && !in.eof())) {
      scan.damage.push_back({.file = path.filename().string(), .offset = 0, .bytes = 0, .tail = false, .uncounted = true});
      continue;
    }
    FileScanner(path.filename().string(), std::move(bytes), scan).Run();
  }
  return scan;
}

RecoveryReport ReportDropped(const WalScan& scan, uint64_t recovered_sequence) {
  RecoveryReport report;
  uint64_t first_dropped = 0, last_dropped = 0;
  std::string dropped_files;
  for (const WalScan::Batch& batch : scan.batches) {
    if (batch.sequence <= recovered_sequence) continue;
    if (report.wal_commits_dropped == 0) first_dropped = batch.sequence;
    last_dropped = batch.sequence;
    ++report.wal_commits_dropped;
    report.wal_bytes_skipped += batch.bytes;
    if (dropped_files.find(batch.file) == std::string::npos) absl::StrAppend(&dropped_files, " ", batch.file);
  }
  report.wal_commits_dropped += scan.damaged_batches;
  std::string damage;
  bool uncounted = false;
  for (const WalScan::Damage& d : scan.damage) {
    report.wal_bytes_skipped += d.bytes;
    uncounted = uncounted || d.uncounted;
    // Damage is a torn tail only at the very end of the newest file, with nothing intact dropped after it.
    if (!d.tail || d.file != scan.damage.back().file) report.mid_log_damage = true;
    absl::StrAppend(&damage, damage.empty() ? "" : "; ", d.file, " at byte ", d.offset, ": ", d.bytes, " bytes ",
                    d.tail ? "cut short (torn write)" : (d.uncounted ? "unreadable (framing lost)" : "failing their checksum"));
  }
  if (report.wal_commits_dropped > scan.damaged_batches) report.mid_log_damage = true;
  if (report.wal_commits_dropped == 0 && scan.damage.empty()) return report;
  report.detail = absl::StrCat(
      "WAL recovery stopped at sequence ", recovered_sequence, " and dropped ", report.wal_commits_dropped,
      " commit(s) (", scan.damaged_batches, " damaged, ", report.wal_commits_dropped - scan.damaged_batches,
      " intact after the damage", first_dropped ? absl::StrCat(", sequences ", first_dropped, "..", last_dropped) : "",
      dropped_files.empty() ? "" : absl::StrCat(", in", dropped_files), "), ", report.wal_bytes_skipped,
      " bytes skipped: ", damage, uncounted ? "; commits in unreadable ranges are not counted" : "",
      report.mid_log_damage ? ". Damage in the middle of the WAL: the files were corrupted, not torn by a crash; "
                              "state and offsets rolled back together, and the input after them is consumed again "
                              "from Kafka if it is still retained"
                            : ". A torn tail, as a crash leaves it");
  return report;
}

}  // namespace alertd::state
