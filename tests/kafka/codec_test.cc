// Topic codecs: every bad record becomes a rejection with its reason, good ones decode to domain values.
#include "engine/kafka/codec.h"

#include <gtest/gtest.h>

#include <string>

#include "health.pb.h"

namespace alertd::kafka {
namespace {

using domain::RejectReason;

// Keeps the serialized bytes alive for the RawRecord that points at them.
struct Record {
  std::string topic;
  std::string key;
  std::string value;
  bool tombstone = false;
  RawRecord raw() const {
    RawRecord r;
    r.topic = topic;
    r.partition = 3;
    r.offset = 42;
    r.key = key;
    if (!tombstone) {
      r.value = value.data();
      r.value_len = value.size();
    }
    return r;
  }
};

template <typename Message>
Record Of(const std::string& topic, const std::string& key, const Message& m) {
  return {topic, key, m.SerializeAsString()};
}

template <typename T>
RejectReason ReasonOf(const std::variant<T, domain::Rejection>& v) {
  EXPECT_TRUE(std::holds_alternative<domain::Rejection>(v)) << "expected a rejection";
  return std::holds_alternative<domain::Rejection>(v) ? std::get<domain::Rejection>(v).reason : RejectReason{};
}

healthgrid::v1::EscalationAck Ack() {
  healthgrid::v1::EscalationAck a;
  a.set_worker_id("W1");
  a.set_episode_id("ep-1");
  a.set_rule(healthgrid::v1::R3_SELF_TEST_MISSED);
  a.set_action(healthgrid::v1::ACKNOWLEDGE);
  a.set_at_ms(1'700'000'000'000);
  return a;
}

TEST(AckCodec, RejectsEachMalformedAckWithItsReason) {
  struct Case {
    const char* name;
    void (*mutate)(healthgrid::v1::EscalationAck&);
    std::string key;
    RejectReason reason;
  };
  const Case cases[] = {
      {"no action", [](auto& a) { a.set_action(healthgrid::v1::ACK_ACTION_UNSPECIFIED); }, "W1",
       RejectReason::kImpossibleValue},
      {"no worker", [](auto& a) { a.clear_worker_id(); }, "", RejectReason::kMissingWorkerId},
      {"key mismatch", [](auto&) {}, "W2", RejectReason::kKeyMismatch},
      {"snooze without until", [](auto& a) { a.set_action(healthgrid::v1::SNOOZE); }, "W1",
       RejectReason::kImpossibleValue},
      {"no episode and no rule",
       [](auto& a) {
         a.clear_episode_id();
         a.set_rule(healthgrid::v1::RULE_UNSPECIFIED);
       },
       "W1", RejectReason::kImpossibleValue},
      {"no episode and an unknown rule",
       [](auto& a) {
         a.clear_episode_id();
         a.set_rule(static_cast<healthgrid::v1::Rule>(77));
       },
       "W1", RejectReason::kImpossibleValue},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto msg = Ack();
    c.mutate(msg);
    Record rec = Of("escalation-acks", c.key, msg);
    EXPECT_EQ(ReasonOf(DecodeAck(rec.raw(), domain::ProcessingTime{1})), c.reason);
  }
  Record garbage{"escalation-acks", "W1", "\xff\xff\xff not protobuf"};
  EXPECT_EQ(ReasonOf(DecodeAck(garbage.raw(), domain::ProcessingTime{1})), RejectReason::kUndecodable);
}

TEST(AckCodec, AnAckWithoutEpisodeIdNamesTheRuleItActsOn) {
  auto msg = Ack();
  msg.clear_episode_id();
  Record rec = Of("escalation-acks", "W1", msg);
  auto decoded = DecodeAck(rec.raw(), domain::ProcessingTime{1});
  ASSERT_TRUE(std::holds_alternative<domain::EscalationAck>(decoded));
  const auto& ack = std::get<domain::EscalationAck>(decoded);
  EXPECT_EQ(ack.episode_id, "");
  EXPECT_EQ(ack.rule, domain::Rule::kR3SelfTestMissed);
  EXPECT_EQ(ack.at.ms, 1'700'000'000'000);
}

TEST(AckCodec, AMissingAckTimeIsTheTimeItWasReceived) {
  auto msg = Ack();
  msg.clear_at_ms();
  Record rec = Of("escalation-acks", "W1", msg);
  auto decoded = DecodeAck(rec.raw(), domain::ProcessingTime{1234});
  ASSERT_TRUE(std::holds_alternative<domain::EscalationAck>(decoded));
  EXPECT_EQ(std::get<domain::EscalationAck>(decoded).at.ms, 1234);
}

TEST(ShiftCodec, RejectsEachMalformedShiftWithItsReason) {
  healthgrid::v1::ShiftEvent good;
  good.set_worker_id("W1");
  good.set_post(healthgrid::v1::DRIVER);
  good.set_clock_in_at_ms(1'700'000'000'000);
  {
    Record rec = Of("shifts", "W1", good);
    EXPECT_TRUE(std::holds_alternative<domain::ShiftEvent>(DecodeShift(rec.raw())));
  }
  auto no_time = good;
  no_time.clear_clock_in_at_ms();
  auto no_post = good;
  no_post.set_post(healthgrid::v1::HIGH_RISK_POST_UNSPECIFIED);
  auto no_worker = good;
  no_worker.clear_worker_id();
  EXPECT_EQ(ReasonOf(DecodeShift(Of("shifts", "W1", no_time).raw())), RejectReason::kMissingTimestamp);
  EXPECT_EQ(ReasonOf(DecodeShift(Of("shifts", "W1", no_post).raw())), RejectReason::kImpossibleValue);
  EXPECT_EQ(ReasonOf(DecodeShift(Of("shifts", "", no_worker).raw())), RejectReason::kMissingWorkerId);
  EXPECT_EQ(ReasonOf(DecodeShift(Of("shifts", "W9", good).raw())), RejectReason::kKeyMismatch);
}

TEST(ReadingCodec, RejectsUndecodableAndAnonymousReadings) {
  healthgrid::v1::Reading r;
  r.set_measured_at_ms(1'700'000'000'000);
  r.mutable_blood_pressure()->set_systolic_mmhg(120);
  r.mutable_blood_pressure()->set_diastolic_mmhg(80);
  EXPECT_EQ(ReasonOf(DecodeReading(Of("readings", "", r).raw())), RejectReason::kMissingWorkerId);
  r.set_worker_id("W1");
  EXPECT_EQ(ReasonOf(DecodeReading(Of("readings", "W2", r).raw())), RejectReason::kKeyMismatch);
  EXPECT_TRUE(std::holds_alternative<domain::Reading>(DecodeReading(Of("readings", "W1", r).raw())));
  Record empty{"readings", "W1", ""};
  EXPECT_EQ(ReasonOf(DecodeReading(empty.raw())), RejectReason::kUndecodable);
}

// Found by tests/fuzz/fuzz_reading: the mismatch message quoted a binary key raw, and a proto3 string
// holding invalid UTF-8 serializes but no consumer can parse the dead letter back.
TEST(ReadingCodec, ADeadLetterForABinaryKeyStaysReadable) {
  healthgrid::v1::Reading r;
  r.set_worker_id("W1");
  r.set_measured_at_ms(1'700'000'000'000);
  r.mutable_blood_pressure()->set_systolic_mmhg(120);
  r.mutable_blood_pressure()->set_diastolic_mmhg(80);
  const Record rec = Of("readings", std::string("W\xff\x01\\", 4), r);
  const auto decoded = DecodeReading(rec.raw());
  ASSERT_EQ(ReasonOf(decoded), RejectReason::kKeyMismatch);
  const domain::Rejection& why = std::get<domain::Rejection>(decoded);
  EXPECT_NE(why.message.find(R"(key 'W\xff\x01\x5c' differs from worker_id 'W1')"), std::string::npos) << why.message;
  healthgrid::v1::DeadLetter back;
  ASSERT_TRUE(back.ParseFromString(EncodeDeadLetter(rec.raw(), why, domain::ProcessingTime{1})));
  EXPECT_EQ(back.key(), rec.key);
  EXPECT_EQ(back.message(), why.message);
}

TEST(ProfileCodec, ATombstoneRemovesTheWorkerAndAKeyIsRequired) {
  Record tomb{"worker-profiles", "W1", "", true};
  auto decoded = DecodeProfile(tomb.raw());
  ASSERT_TRUE(std::holds_alternative<std::optional<domain::WorkerProfile>>(decoded));
  EXPECT_FALSE(std::get<std::optional<domain::WorkerProfile>>(decoded).has_value());
  Record keyless{"worker-profiles", "", "", true};
  EXPECT_EQ(ReasonOf(DecodeProfile(keyless.raw())), RejectReason::kMissingWorkerId);
}

// --- Bounds: nothing larger than alertd accepts reaches the rules, and any record can be dead-lettered.

healthgrid::v1::Reading GoodReading() {
  healthgrid::v1::Reading r;
  r.set_worker_id("W1");
  r.set_device_id("omron-17");
  r.set_station_id("U07-G12-S1");
  r.set_measured_at_ms(1'700'000'000'000);
  r.mutable_blood_pressure()->set_systolic_mmhg(120);
  r.mutable_blood_pressure()->set_diastolic_mmhg(80);
  return r;
}

std::string MessageOf(const std::variant<domain::Reading, domain::Rejection>& v) {
  return std::holds_alternative<domain::Rejection>(v) ? std::get<domain::Rejection>(v).message : "";
}

TEST(InputBounds, AReadingIsRejectedAtEveryBoundAndAcceptedJustBelowIt) {
  struct Case {
    const char* name;
    void (*mutate)(healthgrid::v1::Reading&);
    bool accepted;
    const char* message;
  };
  const Case cases[] = {
      {"device_id at the bound", [](auto& r) { r.set_device_id(std::string(kMaxIdBytes, 'd')); }, true, ""},
      {"device_id one byte over", [](auto& r) { r.set_device_id(std::string(kMaxIdBytes + 1, 'd')); }, false,
       "device_id has 129 bytes, at most 128 accepted"},
      {"device_id of 400 KB", [](auto& r) { r.set_device_id(std::string(400 << 10, 'd')); }, false,
       "the record has 409"},
      {"station_id over", [](auto& r) { r.set_station_id(std::string(kMaxIdBytes + 1, 's')); }, false, "station_id"},
      {"reading_id over", [](auto& r) { r.set_reading_id(std::string(kMaxIdBytes + 1, 'r')); }, false, "reading_id"},
      {"unknown context", [](auto& r) { r.set_context(static_cast<healthgrid::v1::MeasurementContext>(99)); }, false,
       "context 99 is not a known measurement context"},
      {"unset context is a self-test", [](auto& r) { r.clear_context(); }, true, ""},
      {"unknown glucose timing",
       [](auto& r) {
         r.mutable_glucose()->set_mmol_per_l(5.0);
         r.mutable_glucose()->set_timing(static_cast<healthgrid::v1::GlucoseTiming>(42));
       },
       false, "glucose timing 42"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto msg = GoodReading();
    c.mutate(msg);
    Record rec = Of("readings", "W1", msg);
    auto decoded = DecodeReading(rec.raw());
    EXPECT_EQ(std::holds_alternative<domain::Reading>(decoded), c.accepted) << MessageOf(decoded);
    if (!c.accepted) {
      EXPECT_NE(MessageOf(decoded).find(c.message), std::string::npos) << MessageOf(decoded);
    }
  }
  auto unknown_context = GoodReading();
  unknown_context.set_context(static_cast<healthgrid::v1::MeasurementContext>(99));
  EXPECT_EQ(ReasonOf(DecodeReading(Of("readings", "W1", unknown_context).raw())), RejectReason::kUnknownValue);
  auto huge = GoodReading();
  huge.set_device_id(std::string(kMaxIdBytes + 1, 'd'));
  EXPECT_EQ(ReasonOf(DecodeReading(Of("readings", "W1", huge).raw())), RejectReason::kTooLarge);
  Record long_key{"readings", std::string(kMaxKeyBytes + 1, 'k'), GoodReading().SerializeAsString()};
  EXPECT_EQ(ReasonOf(DecodeReading(long_key.raw())), RejectReason::kTooLarge);
  Record garbage{"readings", "W1", std::string(kMaxRecordBytes + 1, '\x07')};
  EXPECT_EQ(ReasonOf(DecodeReading(garbage.raw())), RejectReason::kTooLarge);
}

TEST(InputBounds, ProfilesShiftsAndAcksAreBoundedFieldByFieldAtAnyDepth) {
  healthgrid::v1::WorkerProfile p;
  p.set_worker_id("W1");
  p.set_unit_id("U01");
  for (int i = 0; i < kMaxRepeated; ++i) p.mutable_policy()->add_extra_recipients()->set_name("R" + std::to_string(i));
  auto decoded = DecodeProfile(Of("worker-profiles", "W1", p).raw());
  EXPECT_TRUE(std::holds_alternative<std::optional<domain::WorkerProfile>>(decoded));
  p.mutable_policy()->add_extra_recipients()->set_name("one too many");
  decoded = DecodeProfile(Of("worker-profiles", "W1", p).raw());
  ASSERT_EQ(ReasonOf(decoded), RejectReason::kTooLarge);
  EXPECT_NE(std::get<domain::Rejection>(decoded).message.find("policy.extra_recipients has 65 entries"),
            std::string::npos)
      << std::get<domain::Rejection>(decoded).message;

  p.mutable_policy()->clear_extra_recipients();
  p.mutable_policy()->add_extra_recipients()->set_name(std::string(kMaxTextBytes + 1, 'n'));
  decoded = DecodeProfile(Of("worker-profiles", "W1", p).raw());
  ASSERT_EQ(ReasonOf(decoded), RejectReason::kTooLarge);
  EXPECT_NE(std::get<domain::Rejection>(decoded).message.find("policy.extra_recipients[0].name has 1025 bytes"),
            std::string::npos);
  p.mutable_policy()->clear_extra_recipients();
  p.set_unit_id(std::string(kMaxIdBytes + 1, 'u'));
  EXPECT_EQ(ReasonOf(DecodeProfile(Of("worker-profiles", "W1", p).raw())), RejectReason::kTooLarge);

  healthgrid::v1::ShiftEvent shift;
  shift.set_worker_id("W1");
  shift.set_post(healthgrid::v1::DRIVER);
  shift.set_clock_in_at_ms(1'700'000'000'000);
  shift.set_site(std::string(kMaxTextBytes + 1, 's'));
  EXPECT_EQ(ReasonOf(DecodeShift(Of("shifts", "W1", shift).raw())), RejectReason::kTooLarge);

  auto ack = Ack();
  ack.set_episode_id(std::string(kMaxIdBytes + 1, 'e'));
  EXPECT_EQ(ReasonOf(DecodeAck(Of("escalation-acks", "W1", ack).raw(), domain::ProcessingTime{1})),
            RejectReason::kTooLarge);
}

TEST(DeadLetterCodec, KeepsABoundedPrefixOfAnyRecordAndSaysHowLargeItWas) {
  const std::string value(1 << 20, '\xAB');
  const std::string key(1000, 'k');
  Record rec{"readings", key, value};
  healthgrid::v1::DeadLetter dl;
  ASSERT_TRUE(dl.ParseFromString(
      EncodeDeadLetter(rec.raw(), {RejectReason::kTooLarge, "too large"}, domain::ProcessingTime{5})));
  EXPECT_EQ(dl.original_value(), value.substr(0, kDeadLetterValueBytes));
  EXPECT_EQ(dl.key(), key.substr(0, kDeadLetterKeyBytes));
  EXPECT_EQ(dl.original_value_bytes(), value.size());
  EXPECT_TRUE(dl.truncated());
  EXPECT_EQ(dl.reason(), healthgrid::v1::TOO_LARGE);

  Record small{"readings", "W1", "\x01\x02"};
  ASSERT_TRUE(dl.ParseFromString(EncodeDeadLetter(small.raw(), {RejectReason::kUndecodable, "x"}, {5})));
  EXPECT_EQ(dl.original_value(), "\x01\x02");
  EXPECT_EQ(dl.original_value_bytes(), 2u);
  EXPECT_FALSE(dl.truncated());
}

TEST(ReferralCodec, EncodesEveryFieldAClinicReads) {
  domain::Referral r;
  r.referral_id = "ref-1";
  r.episode_id = "ep-1";
  r.worker.value = "W1";
  r.worker_name = "Li Wei";
  r.unit_id = "U01";
  r.grid_id = "U01-G02";
  r.rule = domain::Rule::kR5Glucose;
  r.urgency = domain::ReferralUrgency::kRoutine;
  r.reason = "High glucose twice in 30 days";
  domain::GlucoseSample g;
  g.measured_at.ms = 1'700'000'000'000;
  g.mmol_per_l = 12.3;
  g.timing = domain::GlucoseTiming::kRandom;
  r.glucose_evidence.push_back(g);
  r.health_manager = {"HM1", "Wang Fang"};
  r.diabetes = true;
  r.trigger_at.ms = 1'700'000'000'000;
  r.emitted_at.ms = 1'700'000'100'000;

  healthgrid::v1::Referral out;
  ASSERT_TRUE(out.ParseFromString(EncodeReferral(r)));
  EXPECT_EQ(out.referral_id(), "ref-1");
  EXPECT_EQ(out.episode_id(), "ep-1");
  EXPECT_EQ(out.worker_id(), "W1");
  EXPECT_EQ(out.worker_name(), "Li Wei");
  EXPECT_EQ(out.rule(), healthgrid::v1::R5_GLUCOSE);
  EXPECT_EQ(out.urgency(), healthgrid::v1::REFERRAL_ROUTINE);
  ASSERT_EQ(out.glucose_evidence_size(), 1);
  EXPECT_DOUBLE_EQ(out.glucose_evidence(0).mmol_per_l(), 12.3);
  EXPECT_EQ(out.glucose_evidence(0).timing(), healthgrid::v1::RANDOM);
  EXPECT_EQ(out.health_manager().name(), "Wang Fang");
  EXPECT_TRUE(out.conditions().diabetes());
  EXPECT_EQ(out.trigger_at_ms(), 1'700'000'000'000);
  EXPECT_EQ(out.emitted_at_ms(), 1'700'000'100'000);
}

}  // namespace
}  // namespace alertd::kafka
