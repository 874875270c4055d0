// The RocksDB state store: column families, tuning, schema check, and atomic WriteBatch commits.
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/table_properties_collectors.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/state/disk_space.h"
#include "engine/state/info_log.h"
#include "engine/state/kv_store.h"
#include "engine/state/layout.h"
#include "engine/state/migrate.h"
#include "engine/state/store.h"
#include "engine/state/wal_scan.h"

namespace alertd::state {
namespace {

using layout::Family;

// --- Errors -----------------------------------------------------------------------------------

absl::StatusCode CodeOf(const rocksdb::Status& s) {
  if (s.IsNotFound() || s.IsPathNotFound()) return absl::StatusCode::kNotFound;
  if (s.IsCorruption()) return absl::StatusCode::kDataLoss;
  if (s.IsInvalidArgument()) return absl::StatusCode::kInvalidArgument;
  if (s.IsNotSupported()) return absl::StatusCode::kUnimplemented;
  // Transient by RocksDB's own account: the same call may succeed when retried.
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) return absl::StatusCode::kUnavailable;
  if (s.IsNoSpace()) return absl::StatusCode::kResourceExhausted;
  if (s.IsAborted() || s.IsShutdownInProgress()) return absl::StatusCode::kAborted;
  // I/O errors leave the DB in a background-error state that retrying does not clear: fatal.
  return absl::StatusCode::kInternal;
}

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view path, absl::string_view context) {
  return layout::StoreError(CodeOf(s), path, absl::StrCat(context, ": ", s.ToString()));
}

// --- Tuning -----------------------------------------------------------------------------------

rocksdb::CompressionType PickCompression() {
  // LZ4: records are small protobufs whose repeated ids and names compress well, and LZ4 decodes
  // fastest on the read path that every reading takes. Snappy is the fallback of older builds.
  const std::vector<rocksdb::CompressionType> supported = rocksdb::GetSupportedCompressions();
  for (rocksdb::CompressionType wanted : {rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
    if (std::find(supported.begin(), supported.end(), wanted) != supported.end()) return wanted;
  }
  return rocksdb::kNoCompression;
}

rocksdb::DBOptions MakeDbOptions() {
  rocksdb::DBOptions db;
  db.create_if_missing = true;
  db.create_missing_column_families = true;
  // RocksDB's default (-1) keeps every SST file open forever; the daemon also needs descriptors
  // for Kafka and HTTP sockets. Index and filter blocks live in the block cache, so closing a file
  // costs little.
  db.max_open_files = 1024;
  // Flushes and compactions run in the background; a few jobs keep write stalls away on a
  // write-heavy load without taking the cores the engine loop needs.
  db.max_background_jobs = 4;
  // The column families fill at different rates; a quiet one would pin every old WAL file.
  // Past this size RocksDB flushes it so the WAL can be recycled.
  db.max_total_wal_size = 256 << 20;
  // Commits run without fsync when sync_commits is off, so a crash may tear the newest WAL record.
  // Point-in-time recovery stops at the last whole batch: the store comes back as of some commit,
  // never between two, which is what keeps state and offsets together across kill -9. Damage in
  // the middle of the WAL stops it there too, so state and offsets roll back together and Kafka
  // delivers the input after them again; wal_scan.h counts what was dropped and Recovery() reports
  // it. The other modes are worse for this store: kSkipAnyCorruptedRecords applies the commits
  // after a damaged one, so offsets would skip that commit's input for good; kAbsoluteConsistency
  // refuses a torn tail, which every crash without fsync may leave; kTolerateCorruptedTailRecords
  // refuses mid-log damage with no remedy for the operator but deleting the WAL, which loses
  // exactly what point-in-time recovery drops, and the service with it.
  db.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // Write SST files back to disk as they grow, so a flush never ends in one long fsync stall.
  db.bytes_per_sync = 1 << 20;
  // Bound RocksDB's own info LOG files.
  db.max_log_file_size = 16 << 20;
  db.keep_log_file_num = 5;
  return db;
}

// `memtable_bytes`: 0, or the write-buffer manager's size, which caps each family's write buffer at
// its share of it (StoreOptions::memtable_bytes).
rocksdb::ColumnFamilyOptions MakeFamilyOptions(Family family, const std::shared_ptr<rocksdb::Cache>& cache,
                                               rocksdb::CompressionType compression, size_t memtable_bytes) {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // Index and filter blocks count against the cache instead of growing unbounded with the data;
  // level-0 ones stay pinned because every lookup consults them.
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  cf.compression = compression;
  // Sizes levels from the bottom up: bounded space amplification as the data grows.
  cf.level_compaction_dynamic_level_bytes = true;

  // A commit writes each partition's workers and their parts in key order (CommitWindow sorts them,
  // AppendWorkerWrites emits a worker's parts in order), and a partition's outbox entries by ascending
  // seq. Remembering where the last insert of each partition (the 4-byte key prefix) landed lets the
  // memtable's skip list start the next one there instead of searching from its head. Reads are
  // unaffected (this is not the prefix_extractor).
  const auto insert_in_key_order = [&cf] {
    cf.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(4));
  };
  switch (family) {
    case Family::kWorkers:
      insert_in_key_order();
      // Every reading rewrites its worker's head (counters and open episodes: a few hundred bytes at
      // most). A large memtable absorbs repeated rewrites of active workers before they reach disk.
      cf.write_buffer_size = 64 << 20;
      cf.max_write_buffer_number = 3;
      // A first reading from a worker misses; the bloom filter (10 bits/key, ~1% false
      // positives) answers that without reading data blocks.
      table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      break;
    case Family::kSamples:
      // A worker's profile and window samples, a key each: a reading puts one, and the window's
      // oldest are deleted as it moves on. A load reads one worker's range, so a bloom filter on
      // whole keys would not help. The deletions gather inside the ranges loads read until their
      // level-0 file is compacted down with three others. Files dense with deletions are not
      // compacted early (as the outbox's are): a third of a drain's writes here are deletions, so
      // nearly every flush was marked and rewrote the whole bottom level alone: about half the
      // compaction CPU of a 14-day backlog's drain, for no faster loads (README "Where a reading's
      // CPU goes").
      cf.write_buffer_size = 32 << 20;
      cf.max_write_buffer_number = 3;
      insert_in_key_order();
      break;
    case Family::kOffsets:
    case Family::kMeta:
    case Family::kParked:  // empty unless the broker refuses output for good
      // A handful of keys rewritten on every commit, read only at start-up.
      cf.write_buffer_size = 4 << 20;
      break;
    case Family::kOutbox:
      // A queue: each record is put, then deleted once delivered. Its tombstones would slow the
      // start-up scan (LoadOutbox), so files dense with deletions are compacted away early.
      cf.write_buffer_size = 16 << 20;
      insert_in_key_order();
      cf.table_properties_collector_factories.push_back(
          rocksdb::NewCompactOnDeletionCollectorFactory(/*sliding_window_size=*/4096, /*deletion_trigger=*/2048));
      break;
    case Family::kTimers:
      // The timer index: bare keys, each partition's in fire order, put when a deadline is set and
      // deleted when it fires or moves, so deletions are as frequent as puts and gather at the front
      // of each partition's range, exactly where LoadDueTimers reads. Its scan is bounded above by
      // iterate_upper_bound (the partition's now + 1), so pending timers are never read; below, it
      // seeks past the tombstones the store knows of (the floor in kv_store.cc). What remains: tombstones left in SSTs, which files dense
      // with deletions shed early through deletion-triggered compaction, and those in the memtable,
      // which a small write buffer keeps few (an entry is a ~25-byte key plus overhead: 8 MiB holds
      // on the order of 100k puts and deletes).
      // Only range scans read it, so a bloom filter would be dead weight.
      cf.write_buffer_size = 8 << 20;
      cf.table_properties_collector_factories.push_back(
          rocksdb::NewCompactOnDeletionCollectorFactory(/*sliding_window_size=*/4096, /*deletion_trigger=*/1024));
      break;
  }
  if (memtable_bytes > 0) {
    // The families' shares of the manager's bytes follow their fixed sizes above (64 : 32 : 16 : 8 : 4
    // MiB): the workers family gets a third, the samples a sixth, and so down.
    const size_t share = memtable_bytes / 3 * (cf.write_buffer_size >> 20) / 64;
    cf.write_buffer_size = std::clamp<size_t>(share, 256 << 10, cf.write_buffer_size);
  }
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

// --- The sequence a clean close left -----------------------------------------------------------

// A clean close records the store's last sequence number beside it. The next open must recover at
// least that far: a store that comes back older lost commits without a word (a damaged MANIFEST can
// make RocksDB open an earlier version and delete the newer files as obsolete).
std::string ClosedAtSequencePath(const std::string& path) { return path + "/ALERTD_CLOSED_AT_SEQUENCE"; }

void WriteClosedAtSequence(const std::string& path, uint64_t sequence) {
  const std::string file = ClosedAtSequencePath(path);
  const std::string tmp = file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << sequence << "\n";
    if (!out.flush()) return;  // a full disk: no record, no check next time, nothing worse
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
}

std::optional<uint64_t> ReadClosedAtSequence(const std::string& path) {
  std::ifstream in(ClosedAtSequencePath(path));
  uint64_t sequence = 0;
  if (!(in >> sequence)) return std::nullopt;
  return sequence;
}

absl::Status CheckNotRolledBack(const std::string& path, uint64_t recovered, uint64_t closed_at) {
  if (recovered >= closed_at) return absl::OkStatus();
  return layout::StoreError(
      absl::StatusCode::kDataLoss, path,
      absl::StrCat("RocksDB recovered the store to sequence ", recovered, ", but alertd closed it cleanly at sequence ",
                   closed_at, ": the MANIFEST or a file it names lost commits. Nothing was changed on disk. Restore "
                   "the directory from a backup, or move it aside so alertd rebuilds the state from Kafka (only "
                   "what the input topics still retain)"));
}

// --- Backend ----------------------------------------------------------------------------------

class RocksBackend final : public KvBackend {
 public:
  RocksBackend(std::string path, rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> handles, bool sync,
               uint64_t memtable_bound, uint64_t disk_reserve_bytes)
      : path_(std::move(path)),
        db_(db),
        handles_(std::move(handles)),
        sync_(sync),
        memtable_bound_(memtable_bound),
        disk_reserve_bytes_(disk_reserve_bytes) {}

  RocksBackend(const RocksBackend&) = delete;
  RocksBackend& operator=(const RocksBackend&) = delete;

  ~RocksBackend() override {
    if (flush_on_close_) {
      // A clean stop leaves the state in SST files and an empty WAL: the next start replays nothing.
      // A flush that fails (a full disk) loses nothing: the WAL still holds every commit.
      std::vector<rocksdb::ColumnFamilyHandle*> ours(families_.begin(), families_.end());
      if (db_->Flush(rocksdb::FlushOptions(), ours).ok()) WriteClosedAtSequence(path_, db_->GetLatestSequenceNumber());
    }
    for (rocksdb::ColumnFamilyHandle* handle : handles_) {
      // Only fails for a handle this DB did not create; ours all came from Open.
      (void)db_->DestroyColumnFamilyHandle(handle);
    }
    // Every commit is already in the WAL; a failed close loses nothing that recovery will not
    // replay, and a destructor has no one to report to.
    (void)db_->Close();
    delete db_;
  }

  RecoveryReport Recovery() const override { return recovery_; }
  void set_flush_on_close(bool flush) { flush_on_close_ = flush; }
  void set_recovery(RecoveryReport report) { recovery_ = std::move(report); }

  // Binds our families to the handles Open returned; false if one is missing, unless
  // `missing_read_as_empty` (a read-only open of an older build's store).
  bool Bind(const std::vector<std::string>& names, bool missing_read_as_empty) {
    for (size_t i = 0; i < names.size(); ++i) {
      for (Family family : layout::kFamilies) {
        if (names[i] == layout::Name(family)) families_[static_cast<size_t>(family)] = handles_[i];
      }
    }
    return missing_read_as_empty ||
           std::all_of(families_.begin(), families_.end(), [](auto* handle) { return handle != nullptr; });
  }

  absl::StatusOr<std::optional<std::string>> Get(Family family, std::string_view key) override {
    if (Of(family) == nullptr) return std::nullopt;
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Of(family), rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) return std::nullopt;
    if (!s.ok()) return FromRocks(s, path_, absl::StrCat("column family ", layout::Name(family), ": read failed"));
    return value;
  }

  absl::Status Scan(Family family, std::string_view begin, std::string_view end,
                    const std::function<bool(std::string_view, std::string_view)>& fn) override {
    if (Of(family) == nullptr) return absl::OkStatus();
    rocksdb::ReadOptions read;
    // The upper bound lets RocksDB stop at the end of the range instead of reading on: past it lie
    // the next block, and tombstones it would otherwise step over looking for a live key.
    const rocksdb::Slice upper(end.data(), end.size());
    if (!end.empty()) read.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, Of(family)));
    for (it->Seek(rocksdb::Slice(begin.data(), begin.size())); it->Valid(); it->Next()) {
      const std::string_view key(it->key().data(), it->key().size());
      if (!fn(key, std::string_view(it->value().data(), it->value().size()))) break;
    }
    if (!it->status().ok()) {
      return FromRocks(it->status(), path_, absl::StrCat("column family ", layout::Name(family), ": scan failed"));
    }
    return absl::OkStatus();
  }

  absl::Status Apply(const std::vector<layout::Write>& writes) override {
    rocksdb::WriteBatch batch;
    for (const layout::Write& write : writes) {
      const rocksdb::Slice key(write.key);
      rocksdb::Status s = write.value ? batch.Put(Of(write.family), key, rocksdb::Slice(*write.value))
                                      : batch.Delete(Of(write.family), key);
      if (!s.ok()) {
        return FromRocks(s, path_, absl::StrCat("column family ", layout::Name(write.family), ": batch rejected"));
      }
    }
    // RocksDB must never meet a full disk itself (see StoreOptions::disk_reserve_bytes): the commit
    // is refused while there is still room to flush what it already holds.
    if (absl::Status room = CheckRoomForCommit(path_, batch.GetDataSize(), memtable_bound_, disk_reserve_bytes_);
        !room.ok()) {
      return room;
    }
    rocksdb::WriteOptions options;
    options.sync = sync_;
    rocksdb::Status s = db_->Write(options, &batch);
    if (!s.ok()) return FromRocks(s, path_, absl::StrCat("commit of ", writes.size(), " writes failed"));
    return absl::OkStatus();
  }

 private:
  rocksdb::ColumnFamilyHandle* Of(Family family) const { return families_[static_cast<size_t>(family)]; }

  const std::string path_;
  rocksdb::DB* const db_;
  const std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // every family of the DB, ours or not
  std::array<rocksdb::ColumnFamilyHandle*, layout::kFamilyCount> families_{};
  const bool sync_;
  const uint64_t memtable_bound_;  // every family's write buffers full
  const uint64_t disk_reserve_bytes_;
  RecoveryReport recovery_;
  bool flush_on_close_ = false;
};

// --- Opening ----------------------------------------------------------------------------------

absl::Status CheckSchemaVersion(KvBackend& backend, const StoreOptions& options) {
  absl::StatusOr<std::optional<std::string>> stored = backend.Get(Family::kMeta, layout::kSchemaVersionKey);
  if (!stored.ok()) return stored.status();
  const std::string expected = std::to_string(layout::kSchemaVersion);
  if (!stored->has_value()) {
    if (options.read_only) {
      return layout::StoreError(absl::StatusCode::kFailedPrecondition, options.path,
                                "no schema_version in column family meta: not an alertd state store");
    }
    // A new store. Written before anything else can be, so a store with data always has one.
    return backend.Apply(
        {layout::Write{.family = Family::kMeta, .key = std::string(layout::kSchemaVersionKey), .value = expected}});
  }
  if (**stored == "1" || **stored == "2" || **stored == "3") {
    if (options.read_only) {
      return layout::StoreError(
          absl::StatusCode::kFailedPrecondition, options.path,
          absl::StrCat("schema version ", **stored, ", written by an older build: start alertd on it once to migrate "
                       "it to version ", expected, " (timer keys partition first, outbox and parked entries keyed by "
                       "partition, epoch and seq, each worker's profile and samples under keys of their own, "
                       "samples in runs), then read it"));
    }
    return MigrateSchema(backend, options.path, (**stored)[0] - '0');
  }
  if (**stored == "4") {
    // Schema 4's single samples read as they are (worker_parts.h): a reader need not migrate.
    if (options.read_only) return absl::OkStatus();
    return MigrateSchema(backend, options.path, 4);
  }
  if (**stored != expected) {
    return layout::StoreError(
        absl::StatusCode::kFailedPrecondition, options.path,
        absl::StrCat("schema version \"", absl::CHexEscape(**stored), "\", but this build reads version ", expected,
                     "; open it with the alertd build that wrote it, or migrate it"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<StateStore>> OpenRocksStore(const StoreOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("state store: StoreOptions.path is empty");

  // Existing families must all be opened, including any a newer build added: RocksDB refuses to
  // open a subset read-write. Ours are created when missing.
  std::vector<std::string> names;
  std::error_code ec;
  const bool exists = std::filesystem::exists(std::filesystem::path(options.path) / "CURRENT", ec);
  if (exists) {
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), options.path, &names);
    if (!s.ok()) return FromRocks(s, options.path, "listing column families failed");
  } else if (options.read_only) {
    return layout::StoreError(absl::StatusCode::kNotFound, options.path,
                              "no database here (a read-only open does not create one)");
  } else {
    // RocksDB creates only the last path component; a configured state dir may be deeper.
    std::filesystem::create_directories(options.path, ec);
    if (ec) {
      return layout::StoreError(absl::StatusCode::kFailedPrecondition, options.path,
                                absl::StrCat("cannot create the directory: ", ec.message()));
    }
    names.push_back(rocksdb::kDefaultColumnFamilyName);
  }
  for (Family family : layout::kFamilies) {
    const std::string name(layout::Name(family));
    // A read-only open cannot create a family, and need not: a store last opened by an older
    // build lacks the families added since, which read as empty (a missing meta still fails the
    // schema check below).
    if (std::find(names.begin(), names.end(), name) == names.end() && !options.read_only) names.push_back(name);
  }

  const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  const rocksdb::CompressionType compression = PickCompression();
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.reserve(names.size());
  uint64_t memtable_bound = 0;
  for (const std::string& name : names) {
    rocksdb::ColumnFamilyOptions cf;  // families we do not know are opened as they are, never touched
    for (Family family : layout::kFamilies) {
      if (name == layout::Name(family)) cf = MakeFamilyOptions(family, cache, compression, options.memtable_bytes);
    }
    memtable_bound += static_cast<uint64_t>(cf.write_buffer_size) * static_cast<uint64_t>(cf.max_write_buffer_number);
    descriptors.emplace_back(name, cf);
  }

  rocksdb::DBOptions db_options = MakeDbOptions();
  if (options.memtable_bytes > 0) {
    db_options.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(options.memtable_bytes, cache);
  }
  // RocksDB's own LOG file writer aborts the process on a full disk (see info_log.h). A read-only
  // open writes nothing into the directory: its warnings go to stderr.
  db_options.info_log =
      options.read_only
          ? std::make_shared<InfoLog>("", 0, rocksdb::InfoLogLevel::WARN_LEVEL)
          : std::make_shared<InfoLog>(options.path, db_options.max_log_file_size, rocksdb::InfoLogLevel::INFO_LEVEL);
  if (!options.read_only) {
    // Opening replays the WAL into memtables and writes them to SST files before the old WAL goes.
    if (absl::Status room = CheckFreeSpace(
            options.path, {.write_bytes = WalBytes(options.path), .reserve_bytes = options.disk_reserve_bytes}, "open");
        !room.ok()) {
      return room;
    }
  }
  // Point-in-time recovery drops what follows damage in the WAL without a word; what it will drop
  // can only be seen before it replays (and then deletes) the files.
  const WalScan wal = ScanWal(options.path);
  // After a clean close the WAL is empty, so a read-only look first is cheap; it deletes nothing,
  // unlike a read-write open that recovers an older version.
  const std::optional<uint64_t> closed_at = ReadClosedAtSequence(options.path);
  if (closed_at && !options.read_only) {
    rocksdb::DB* look = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> look_handles;
    rocksdb::Status looked = rocksdb::DB::OpenForReadOnly(db_options, options.path, descriptors, &look_handles, &look);
    if (!looked.ok()) return FromRocks(looked, options.path, "open failed");
    const uint64_t recovered = look->GetLatestSequenceNumber();
    for (rocksdb::ColumnFamilyHandle* handle : look_handles) (void)look->DestroyColumnFamilyHandle(handle);
    (void)look->Close();
    delete look;
    if (absl::Status status = CheckNotRolledBack(options.path, recovered, *closed_at); !status.ok()) return status;
  }
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  // A read-only open takes no lock, so inspection tools can look at a stopped daemon's store.
  rocksdb::Status s = options.read_only
                          ? rocksdb::DB::OpenForReadOnly(db_options, options.path, descriptors, &handles, &db)
                          : rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &db);
  if (!s.ok()) return FromRocks(s, options.path, options.read_only ? "read-only open failed" : "open failed");

  if (closed_at) {
    absl::Status status = CheckNotRolledBack(options.path, db->GetLatestSequenceNumber(), *closed_at);
    if (!status.ok()) {
      for (rocksdb::ColumnFamilyHandle* handle : handles) (void)db->DestroyColumnFamilyHandle(handle);
      (void)db->Close();
      delete db;
      return status;
    }
    // From here the store moves on; a crash before the next clean close leaves no stale record.
    if (!options.read_only) std::filesystem::remove(ClosedAtSequencePath(options.path), ec);
  }
  RecoveryReport recovery = ReportDropped(wal, db->GetLatestSequenceNumber());
  if (!recovery.detail.empty()) {
    rocksdb::Log(recovery.mid_log_damage ? rocksdb::InfoLogLevel::ERROR_LEVEL : rocksdb::InfoLogLevel::WARN_LEVEL,
                 db_options.info_log, "alertd state store %s: %s", options.path.c_str(), recovery.detail.c_str());
  }
  auto backend = std::make_unique<RocksBackend>(options.path, db, std::move(handles), options.sync_commits,
                                                memtable_bound, options.disk_reserve_bytes);
  backend->set_recovery(std::move(recovery));
  backend->set_flush_on_close(options.flush_on_close && !options.read_only);
  if (!backend->Bind(names, options.read_only)) {
    return layout::StoreError(absl::StatusCode::kInternal, options.path,
                              "a column family handle is missing after open");
  }
  if (absl::Status status = CheckSchemaVersion(*backend, options); !status.ok()) return status;

  uint64_t next_outbox_seq = 1;
  absl::StatusOr<std::optional<std::string>> counter = backend->Get(Family::kMeta, layout::kOutboxNextSeqKey);
  if (!counter.ok()) return counter.status();
  if (counter->has_value()) {
    absl::StatusOr<uint64_t> decoded = layout::DecodeOutboxNextSeq(options.path, **counter);
    if (!decoded.ok()) return decoded.status();
    next_outbox_seq = *decoded;
  }
  return NewKvStateStore(std::move(backend), options.path, next_outbox_seq, options.read_only);
}

}  // namespace alertd::state
