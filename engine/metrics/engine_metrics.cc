// Prometheus metric families of alertd and their label discipline.
#include "engine/metrics/engine_metrics.h"

#include "engine/metrics/process_metrics.h"

namespace alertd::metrics {
namespace {

std::string_view Unit(const std::string& u) { return u.empty() ? std::string_view("unknown") : std::string_view(u); }

}  // namespace

EngineMetrics::EngineMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      readings_(prometheus::BuildCounter()
                    .Name("alertd_readings_total")
                    .Help("Accepted readings by kind, blood-pressure category, unit and grid")
                    .Register(*registry_)),
      bp_flags_(prometheus::BuildCounter()
                    .Name("alertd_bp_flags_total")
                    .Help("Blood-pressure readings flagged isolated systolic hypertension or hypotension")
                    .Register(*registry_)),
      escalations_(prometheus::BuildCounter()
                       .Name("alertd_escalations_total")
                       .Help("Escalation events decided, by rule, severity, state and unit")
                       .Register(*registry_)),
      referrals_(prometheus::BuildCounter()
                     .Name("alertd_referrals_total")
                     .Help("Clinic referrals decided, by rule, urgency and unit")
                     .Register(*registry_)),
      dead_letters_(prometheus::BuildCounter()
                        .Name("alertd_dead_letters_total")
                        .Help("Input records refused to the dead-letter topic, by reason and source topic")
                        .Register(*registry_)),
      delivery_failures_(prometheus::BuildCounter()
                             .Name("alertd_delivery_failures_total")
                             .Help("Output records the broker did not confirm; they stay in the outbox and are retried")
                             .Register(*registry_)),
      parked_total_(prometheus::BuildCounter()
                        .Name("alertd_parked_total")
                        .Help("Output records the broker refused for good (too large, invalid), moved aside to the "
                              "parked column family instead of being retried; inspect with `alertd parked`")
                        .Register(*registry_)),
      parked_(prometheus::BuildGauge()
                  .Name("alertd_parked_outputs")
                  .Help("Output records in the parked column family of this instance's store")
                  .Register(*registry_)
                  .Add({})),
      kafka_errors_(prometheus::BuildCounter()
                        .Name("alertd_kafka_errors_total")
                        .Help("Errors reported by the Kafka client, by operation and librdkafka error name")
                        .Register(*registry_)),
      input_gaps_(prometheus::BuildCounter()
                      .Name("alertd_input_gap_records_total")
                      .Help("Input offsets skipped because Kafka had deleted them before alertd read them, by "
                            "topic and cause (retention: behind the log start; before_first_read: deleted before "
                            "the partition was first assigned)")
                      .Register(*registry_)),
      fetch_restarts_(prometheus::BuildCounter()
                          .Name("alertd_fetch_restarts_total")
                          .Help("Input partitions assigned again because they had stopped fetching while their "
                                "logs held records (a pause, resume or fetch start lost in the Kafka client), by topic")
                          .Register(*registry_)),
      fetch_wakes_(prometheus::BuildCounter()
                       .Name("alertd_fetch_wakes_total")
                       .Help("Times a consumer's fetching was woken after its queue had reached its bound and "
                             "fallen to half of it (the Kafka client waits up to a second otherwise), by consumer")
                       .Register(*registry_)),
      store_retries_(prometheus::BuildCounter()
                         .Name("alertd_store_retries_total")
                         .Help("State store calls that failed with a transient error and were tried again")
                         .Register(*registry_)
                         .Add({})),
      state_loads_(prometheus::BuildCounter()
                       .Name("alertd_state_loads_total")
                       .Help("Committed worker states read from the store because they were not kept decoded in "
                             "memory: evicted (alertd_state_evictions_total, the sign of a budget too small), or "
                             "not read since the start, which reads each worker once")
                       .Register(*registry_)
                       .Add({})),
      state_evictions_(prometheus::BuildCounter()
                           .Name("alertd_state_evictions_total")
                           .Help("Committed worker states dropped from memory, or not kept, to hold the decoded "
                                 "states within their 35% of --memory-budget (the least recently used first); a "
                                 "steady rate means the budget cannot hold the workers being measured")
                           .Register(*registry_)
                           .Add({})),
      wal_dropped_commits_(prometheus::BuildGauge()
                               .Name("alertd_wal_recovery_dropped_commits")
                               .Help("Commits the state store's WAL recovery dropped at the last open (corruption); "
                                     "their input is consumed again from Kafka")
                               .Register(*registry_)
                               .Add({})),
      wal_skipped_bytes_(prometheus::BuildGauge()
                             .Name("alertd_wal_recovery_skipped_bytes")
                             .Help("WAL bytes the state store's recovery skipped at the last open")
                             .Register(*registry_)
                             .Add({})),
      lag_(prometheus::BuildGauge()
               .Name("alertd_consumer_lag")
               .Help("Records between the broker's high watermark and the engine's committed position")
               .Register(*registry_)),
      position_(prometheus::BuildGauge()
                    .Name("alertd_consumer_position")
                    .Help("Next input offset of an owned partition, committed with the state it produced (0: none "
                          "yet)")
                    .Register(*registry_)),
      timers_fired_(prometheus::BuildCounter()
                        .Name("alertd_timers_fired_total")
                        .Help("Deadlines (self-test due, ack timeout, re-notify, snooze end) that came due, by rule")
                        .Register(*registry_)),
      ignored_(prometheus::BuildCounter()
                   .Name("alertd_ignored_total")
                   .Help("Acks and timers the rules found stale: a closed episode, a deadline already met")
                   .Register(*registry_)
                   .Add({})),
      commit_seconds_(prometheus::BuildHistogram()
                          .Name("alertd_commit_duration_seconds")
                          .Help("Time of one atomic RocksDB commit of state, offsets and outbox")
                          .Register(*registry_)
                          .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.002, 0.005, 0.01,
                                                                           0.02, 0.05, 0.1, 0.25, 0.5, 1})),
      commits_(prometheus::BuildCounter()
                   .Name("alertd_commits_total")
                   .Help("Atomic commits of state, offsets and outbox")
                   .Register(*registry_)
                   .Add({})),
      commit_wait_seconds_(prometheus::BuildCounter()
                               .Name("alertd_commit_wait_seconds_total")
                               .Help("Time the engine loop waited for the previous commit to finish")
                               .Register(*registry_)
                               .Add({})),
      poll_wait_seconds_(prometheus::BuildCounter()
                             .Name("alertd_poll_wait_seconds_total")
                             .Help("Time the engine loop spent in the consumer's poll waiting for input records; "
                                   "near a second per second when idle, near zero when saturated")
                             .Register(*registry_)
                             .Add({})),
      committed_records_(prometheus::BuildCounter()
                             .Name("alertd_committed_records_total")
                             .Help("Input records covered by commits (any topic, accepted or dead-lettered)")
                             .Register(*registry_)
                             .Add({})),
      outbox_pending_(prometheus::BuildGauge()
                          .Name("alertd_outbox_pending")
                          .Help("Committed output records not yet confirmed by the broker")
                          .Register(*registry_)
                          .Add({})),
      assigned_partitions_(prometheus::BuildGauge()
                               .Name("alertd_assigned_partitions")
                               .Help("Input topic-partitions this instance owns, restored and processing")
                               .Register(*registry_)
                               .Add({})),
      pre_shift_checks_(prometheus::BuildCounter()
                            .Name("alertd_pre_shift_checks_total")
                            .Help("Pre-shift blood-pressure checks of high-risk-post workers (R4), by unit and "
                                  "result (fit, unfit)")
                            .Register(*registry_)),
      changelog_records_(prometheus::BuildCounter()
                             .Name("alertd_changelog_records_total")
                             .Help("Records written to the state changelog topic (changes, commit and fence records)")
                             .Register(*registry_)
                             .Add({})),
      changelog_bytes_(prometheus::BuildCounter()
                           .Name("alertd_changelog_bytes_total")
                           .Help("Key and value bytes written to the state changelog topic")
                           .Register(*registry_)
                           .Add({})),
      changelog_write_seconds_(prometheus::BuildHistogram()
                                   .Name("alertd_changelog_write_seconds")
                                   .Help("Time of one write to the state changelog (a commit's changes, part of its "
                                         "commit time, or a takeover's fences), from the first record handed to the "
                                         "producer to the broker's last acknowledgement")
                                   .Register(*registry_)
                                   .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.002, 0.005, 0.01,
                                                                                    0.02, 0.05, 0.1, 0.25, 0.5, 1})),
      changelog_errors_(prometheus::BuildCounter()
                            .Name("alertd_changelog_errors_total")
                            .Help("Changelog writes the broker did not confirm (the commit is tried again)")
                            .Register(*registry_)
                            .Add({})),
      changelog_foreign_writes_(prometheus::BuildCounter()
                                    .Name("alertd_changelog_foreign_writes_total")
                                    .Help("Times another instance's records appeared in the changelog of a partition "
                                          "this instance owns (it was fenced off, or an old owner woke up)")
                                    .Register(*registry_)
                                    .Add({})),
      restore_records_(prometheus::BuildCounter()
                           .Name("alertd_restore_records_total")
                           .Help("Changelog records read by restores of assigned partitions")
                           .Register(*registry_)
                           .Add({})),
      restore_bytes_(prometheus::BuildCounter()
                         .Name("alertd_restore_bytes_total")
                         .Help("Key and value bytes of the changelog records read by restores")
                         .Register(*registry_)
                         .Add({})),
      restoring_partitions_(prometheus::BuildGauge()
                                .Name("alertd_restoring_partitions")
                                .Help("Assigned partitions whose state is being restored from the changelog; their "
                                      "input waits, and /readyz is false while any is")
                                .Register(*registry_)
                                .Add({})),
      restore_remaining_(prometheus::BuildGauge()
                             .Name("alertd_restore_remaining_records")
                             .Help("Changelog records a restoring partition has still to read, by partition")
                             .Register(*registry_)),
      restore_seconds_(prometheus::BuildHistogram()
                           .Name("alertd_restore_seconds")
                           .Help("Time from the start of a partition's restore to its end")
                           .Register(*registry_)
                           .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300,
                                                                            1800})),
      standby_records_(prometheus::BuildCounter()
                           .Name("alertd_standby_records_total")
                           .Help("Changelog records read to keep standby copies of partitions this instance does "
                                 "not own")
                           .Register(*registry_)
                           .Add({})),
      standby_bytes_(prometheus::BuildCounter()
                         .Name("alertd_standby_bytes_total")
                         .Help("Key and value bytes of the changelog records read for standby copies")
                         .Register(*registry_)
                         .Add({})),
      standby_partitions_(prometheus::BuildGauge()
                              .Name("alertd_standby_partitions")
                              .Help("Partitions this instance keeps a warm standby copy of (--standby-replicas)")
                              .Register(*registry_)
                              .Add({})),
      standby_lag_(prometheus::BuildGauge()
                       .Name("alertd_standby_lag_records")
                       .Help("Changelog records a standby copy is behind its partition's changelog, by partition: "
                             "what a failover to this instance would have to restore")
                       .Register(*registry_)),
      group_members_(prometheus::BuildGauge()
                         .Name("alertd_group_members")
                         .Help("Live alertd instances of the group, as announced on the members topic")
                         .Register(*registry_)
                         .Add({})),
      counting_partitions_(prometheus::BuildGauge()
                               .Name("alertd_dashboard_partitions_counting")
                               .Help("Owned partitions whose stored workers are still being counted into the "
                                     "dashboard gauges (alertd_open_escalations, alertd_self_test_*), in the "
                                     "background after an assignment; the gauges are exact once it is 0")
                               .Register(*registry_)
                               .Add({})),
      state_cache_workers_(prometheus::BuildGauge()
                               .Name("alertd_state_cache_workers")
                               .Help("Committed worker states kept decoded in memory")
                               .Register(*registry_)
                               .Add({})),
      state_cache_bytes_(prometheus::BuildGauge()
                             .Name("alertd_state_cache_bytes")
                             .Help("Estimated heap of the decoded worker states kept in memory; bounded by 35% of "
                                   "--memory-budget")
                             .Register(*registry_)
                             .Add({})),
      open_escalations_(prometheus::BuildGauge()
                            .Name("alertd_open_escalations")
                            .Help("Open escalation episodes of the owned workers, by unit, rule and current level")
                            .Register(*registry_)),
      open_escalations_opened_(
          prometheus::BuildGauge()
              .Name("alertd_open_escalations_opened_timestamp_seconds_sum")
              .Help("Sum over the open episodes of alertd_open_escalations of the event time each opened at "
                    "(seconds since the epoch); time() minus this over the count is their mean age")
              .Register(*registry_)),
      self_test_enrolled_(prometheus::BuildGauge()
                              .Name("alertd_self_test_enrolled_workers")
                              .Help("Owned workers enrolled in weekly blood-pressure self-tests (R3), by unit")
                              .Register(*registry_)),
      self_test_overdue_(prometheus::BuildGauge()
                             .Name("alertd_self_test_overdue_workers")
                             .Help("Enrolled workers with a missed weekly self-test (an R3 episode open), by unit")
                             .Register(*registry_)),
      self_test_compliance_(prometheus::BuildGauge()
                                .Name("alertd_self_test_compliance_ratio")
                                .Help("(enrolled - overdue) / enrolled, by unit; absent for a unit with none enrolled")
                                .Register(*registry_)) {}

prometheus::Counter& EngineMetrics::Counter(prometheus::Family<prometheus::Counter>& family, Labels labels) {
  key_buffer_.assign(reinterpret_cast<const char*>(&family), sizeof(&family));
  for (const auto& [name, value] : labels) {
    key_buffer_ += '\x1f';
    key_buffer_ += value;
  }
  auto it = counter_cache_.find(key_buffer_);
  if (it != counter_cache_.end()) return *it->second;
  std::map<std::string, std::string> label_map;
  for (const auto& [name, value] : labels) label_map.emplace(name, value);
  prometheus::Counter& c = family.Add(label_map);
  counter_cache_.emplace(key_buffer_, &c);
  return c;
}

void EngineMetrics::CountReading(std::string_view kind, std::string_view category, const std::string& unit,
                                 const std::string& grid) {
  Counter(readings_, {{"kind", kind}, {"category", category}, {"unit", Unit(unit)}, {"grid", Unit(grid)}}).Increment();
}

void EngineMetrics::CountBpFlag(std::string_view flag, const std::string& unit, const std::string& grid) {
  Counter(bp_flags_, {{"flag", flag}, {"unit", Unit(unit)}, {"grid", Unit(grid)}}).Increment();
}

void EngineMetrics::CountEscalation(const domain::Escalation& e) {
  Counter(escalations_, {{"rule", domain::Name(e.rule)},
                         {"severity", domain::Name(e.severity)},
                         {"state", domain::Name(e.state)},
                         {"unit", Unit(e.unit_id)}})
      .Increment();
}

void EngineMetrics::CountParked(const std::string& topic) {
  Counter(parked_total_, {{"topic", topic}}).Increment();
  parked_.Increment();
}

void EngineMetrics::SetParked(std::size_t entries) { parked_.Set(static_cast<double>(entries)); }

void EngineMetrics::CountKafkaError(std::string_view op, std::string_view error) {
  Counter(kafka_errors_, {{"op", op}, {"error", error}}).Increment();
}

void EngineMetrics::CountInputGap(const std::string& topic, std::string_view cause, int64_t records) {
  Counter(input_gaps_, {{"topic", topic}, {"cause", cause}}).Increment(static_cast<double>(records));
}

void EngineMetrics::CountFetchRestart(const std::string& topic) {
  Counter(fetch_restarts_, {{"topic", topic}}).Increment();
}

void EngineMetrics::CountFetchWake(const std::string& consumer) {
  Counter(fetch_wakes_, {{"consumer", consumer}}).Increment();
}

void EngineMetrics::CountStoreRetry() { store_retries_.Increment(); }

void EngineMetrics::CountStateLoad() { state_loads_.Increment(); }

void EngineMetrics::CountStateEviction() { state_evictions_.Increment(); }

void EngineMetrics::SetWalRecovery(uint64_t dropped_commits, uint64_t skipped_bytes) {
  wal_dropped_commits_.Set(static_cast<double>(dropped_commits));
  wal_skipped_bytes_.Set(static_cast<double>(skipped_bytes));
}

void EngineMetrics::CountReferral(const domain::Referral& r) {
  Counter(referrals_, {{"rule", domain::Name(r.rule)}, {"urgency", domain::Name(r.urgency)}, {"unit", Unit(r.unit_id)}})
      .Increment();
}

void EngineMetrics::CountDeadLetter(domain::RejectReason reason, std::string_view topic) {
  Counter(dead_letters_, {{"reason", domain::Name(reason)}, {"topic", topic}}).Increment();
}

void EngineMetrics::ObserveCommit(double seconds, std::size_t records) {
  commit_seconds_.Observe(seconds);
  commits_.Increment();
  committed_records_.Increment(static_cast<double>(records));
}

void EngineMetrics::CountTimerFired(std::string_view rule) { Counter(timers_fired_, {{"rule", rule}}).Increment(); }

void EngineMetrics::CountIgnored() { ignored_.Increment(); }

void EngineMetrics::AddCommitWait(double seconds) { commit_wait_seconds_.Increment(seconds); }

void EngineMetrics::AddPollWait(double seconds) { poll_wait_seconds_.Increment(seconds); }

void EngineMetrics::SetConsumerLag(const std::string& topic, int32_t partition, int64_t lag) {
  lag_.Add({{"topic", topic}, {"partition", std::to_string(partition)}}).Set(static_cast<double>(lag));
}

void EngineMetrics::SetConsumerPosition(const std::string& topic, int32_t partition, int64_t next_offset) {
  position_.Add({{"topic", topic}, {"partition", std::to_string(partition)}}).Set(static_cast<double>(next_offset));
}

void EngineMetrics::ClearConsumerLag(const std::string& topic, int32_t partition) {
  const std::map<std::string, std::string> labels = {{"topic", topic}, {"partition", std::to_string(partition)}};
  for (auto* family : {&lag_, &position_}) family->Remove(&family->Add(labels));
}

void EngineMetrics::ClearConsumerLag() {
  // Partitions move away on a rebalance; their series must not linger with a stale value.
  for (auto* family : {&lag_, &position_}) {
    for (const auto& m : family->Collect()) {
      for (const auto& metric : m.metric) {
        std::map<std::string, std::string> labels;
        for (const auto& l : metric.label) labels[l.name] = l.value;
        family->Remove(&family->Add(labels));
      }
    }
  }
}

void EngineMetrics::SetOutboxPending(std::size_t entries) { outbox_pending_.Set(static_cast<double>(entries)); }

void EngineMetrics::CountDeliveryFailure(const std::string& topic) {
  Counter(delivery_failures_, {{"topic", topic}}).Increment();
}

void EngineMetrics::CountChangelogWrite(std::size_t records, std::size_t bytes, double seconds) {
  changelog_records_.Increment(static_cast<double>(records));
  changelog_bytes_.Increment(static_cast<double>(bytes));
  changelog_write_seconds_.Observe(seconds);
}

void EngineMetrics::CountChangelogError() { changelog_errors_.Increment(); }
void EngineMetrics::CountChangelogForeignWrite() { changelog_foreign_writes_.Increment(); }

void EngineMetrics::CountRestored(std::size_t records, std::size_t bytes) {
  restore_records_.Increment(static_cast<double>(records));
  restore_bytes_.Increment(static_cast<double>(bytes));
}

void EngineMetrics::SetCountingPartitions(std::size_t n) { counting_partitions_.Set(static_cast<double>(n)); }

void EngineMetrics::SetStateCache(std::size_t workers, std::size_t bytes) {
  state_cache_workers_.Set(static_cast<double>(workers));
  state_cache_bytes_.Set(static_cast<double>(bytes));
}

void EngineMetrics::SetRestoringPartitions(std::size_t n) { restoring_partitions_.Set(static_cast<double>(n)); }

void EngineMetrics::SetRestoreRemaining(int32_t partition, int64_t records) {
  restore_remaining_.Add({{"partition", std::to_string(partition)}}).Set(static_cast<double>(records));
}

void EngineMetrics::ClearRestoreRemaining(int32_t partition) {
  auto& gauge = restore_remaining_.Add({{"partition", std::to_string(partition)}});
  restore_remaining_.Remove(&gauge);
}

void EngineMetrics::ObserveRestore(double seconds) { restore_seconds_.Observe(seconds); }

void EngineMetrics::CountStandbyRecords(std::size_t records, std::size_t bytes) {
  standby_records_.Increment(static_cast<double>(records));
  standby_bytes_.Increment(static_cast<double>(bytes));
}

void EngineMetrics::SetStandbyPartitions(std::size_t n) { standby_partitions_.Set(static_cast<double>(n)); }

void EngineMetrics::SetStandbyLag(int32_t partition, int64_t records) {
  standby_lag_.Add({{"partition", std::to_string(partition)}}).Set(static_cast<double>(records));
}

void EngineMetrics::ClearStandbyLag(int32_t partition) {
  auto& gauge = standby_lag_.Add({{"partition", std::to_string(partition)}});
  standby_lag_.Remove(&gauge);
}

void EngineMetrics::SetGroupMembers(std::size_t live) { group_members_.Set(static_cast<double>(live)); }

void EngineMetrics::SetAssignedPartitions(std::size_t n) { assigned_partitions_.Set(static_cast<double>(n)); }

void EngineMetrics::CountPreShiftCheck(const std::string& unit, bool fit) {
  Counter(pre_shift_checks_, {{"unit", Unit(unit)}, {"result", fit ? "fit" : "unfit"}}).Increment();
}

void EngineMetrics::ApplyWorkerChange(const WorkerGauges& before, const WorkerGauges& after) {
  if (before == after) return;
  AddWorker(before, -1);
  AddWorker(after, +1);
}

void EngineMetrics::AddWorker(const WorkerGauges& g, double sign) {
  if (g.empty()) return;
  const std::string_view unit = Unit(g.unit);
  for (std::size_t rule = 0; rule < g.open_level.size(); ++rule) {
    if (g.open_level[rule] == 0) continue;
    const auto r = static_cast<domain::Rule>(rule);
    const auto level = static_cast<domain::EscalationLevel>(g.open_level[rule]);
    gauge_key_buffer_.assign(unit);
    gauge_key_buffer_ += '\x1f';
    gauge_key_buffer_ += static_cast<char>(rule);
    gauge_key_buffer_ += static_cast<char>(g.open_level[rule]);
    auto it = open_gauges_.find(gauge_key_buffer_);
    if (it == open_gauges_.end()) {
      const std::map<std::string, std::string> labels = {
          {"unit", std::string(unit)}, {"rule", domain::Name(r)}, {"level", domain::Name(level)}};
      it = open_gauges_
               .emplace(gauge_key_buffer_, OpenSeries{.count = &open_escalations_.Add(labels),
                                                .opened_sum = &open_escalations_opened_.Add(labels)})
               .first;
    }
    it->second.count->Increment(sign);
    it->second.opened_sum->Increment(sign * static_cast<double>(g.opened_at_s[rule]));
  }
  if (g.enrolled) AddSelfTest(g.unit, static_cast<int>(sign), g.overdue ? static_cast<int>(sign) : 0);
}

void EngineMetrics::AddSelfTest(const std::string& unit_id, int enrolled, int overdue) {
  const std::string_view unit = Unit(unit_id);
  auto it = self_test_.find(std::string(unit));
  if (it == self_test_.end()) {
    SelfTestTally t;
    t.enrolled_gauge = &self_test_enrolled_.Add({{"unit", std::string(unit)}});
    t.overdue_gauge = &self_test_overdue_.Add({{"unit", std::string(unit)}});
    it = self_test_.emplace(std::string(unit), t).first;
  }
  SelfTestTally& t = it->second;
  t.enrolled += enrolled;
  t.overdue += overdue;
  t.enrolled_gauge->Set(static_cast<double>(t.enrolled));
  t.overdue_gauge->Set(static_cast<double>(t.overdue));
  if (t.enrolled > 0) {
    if (t.ratio_gauge == nullptr) t.ratio_gauge = &self_test_compliance_.Add({{"unit", std::string(unit)}});
    t.ratio_gauge->Set(static_cast<double>(t.enrolled - t.overdue) / static_cast<double>(t.enrolled));
  } else if (t.ratio_gauge != nullptr) {
    self_test_compliance_.Remove(t.ratio_gauge);
    t.ratio_gauge = nullptr;
  }
}

void EngineMetrics::ClearWorkerGauges() {
  for (const auto& [_, series] : open_gauges_) {
    open_escalations_.Remove(series.count);
    open_escalations_opened_.Remove(series.opened_sum);
  }
  open_gauges_.clear();
  for (const auto& [_, t] : self_test_) {
    self_test_enrolled_.Remove(t.enrolled_gauge);
    self_test_overdue_.Remove(t.overdue_gauge);
    if (t.ratio_gauge != nullptr) self_test_compliance_.Remove(t.ratio_gauge);
  }
  self_test_.clear();
}

std::string EngineMetrics::Exposition() const { return ExpositionWithProcess(*registry_); }

}  // namespace alertd::metrics
