// alertd-bench's scale-out measurements (see scale_out.h).
#include "bench/scale_out.h"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "bench/bench_support.h"
#include "engine/kafka/clients.h"
#include "tests/support/records.h"

namespace alertd::bench {
namespace {

// The failover's group and topics, one set per standby setting: "", "-standby1", ...
std::string FailoverSuffix(int standby_replicas) {
  return standby_replicas == 0 ? std::string() : "-standby" + std::to_string(standby_replicas);
}
std::string FailoverGroup(int standby_replicas) { return "alertd-failover" + FailoverSuffix(standby_replicas); }
std::string FailoverReadings(int standby_replicas) { return "readings-failover" + FailoverSuffix(standby_replicas); }
std::string FailoverEscalations(int standby_replicas) {
  return "escalations-failover" + FailoverSuffix(standby_replicas);
}

std::string ChangelogOf(const std::string& group) { return group + "-state-changelog"; }

// Waits until the metric reaches `target`; dies if alertd exits or `seconds` pass.
double WaitForMetric(const Alertd& a, const std::string& metric, double target, int seconds, const std::string& what) {
  const auto t0 = Clock::now();
  double v = ScrapeMetric(a.port, metric);
  while (v < target) {
    CheckAlive(a.pid, a.log);
    if (Since(t0) > seconds) {
      Die(what + ": " + metric + " at " + std::to_string(v) + " of " + std::to_string(target) + " after " +
          std::to_string(seconds) + " s");
    }
    usleep(50000);
    v = ScrapeMetric(a.port, metric);
  }
  return v;
}

// Owns every input partition (4 topic-partitions each), restores none, and says /readyz 200.
bool OwnsAllRestored(const Alertd& a, int partitions) {
  return ScrapeMetric(a.port, "alertd_assigned_partitions") == 4.0 * partitions &&
         ScrapeMetric(a.port, "alertd_restoring_partitions") == 0 && HttpStatus(a.port, "/readyz") == 200;
}

// The input partitions alertd logged as assigned to it ("assigned partitions 0,5,9 of readings, ...").
std::set<int> AssignedInLog(const std::string& log) {
  std::ifstream in(log);
  std::set<int> out;
  std::string line;
  const std::string marker = "assigned partitions ";
  while (std::getline(in, line)) {
    const auto at = line.find(marker);
    if (at == std::string::npos) continue;
    std::istringstream list(line.substr(at + marker.size(), line.find(" of ", at) - at - marker.size()));
    for (std::string p; std::getline(list, p, ',');) out.insert(std::stoi(p));
  }
  return out;
}

}  // namespace

std::vector<std::string> ScaleOutTopics(const std::vector<std::string>& state_cost_names,
                                        const std::vector<int>& failover_standbys) {
  std::vector<std::string> topics;
  for (const auto& name : state_cost_names) {
    topics.push_back("readings-" + name);
    topics.push_back(ChangelogOf("alertd-" + name));
  }
  for (int n : failover_standbys) {
    topics.insert(topics.end(), {FailoverReadings(n), FailoverEscalations(n), ChangelogOf(FailoverGroup(n))});
    // alertd-kafka gives a topic named *-members one partition.
    if (n > 0) topics.push_back(FailoverGroup(n) + "-members");
  }
  return topics;
}

StateCost MeasureStateCost(const ScaleOut& s, const std::string& name, int workers, int64_t readings) {
  StateCost c;
  c.name = name;
  c.workers = workers;
  c.readings = readings;
  const std::string topic = "readings-" + name;
  std::vector<std::string> extra{"--group", "alertd-" + name, "--readings-topic", topic};
  extra.insert(extra.end(), s.alertd_flags.begin(), s.alertd_flags.end());
  const auto stream = EncodeStream(readings, workers, s.now_ms);

  {
    Alertd a = StartAlertd(s.alertd_bin, s.bootstrap, s.work, name, extra);
    // The roster's profiles are state too, and go to the changelog: counted before, not per reading.
    const double base = WaitForMetric(a, "alertd_committed_records_total", s.roster_workers, 120, name + " roster");
    const double cl_bytes0 = ScrapeMetric(a.port, "alertd_changelog_bytes_total");
    const double cl_records0 = ScrapeMetric(a.port, "alertd_changelog_records_total");
    const int64_t disk0 = DiskWriteBytes(a.pid);
    const int64_t dir0 = DirBytes(a.db);
    const auto t0 = Clock::now();
    ProduceAll(s.bootstrap, topic, stream);
    WaitForMetric(a, "alertd_committed_records_total", base + readings, 300, name + " readings");
    c.rate = readings / Since(t0);
    const double n = static_cast<double>(readings);
    c.changelog_bytes_per_reading = (ScrapeMetric(a.port, "alertd_changelog_bytes_total") - cl_bytes0) / n;
    c.changelog_records_per_reading = (ScrapeMetric(a.port, "alertd_changelog_records_total") - cl_records0) / n;
    c.disk_bytes_per_reading = static_cast<double>(DiskWriteBytes(a.pid) - disk0) / n;
    c.db_growth_per_reading = static_cast<double>(DirBytes(a.db) - dir0) / n;
    c.changelog_records_written = ScrapeMetric(a.port, "alertd_changelog_records_total");
    Stop(a.pid);
    std::printf("state cost, %s: %d workers x %lld readings each, %.0f readings/s: changelog %.0f B/reading "
                "(%.2f records/reading); RocksDB %.0f B/reading written to disk (/proc write_bytes of alertd: WAL, "
                "flushes, compactions), db directory grew %.0f B/reading\n",
                name.c_str(), workers, static_cast<long long>(readings / workers), c.rate,
                c.changelog_bytes_per_reading, c.changelog_records_per_reading, c.disk_bytes_per_reading,
                c.db_growth_per_reading);
  }

  // A fresh instance of the same group on an empty disk: every partition comes from the changelog.
  const auto t0 = Clock::now();
  Alertd r = StartAlertd(s.alertd_bin, s.bootstrap, s.work, name + "-restore", extra);
  Clock::time_point first{};
  bool started = false;
  while (!OwnsAllRestored(r, s.partitions)) {
    CheckAlive(r.pid, r.log);
    if (Since(t0) > 120) Die("restore of " + name + " not done after 120 s");
    if (!started && (ScrapeMetric(r.port, "alertd_restoring_partitions") > 0 ||
                     ScrapeMetric(r.port, "alertd_restore_records_total") > 0)) {
      started = true;
      first = Clock::now();
    }
    usleep(50000);
  }
  c.start_to_ready_seconds = Since(t0);
  // A restore shorter than one poll is timed from the start of the process: an upper bound.
  c.restore_seconds = started ? Since(first) : c.start_to_ready_seconds;
  c.restore_records = ScrapeMetric(r.port, "alertd_restore_records_total");
  c.restore_bytes = ScrapeMetric(r.port, "alertd_restore_bytes_total");
  Stop(r.pid);
  std::printf("restore, %s: %.0f changelog records (%.1f MiB; the writer had written %.0f at its last counted commit, "
              "before its commit on stop) in %.2f s from the first "
              "partition restoring to /readyz 200 (%.2f s from process start, group join included): %.0f records/s, "
              "%.1f MiB/s\n",
              name.c_str(), c.restore_records, c.restore_bytes / 1048576, c.changelog_records_written,
              c.restore_seconds, c.start_to_ready_seconds, c.restore_records / c.restore_seconds,
              c.restore_bytes / 1048576 / c.restore_seconds);
  return c;
}

Failover MeasureFailover(const ScaleOut& s, int session_timeout_ms, int standby_replicas, int workers,
                         int64_t readings) {
  Failover f;
  f.session_timeout_ms = session_timeout_ms;
  f.standby_replicas = standby_replicas;
  const std::string readings_topic = FailoverReadings(standby_replicas);
  const std::string escalations_topic = FailoverEscalations(standby_replicas);
  const std::string name = "failover" + FailoverSuffix(standby_replicas);
  std::vector<std::string> extra{"--group",
                                 FailoverGroup(standby_replicas),
                                 "--readings-topic",
                                 readings_topic,
                                 "--escalations-topic",
                                 escalations_topic,
                                 "--standby-replicas",
                                 std::to_string(standby_replicas),
                                 "--kafka-property",
                                 "session.timeout.ms=" + std::to_string(session_timeout_ms),
                                 "--kafka-property",
                                 "heartbeat.interval.ms=500",
                                 "--log-level",
                                 "info"};
  extra.insert(extra.end(), s.alertd_flags.begin(), s.alertd_flags.end());

  // State to move: the first instance grades the readings alone, then the second joins and takes half.
  ProduceAll(s.bootstrap, readings_topic, EncodeStream(readings, workers, s.now_ms));
  Alertd a = StartAlertd(s.alertd_bin, s.bootstrap, s.work, name + "-a", extra);
  WaitForMetric(a, "alertd_committed_records_total", s.roster_workers + readings, 120, name + ", first instance");
  Alertd b = StartAlertd(s.alertd_bin, s.bootstrap, s.work, name + "-b", extra);
  const auto join = Clock::now();
  while (!(ScrapeMetric(b.port, "alertd_assigned_partitions") > 0 &&
           ScrapeMetric(a.port, "alertd_assigned_partitions") + ScrapeMetric(b.port, "alertd_assigned_partitions") ==
               4.0 * s.partitions &&
           HttpStatus(a.port, "/readyz") == 200 && HttpStatus(b.port, "/readyz") == 200 &&
           ScrapeMetric(b.port, "alertd_restoring_partitions") == 0)) {
    CheckAlive(a.pid, a.log);
    CheckAlive(b.pid, b.log);
    if (Since(join) > 60) Die("failover: the second instance did not get a share of the partitions within 60 s");
    usleep(50000);
  }
  // The first instance is killed: the partitions it kept move to the second, which never owned them
  // (without a standby it restores their whole changelog; with one, it has followed them).
  const std::set<int> kept_by_b = AssignedInLog(b.log);
  if (static_cast<double>(kept_by_b.size()) * 4 != ScrapeMetric(b.port, "alertd_assigned_partitions")) {
    Die("failover: " + b.log + " lists " + std::to_string(kept_by_b.size()) +
        " assigned partitions, its alertd_assigned_partitions says otherwise");
  }
  std::set<int> moved;
  for (int p = 0; p < s.partitions; ++p) {
    if (!kept_by_b.count(p)) moved.insert(p);
  }
  f.moved_partitions = static_cast<int>(moved.size());
  if (standby_replicas > 0) {
    // The second instance follows the first one's partitions, to the end of their changelogs.
    const auto t0 = Clock::now();
    while (!(ScrapeMetric(b.port, "alertd_standby_partitions") == f.moved_partitions &&
             ScrapeMetric(b.port, "alertd_standby_lag_records") == 0)) {
      CheckAlive(b.pid, b.log);
      if (Since(t0) > 120) Die("failover: the second instance did not stand by for the first's partitions within 120 s");
      usleep(50000);
    }
  }
  const double restored_before = ScrapeMetric(b.port, "alertd_restore_records_total");

  // Joined, with start offsets resolved, before the kill: the probes' times are the engine's.
  const auto c = JoinedConsumerAtEnd(s.bootstrap, "bench-" + name, escalations_topic);
  auto producer = MakeProducer(s.bootstrap);
  const auto warm = testing::MakeBp("WARMUP", WallMs(), 120, 80);
  Send(*producer, readings_topic, warm.worker_id(), warm.SerializeAsString());
  producer->flush(30000);

  const auto kill_at = Clock::now();
  Kill9(a.pid);
  // One grade-3 reading of a new worker on each moved partition: its R1 escalation is that partition
  // processing again.
  for (int p : moved) {
    const auto r = testing::MakeBp("F" + std::to_string(p), WallMs(), 186, 114);
    Send(*producer, readings_topic, r.worker_id(), r.SerializeAsString(), p);
  }
  producer->flush(30000);
  std::map<std::string, double> seen;
  auto scraped = Clock::now();
  while (Since(kill_at) < 60 && (static_cast<int>(seen.size()) < f.moved_partitions || f.restored_s == 0)) {
    std::unique_ptr<RdKafka::Message> m(c->consume(50));
    if (m->err() == RdKafka::ERR_NO_ERROR) {
      healthgrid::v1::Escalation e;
      if (e.ParseFromArray(m->payload(), static_cast<int>(m->len())) && e.worker_id().rfind("F", 0) == 0 &&
          e.state() == healthgrid::v1::OPEN) {
        seen.emplace(e.worker_id(), Since(kill_at));
      }
    }
    if (Since(scraped) >= 0.1) {
      scraped = Clock::now();
      CheckAlive(b.pid, b.log);
      if (f.assigned_s == 0 && ScrapeMetric(b.port, "alertd_assigned_partitions") == 4.0 * s.partitions) {
        f.assigned_s = Since(kill_at);
      }
      if (f.assigned_s > 0 && f.restored_s == 0 && OwnsAllRestored(b, s.partitions)) f.restored_s = Since(kill_at);
    }
  }
  c->close();
  f.restored_records = ScrapeMetric(b.port, "alertd_restore_records_total") - restored_before;
  Stop(b.pid);
  f.probes_seen = static_cast<int>(seen.size());
  for (const auto& [worker, at] : seen) {
    f.first_probe_s = f.first_probe_s == 0 ? at : std::min(f.first_probe_s, at);
    f.last_probe_s = std::max(f.last_probe_s, at);
  }
  std::printf("failover, %d standby replica(s): kill -9 of 1 of 2 alertd (session.timeout.ms=%d, "
              "heartbeat.interval.ms=500), %d of %d partitions moved; from the kill: survivor owned all after %.2f s, "
              "restored all after %.2f s (%.0f changelog records read); the moved partitions' probe escalations (%d "
              "of %d seen) first after %.2f s, last after %.2f s\n",
              standby_replicas, session_timeout_ms, f.moved_partitions, s.partitions, f.assigned_s, f.restored_s,
              f.restored_records, f.probes_seen, f.moved_partitions, f.first_probe_s, f.last_probe_s);
  if (f.probes_seen < f.moved_partitions || f.restored_s == 0) {
    Die("failover: the survivor did not take every moved partition over within 60 s");
  }
  return f;
}

}  // namespace alertd::bench
