// Tests of the store's byte layout (keys sort numerically, exact encodings) and of the
// WorkerStateRecord codec's refusals.
#include "engine/state/layout.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "alertd_state.pb.h"
#include "engine/domain/policy.h"
#include "engine/state/worker_record.h"
#include "tests/state/state_test_support.h"

namespace alertd::state {
namespace {

using testing_support::FullState;

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

TEST(LayoutTest, KeysAreBigEndian) {
  EXPECT_EQ(layout::WorkerKeyBytes({1, domain::WorkerId{"W"}}), Bytes({0, 0, 0, 1, 'W'}));
  EXPECT_EQ(layout::PartitionPrefix(256), Bytes({0, 0, 1, 0}));
  EXPECT_EQ(layout::PartitionPrefix(INT32_MAX), Bytes({0x7F, 0xFF, 0xFF, 0xFF}));
  EXPECT_EQ(layout::OffsetKeyBytes({"ab", 2}), Bytes({'a', 'b', 0, 0, 0, 0, 2}));
  EXPECT_EQ(layout::SeqKeyBytes(258), Bytes({0, 0, 0, 0, 0, 0, 1, 2}));
}

TEST(LayoutTest, KeyOrderIsNumericOrder) {
  const std::pair<int32_t, int32_t> partitions[] = {{0, 1}, {1, 2}, {255, 256}, {65535, 65536}, {7, INT32_MAX}};
  for (const auto& [low, high] : partitions) {
    EXPECT_LT(layout::WorkerKeyBytes({low, domain::WorkerId{"\xFF"}}),
              layout::WorkerKeyBytes({high, domain::WorkerId{"\x01"}}));
    EXPECT_LT(layout::OffsetKeyBytes({"t", low}), layout::OffsetKeyBytes({"t", high}));
  }
  const std::pair<uint64_t, uint64_t> seqs[] = {{1, 2}, {255, 256}, {(1ULL << 32) - 1, 1ULL << 32}, {0, UINT64_MAX}};
  for (const auto& [low, high] : seqs) EXPECT_LT(layout::SeqKeyBytes(low), layout::SeqKeyBytes(high));
}

TEST(LayoutTest, ParseWorkerKey) {
  const WorkerKey key{.partition = 300, .worker = domain::WorkerId{std::string("W\0x", 3)}};
  absl::StatusOr<WorkerKey> parsed = layout::ParseWorkerKey("s", layout::WorkerKeyBytes(key));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, key);

  for (const std::string& bad : {Bytes({}), Bytes({0, 0, 0}), Bytes({0, 0, 0, 1}), Bytes({0x80, 0, 0, 0, 'W'})}) {
    const absl::Status status = layout::ParseWorkerKey("s", bad).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << testing::PrintToString(bad);
    EXPECT_NE(status.message().find("state store s: column family workers: corrupt record for key"), std::string::npos)
        << status;
  }
}

TEST(LayoutTest, OutboxCounterIsWrittenOnlyWhenItMoves) {
  CommitBatch batch;
  batch.outbox_delete = {{.partition = 0, .epoch = 0, .seq = 3}};
  absl::StatusOr<layout::EncodedCommit> commit = layout::EncodeCommit("s", batch, 5);
  ASSERT_TRUE(commit.ok()) << commit.status();
  EXPECT_EQ(commit->next_outbox_seq, 5U);
  ASSERT_EQ(commit->writes.size(), 1U);
  EXPECT_EQ(commit->writes[0].family, layout::Family::kOutbox);
  EXPECT_FALSE(commit->writes[0].value.has_value());

  batch.outbox_put.push_back({.seq = 9, .topic = "t", .key = "k", .value = "v", .source_partition = 0});
  commit = layout::EncodeCommit("s", batch, 5);
  ASSERT_TRUE(commit.ok()) << commit.status();
  EXPECT_EQ(commit->next_outbox_seq, 10U);
  const layout::Write& counter = commit->writes.back();
  EXPECT_EQ(counter.family, layout::Family::kMeta);
  EXPECT_EQ(counter.key, layout::kOutboxNextSeqKey);
  EXPECT_EQ(counter.value, layout::SeqKeyBytes(10));
}

domain::Timer MakeTimer(int64_t fire_at_ms, int32_t partition, const std::string& worker,
                        domain::Rule rule = domain::Rule::kR3SelfTestMissed, uint32_t kind = 1) {
  return domain::Timer{.fire_at = domain::ProcessingTime{fire_at_ms},
                       .partition = partition,
                       .worker = domain::WorkerId{worker},
                       .rule = rule,
                       .kind = domain::TimerKindFromCode(kind)};
}

TEST(LayoutTest, TimerKeyBytes) {
  EXPECT_EQ(layout::TimerKeyBytes(MakeTimer(258, 3, "W", domain::Rule::kR3SelfTestMissed, 0x01020304)),
            Bytes({0, 0, 0, 3, 0x80, 0, 0, 0, 0, 0, 1, 2, 3, 1, 2, 3, 4, 'W'}));
  EXPECT_EQ(layout::FireTimeBytes(domain::ProcessingTime{0}), Bytes({0x80, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(layout::FireTimeBytes(domain::ProcessingTime{-1}), Bytes({0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
  EXPECT_EQ(layout::FireTimeBytes(domain::ProcessingTime{INT64_MIN}), Bytes({0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(layout::FireTimeBytes(domain::ProcessingTime{INT64_MAX}),
            Bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
}

TEST(LayoutTest, TimerKeysSortByPartitionThenFireTimeAcrossZeroThenRuleKindWorker) {
  // Each key sorts strictly before the next.
  const domain::Timer ordered[] = {
      MakeTimer(INT64_MIN, 0, "\xFF"),
      MakeTimer(-256, 0, "W"),
      MakeTimer(-1, 0, "W"),
      MakeTimer(0, 0, "W"),
      MakeTimer(1, 0, "A"),
      MakeTimer(255, 0, "A"),
      MakeTimer(256, 0, "A"),
      MakeTimer(INT64_MAX, 0, "A"),
      MakeTimer(INT64_MIN, 1, "A"),
      MakeTimer(0, 1, "A"),
      MakeTimer(0, 256, "A", domain::Rule::kR1CriticalBp, 9),
      MakeTimer(0, 256, "A", domain::Rule::kR3SelfTestMissed, 1),
      MakeTimer(0, 256, "A", domain::Rule::kR3SelfTestMissed, 256),
      MakeTimer(0, 256, "B", domain::Rule::kR3SelfTestMissed, 256),
      MakeTimer(0, 256, "BA", domain::Rule::kR3SelfTestMissed, 256),
      MakeTimer(INT64_MIN, INT32_MAX, "A"),
  };
  for (size_t i = 1; i < std::size(ordered); ++i) {
    EXPECT_LT(layout::TimerKeyBytes(ordered[i - 1]), layout::TimerKeyBytes(ordered[i])) << i;
  }
  // A partition's due range at `now` holds every key of it firing at or before now, and nothing of
  // the partition firing later, nor of any other partition.
  EXPECT_LE(layout::PartitionPrefix(7), layout::TimerKeyBytes(MakeTimer(INT64_MIN, 7, std::string(1, '\0'))));
  EXPECT_LT(layout::TimerKeyBytes(MakeTimer(42, 7, std::string(40, '\xFF'))), layout::DueTimersEnd(7, {42}));
  EXPECT_LE(layout::DueTimersEnd(7, {42}), layout::TimerKeyBytes(MakeTimer(43, 7, std::string(1, '\0'))));
  EXPECT_LT(layout::TimerKeyBytes(MakeTimer(INT64_MAX, 7, std::string(40, '\xFF'))),
            layout::DueTimersEnd(7, {INT64_MAX}));
  EXPECT_LE(layout::DueTimersEnd(7, {INT64_MAX}), layout::TimerKeyBytes(MakeTimer(INT64_MIN, 8, "A")));
  EXPECT_LT(layout::TimerKeyBytes(MakeTimer(INT64_MIN, 6, "A")), layout::PartitionPrefix(7) + std::string(1, '\0'));
}

TEST(LayoutTest, ParseTimerRoundTripsAndRefusesGarbage) {
  const domain::Timer timers[] = {
      MakeTimer(-5, 0, std::string("W\0x", 3)),
      MakeTimer(1'717'000'000'000, INT32_MAX, "李", domain::Rule::kR6FocusTracking, UINT32_MAX)};
  for (const domain::Timer& timer : timers) {
    absl::StatusOr<domain::Timer> parsed = layout::ParseTimer("s", layout::TimerKeyBytes(timer), "");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, timer);
  }

  const std::string good = layout::TimerKeyBytes(MakeTimer(7, 1, "W"));
  std::string negative_partition = good;
  negative_partition[0] = '\x80';
  std::string unknown_rule = good;
  unknown_rule[12] = 7;
  struct Case {
    std::string key;
    std::string value;
    std::string message;
  };
  const Case cases[] = {
      {"", "", "not a 4-byte partition, 8-byte fire time"},
      {good.substr(0, 17), "", "not a 4-byte partition, 8-byte fire time"},  // no worker id
      {negative_partition, "", "negative partition"},
      {unknown_rule, "", "rule 7 is not one of its enumerators"},
      {good, "x", "value has 1 bytes, not 0"},
  };
  for (const Case& c : cases) {
    const absl::Status status = layout::ParseTimer("s", c.key, c.value).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << c.message;
    EXPECT_EQ(status.message().find("state store s: column family timers: corrupt record for key \""), 0U) << status;
    EXPECT_NE(status.message().find(c.message), std::string::npos) << status;
  }
}

TEST(LayoutTest, TimersApplyAfterTheOutboxPutsBeforeDeletes) {
  CommitBatch batch;
  batch.timers_delete = {MakeTimer(1, 0, "W")};
  batch.timers_put = {MakeTimer(1, 0, "W"), MakeTimer(2, 0, "W")};
  batch.outbox_delete = {{.partition = 0, .epoch = 0, .seq = 3}};
  absl::StatusOr<layout::EncodedCommit> commit = layout::EncodeCommit("s", batch, 5);
  ASSERT_TRUE(commit.ok()) << commit.status();
  ASSERT_EQ(commit->writes.size(), 4U);
  EXPECT_EQ(commit->writes[0].family, layout::Family::kOutbox);
  EXPECT_EQ(commit->writes[1].family, layout::Family::kTimers);
  EXPECT_EQ(commit->writes[1].value, std::string());
  EXPECT_EQ(commit->writes[3].family, layout::Family::kTimers);
  EXPECT_EQ(commit->writes[3].key, layout::TimerKeyBytes(MakeTimer(1, 0, "W")));
  EXPECT_FALSE(commit->writes[3].value.has_value());
}

TEST(WorkerRecordTest, RoundTrip) {
  absl::StatusOr<std::string> bytes = EncodeWorkerState(FullState());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<domain::WorkerState> state = DecodeWorkerState(*bytes);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(*state, FullState());
}

TEST(WorkerRecordTest, UnknownEnumValuesAreRefusedNotGuessed) {
  struct Case {
    std::string name;
    std::function<void(v1::WorkerStateRecord&)> spoil;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"rule", [](v1::WorkerStateRecord& r) { r.mutable_open(0)->set_rule(static_cast<healthgrid::v1::Rule>(9)); },
       "open[0].rule has unknown value 9"},
      {"severity",
       [](v1::WorkerStateRecord& r) { r.mutable_open(2)->set_severity(healthgrid::v1::SEVERITY_UNSPECIFIED); },
       "open[2].severity has unknown value 0"},
      {"level",
       [](v1::WorkerStateRecord& r) { r.mutable_open(1)->set_level(static_cast<healthgrid::v1::EscalationLevel>(4)); },
       "open[1].level has unknown value 4"},
      {"category",
       [](v1::WorkerStateRecord& r) { r.mutable_bp_window()->set_category(1, healthgrid::v1::BP_CATEGORY_UNSPECIFIED); },
       "bp_window[1].category has unknown value 0"},
      {"evidence context",
       [](v1::WorkerStateRecord& r) {
         r.mutable_open(0)->mutable_evidence(1)->set_context(static_cast<healthgrid::v1::MeasurementContext>(12));
       },
       "open[0].evidence[1].context has unknown value 12"},
      {"post",
       [](v1::WorkerStateRecord& r) {
         r.mutable_profile()->add_high_risk_posts(healthgrid::v1::HIGH_RISK_POST_UNSPECIFIED);
       },
       "profile.high_risk_posts[5] has unknown value 0"},
      {"referral rule",
       [](v1::WorkerStateRecord& r) { r.mutable_referrals_sent(1)->set_rule(healthgrid::v1::RULE_UNSPECIFIED); },
       "referrals_sent[1].rule has unknown value 0"},
      {"referral urgency",
       [](v1::WorkerStateRecord& r) {
         r.mutable_referrals_sent(0)->set_urgency(static_cast<healthgrid::v1::ReferralUrgency>(5));
       },
       "referrals_sent[0].urgency has unknown value 5"},
      {"history state",
       [](v1::WorkerStateRecord& r) {
         r.mutable_open(2)->mutable_history(1)->set_state(static_cast<healthgrid::v1::EscalationState>(7));
       },
       "open[2].history[1].state has unknown value 7"},
      {"history level",
       [](v1::WorkerStateRecord& r) { r.mutable_open(0)->mutable_history(0)->set_level(healthgrid::v1::ESCALATION_LEVEL_UNSPECIFIED); },
       "open[0].history[0].level has unknown value 0"},
      {"history recipient role",
       [](v1::WorkerStateRecord& r) {
         r.mutable_open(0)->mutable_history(1)->mutable_recipients(2)->set_role(
             healthgrid::v1::RECIPIENT_ROLE_UNSPECIFIED);
       },
       "open[0].history[1].recipients[2].role has unknown value 0"},
      {"history repeats before its first step",
       [](v1::WorkerStateRecord& r) {
         r.mutable_open(1)->mutable_history(0)->clear_recipients();
         r.mutable_open(1)->mutable_history(0)->set_same_recipients(true);
       },
       "open[1].history[0] repeats the recipients of a step before the first"},
      {"history repeats and lists recipients",
       [](v1::WorkerStateRecord& r) { r.mutable_open(0)->mutable_history(2)->add_recipients()->set_id("X"); },
       "open[0].history[2] both repeats the previous step's recipients and lists its own"},
  };
  absl::StatusOr<std::string> bytes = EncodeWorkerState(FullState());
  ASSERT_TRUE(bytes.ok());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::WorkerStateRecord record;
    ASSERT_TRUE(record.ParseFromString(*bytes));
    c.spoil(record);
    const absl::Status status = DecodeWorkerState(record.SerializeAsString()).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), c.message);
  }
}

// Records written before a field existed lack it, and read as its empty value with everything else as
// it was (no migration): no referral sent yet (the referral cool-down), no step remembered (episode
// histories).
TEST(WorkerRecordTest, ARecordFromBeforeAFieldReadsAsItsEmptyValue) {
  struct Case {
    std::string name;
    std::function<void(v1::WorkerStateRecord&)> strip;
    std::function<void(domain::WorkerState&)> expect;
  };
  const std::vector<Case> cases = {
      {"referrals_sent", [](v1::WorkerStateRecord& r) { r.clear_referrals_sent(); },
       [](domain::WorkerState& s) { s.referrals_sent.clear(); }},
      {"history",
       [](v1::WorkerStateRecord& r) {
         for (v1::OpenEpisodeRecord& e : *r.mutable_open()) e.clear_history();
       },
       [](domain::WorkerState& s) {
         for (domain::OpenEpisode& e : s.open) e.history.clear();
       }},
  };
  absl::StatusOr<std::string> bytes = EncodeWorkerState(FullState());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::WorkerStateRecord record;
    ASSERT_TRUE(record.ParseFromString(*bytes));
    c.strip(record);
    ASSERT_NE(record.SerializeAsString(), *bytes) << "the full state has something to strip";
    absl::StatusOr<domain::WorkerState> state = DecodeWorkerState(record.SerializeAsString());
    ASSERT_TRUE(state.ok()) << state.status();
    domain::WorkerState expected = FullState();
    c.expect(expected);
    EXPECT_EQ(*state, expected);
  }
}

// A step telling the same people as the one before stores none of its own; the decoder copies them.
TEST(WorkerRecordTest, AStepTellingTheSamePeopleStoresThemOnce) {
  absl::StatusOr<std::string> bytes = EncodeWorkerHead(FullState());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  v1::WorkerStateRecord record;
  ASSERT_TRUE(record.ParseFromString(*bytes));
  const v1::OpenEpisodeRecord& r1 = record.open(0);
  ASSERT_EQ(r1.history_size(), 3);
  EXPECT_FALSE(r1.history(0).same_recipients());
  EXPECT_EQ(r1.history(1).recipients_size(), 3);
  EXPECT_FALSE(r1.history(1).same_recipients());
  EXPECT_TRUE(r1.history(2).same_recipients());
  EXPECT_EQ(r1.history(2).recipients_size(), 0);
  // Nobody told is not "the same as before".
  const v1::OpenEpisodeRecord& r4 = record.open(3);
  ASSERT_EQ(r4.history_size(), 2);
  EXPECT_FALSE(r4.history(1).same_recipients());
  EXPECT_EQ(r4.history(1).recipients_size(), 0);
  absl::StatusOr<WorkerHead> head = DecodeWorkerHead(*bytes);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->state.open, FullState().open);
}

// The head goes to the changelog on every commit that touches the worker: a full history (the OPEN
// step, a climb and 11 re-notifications to three people) must stay a few hundred bytes: about 20
// bytes a step once the people are stored.
TEST(WorkerRecordTest, AFullHistoryStaysSmall) {
  domain::WorkerState state;
  domain::OpenEpisode& e = state.open.emplace_back();
  e.episode_id = "W000042-R1-17";
  const std::vector<domain::Recipient> told = {
      {.id = "HM-0031", .name = "王芳芳", .role = domain::RecipientRole::kHealthManager},
      {.id = "SUP-0012", .name = "陈军", .role = domain::RecipientRole::kUnitSupervisor},
      {.id = "DR-0009", .name = "刘医生", .role = domain::RecipientRole::kExtra}};
  e.history.push_back({1, domain::EscalationState::kOpen, domain::EscalationLevel::kHealthManager,
                       domain::Severity::kUrgent, domain::ProcessingTime{1'717'000'000'000}, {told[0], told[2]}});
  for (uint32_t seq = 2; seq <= 1 + domain::Policy{}.max_history; ++seq) {
    e.history.push_back({seq, seq == 2 ? domain::EscalationState::kEscalated : domain::EscalationState::kRenotified,
                         domain::EscalationLevel::kUnitSupervisor, domain::Severity::kUrgent,
                         domain::ProcessingTime{1'717'000'000'000 + seq * 86'400'000LL}, told});
  }
  absl::StatusOr<std::string> with = EncodeWorkerHead(state);
  state.open[0].history.clear();
  absl::StatusOr<std::string> without = EncodeWorkerHead(state);
  ASSERT_TRUE(with.ok() && without.ok());
  EXPECT_LE(with->size() - without->size(), 400u) << with->size() << " bytes with, " << without->size() << " without";
}

TEST(WorkerRecordTest, GarbageIsRefused) {
  const absl::Status status = DecodeWorkerState("\xFF\xFF\xFF").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "not a WorkerStateRecord (3 bytes)");
}

}  // namespace
}  // namespace alertd::state
