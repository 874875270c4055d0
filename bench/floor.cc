// The stack's floor: the least a pipeline with a changelog does for the records it drains (floor.h).
#include "bench/floor.h"

#include <librdkafka/rdkafka.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/bench_support.h"
#include "engine/kafka/clients.h"

namespace alertd::bench {
namespace {

class Refusals : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& m) override {
    if (m.err() != RdKafka::ERR_NO_ERROR) failed.fetch_add(1);
  }
  std::atomic<int64_t> failed{0};
};

using Message = std::unique_ptr<rd_kafka_message_t, decltype(&rd_kafka_message_destroy)>;

// Big-endian, so that keys sort as the numbers do, as alertd's store lays them out.
void AppendBigEndian(std::string& out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>(value >> (8 * i));
}

// A worker's records in the commit under way, written as one record when it ends.
struct Run {
  int32_t partition = 0;
  std::string payloads;
};

}  // namespace

FloorRun DrainFloor(const std::string& bootstrap, const std::string& topic, const std::string& changelog_topic,
                    int64_t n, const std::string& db_path, int records_per_commit, FloorWrites writes,
                    const std::function<void()>& joined) {
  std::filesystem::remove_all(db_path);
  rocksdb::Options options;
  options.create_if_missing = true;
  options.compression = rocksdb::kLZ4Compression;  // as alertd's store picks where the build has it
  rocksdb::DB* raw_db = nullptr;
  if (const rocksdb::Status st = rocksdb::DB::Open(options, db_path, &raw_db); !st.ok()) {
    Die("floor: RocksDB at " + db_path + ": " + st.ToString());
  }
  std::unique_ptr<rocksdb::DB> db(raw_db);
  Refusals refusals;
  auto producer = kafka::NewProducer(bootstrap, {{"acks", "all"}}, &refusals, nullptr);
  if (!producer.ok()) Die("floor: " + std::string(producer.status().message()));
  auto& p = **producer;
  // A group of its own per floor (named after its changelog): each drains the topic from the start.
  const auto consumer = JoinedConsumer(bootstrap, "bench-" + changelog_topic, topic);
  if (joined) joined();

  rocksdb::WriteBatch batch;
  rocksdb::WriteOptions durable;
  durable.sync = true;
  // Whatever the producer reads in place (no copy) until the broker acknowledges it: the records
  // themselves, or each worker's run of them.
  std::vector<Message> window;
  std::unordered_map<std::string, Run> runs;  // partition + worker -> that worker's run
  int64_t in_window = 0;
  FloorRun run;
  const auto send = [&](int32_t partition, const std::string& key, const void* value, size_t len) {
    batch.Put(key, rocksdb::Slice(static_cast<const char*>(value), len));
    ++run.writes;
    while (p.produce(changelog_topic, partition, 0, const_cast<void*>(value), len, key.data(), key.size(), 0,
                     nullptr) == RdKafka::ERR__QUEUE_FULL) {
      p.poll(10);
    }
    p.poll(0);
  };
  const auto commit = [&] {
    for (const auto& [worker, r] : runs) {
      std::string key = worker;
      AppendBigEndian(key, static_cast<uint64_t>(run.commits), 8);
      send(r.partition, key, r.payloads.data(), r.payloads.size());
    }
    if (p.flush(60000) != RdKafka::ERR_NO_ERROR) Die("floor: the changelog's records not acknowledged in 60 s");
    if (refusals.failed.load() > 0) Die("floor: the broker refused changelog records");
    if (const rocksdb::Status st = db->Write(durable, &batch); !st.ok()) Die("floor: RocksDB write: " + st.ToString());
    batch.Clear();
    window.clear();  // acknowledged and written: what the producer read may go
    runs.clear();
    in_window = 0;
    ++run.commits;
  };
  int64_t seen = 0;
  Clock::time_point first;
  double cpu0 = 0;
  auto last_record = Clock::now();
  while (seen < n) {
    if (Since(last_record) > 60) Die("floor: no record from " + topic + " for 60 s");
    Message m(rd_kafka_consumer_poll(consumer->c_ptr(), 100), &rd_kafka_message_destroy);
    if (!m || m->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    last_record = Clock::now();
    if (seen++ == 0) {
      first = Clock::now();
      cpu0 = CpuSeconds(getpid());
    }
    std::string key;
    AppendBigEndian(key, static_cast<uint32_t>(m->partition), 4);
    if (writes == FloorWrites::kPerRecord) {
      AppendBigEndian(key, static_cast<uint64_t>(m->offset), 8);
      send(m->partition, key, m->payload, m->len);
      window.push_back(std::move(m));
    } else {
      key.append(static_cast<const char*>(m->key), m->key_len);
      Run& r = runs[key];
      r.partition = m->partition;
      r.payloads.append(static_cast<const char*>(m->payload), m->len);
    }
    if (++in_window >= records_per_commit || seen == n) commit();
  }
  run.done = Clock::now();
  run.rate = static_cast<double>(seen) / Since(first);
  run.cpu_us_per_record = (CpuSeconds(getpid()) - cpu0) * 1e6 / static_cast<double>(seen);
  consumer->close();
  db.reset();
  std::filesystem::remove_all(db_path);  // nothing reads it after: only its cost counts
  return run;
}

}  // namespace alertd::bench
