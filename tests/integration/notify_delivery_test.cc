// alertd-notify through real processes: receivers that fail, time out and answer garbage, duplicate
// events, a restart, and kill -9 in the middle of sends; every outcome read back from `deliveries`.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "engine/notify/delivery.h"
#include "tests/integration/harness.h"
#include "tests/notify/escalation_samples.h"

namespace alertd::testing {
namespace {

namespace pb = healthgrid::v1;
using namespace std::chrono_literals;

// Escalation `i` of worker W<i % 3>: a HIGH event for the grid's health manager (never held).
pb::Escalation Event(int i) {
  pb::Escalation e = notify::testing::SampleEscalation(pb::R2_SUSTAINED_HYPERTENSION);
  e.set_event_id("ev-" + std::to_string(i));
  e.set_episode_id("ep-" + std::to_string(i));
  e.set_worker_id("W00" + std::to_string(i % 3));
  return e;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// The final outcome of each delivery key on `deliveries`, and how many final records each key has.
struct Outcomes {
  std::map<std::string, pb::Delivery> last;
  std::map<std::string, int> finals;
  int held = 0;
};

Outcomes ReadOutcomes(const std::string& bootstrap) {
  Outcomes out;
  for (const ConsumedRecord& r : ReadToEnd(bootstrap, "deliveries")) {
    pb::Delivery d;
    EXPECT_TRUE(d.ParseFromString(r.value));
    if (d.status() == pb::DELIVERY_HELD) {
      ++out.held;
      continue;
    }
    ++out.finals[d.delivery_key()];
    out.last[d.delivery_key()] = d;
  }
  return out;
}

// Deliveries a receiver accepted (answered 2xx with `accepted_body`), by key.
std::map<std::string, int> Accepted(const NotifyReceiver& receiver, const std::string& accepted_body) {
  std::map<std::string, int> out;
  for (const ReceivedMessage& m : receiver.Received()) {
    if (m.status >= 200 && m.status < 300 && m.answer == accepted_body) ++out[m.idempotency_key];
  }
  return out;
}

class NotifyDeliveryTest : public ::testing::Test {
 protected:
  std::string Config(const std::string& channels, const std::string& route) {
    const std::string path = dir_.path() + "/notify.yaml";
    WriteFile(path,
              "channels:\n" + channels + "recipients:\n  - role: health_manager\n    channels: [" + route + "]\n");
    return path;
  }
  std::unique_ptr<NotifyProcess> StartNotify(const std::string& config, std::vector<std::string> flags,
                                             const std::string& log = "notify.log") {
    return std::make_unique<NotifyProcess>(ALERTD_NOTIFY_BIN, kafka_.bootstrap(), config, ALERTD_NOTIFY_TEMPLATES,
                                           dir_.path() + "/" + log, std::move(flags));
  }

  TempDir dir_;
  EmbeddedKafka kafka_{dir_.path(), 4};
};

TEST_F(NotifyDeliveryTest, ReceiversThatFailTimeOutOrAnswerGarbageGetEachMessageOnceAndDuplicatesAreNotSent) {
  // A webhook that answers 500 twice per message, a WeChat Work robot that hangs past the send
  // timeout once, a Feishu bot that answers 200 with a page that is not JSON once.
  const std::string kWebhookOk = "{}", kWeComOk = R"({"errcode":0,"errmsg":"ok"})", kFeishuOk = R"({"code":0})";
  NotifyReceiver flaky([&](int seen, const ReceivedMessage&) {
    return seen < 2 ? ReceiverAnswer{500, "oops"} : ReceiverAnswer{200, kWebhookOk};
  });
  NotifyReceiver slow([&](int seen, const ReceivedMessage&) {
    return seen < 1 ? ReceiverAnswer{503, "late", 1500ms} : ReceiverAnswer{200, kWeComOk};
  });
  NotifyReceiver garbage([&](int seen, const ReceivedMessage&) {
    return seen < 1 ? ReceiverAnswer{200, "<html>proxy error</html>"} : ReceiverAnswer{200, kFeishuOk};
  });
  const std::string config = Config("  flaky:\n    kind: webhook\n    url: " + flaky.url("/hook") +
                                        "\n    body: '{\"event\": \"{{event_id}}\", \"title\": \"{{title}}\"}'\n"
                                        "  slow:\n    kind: wecom\n    url: " +
                                        slow.url("/cgi-bin/webhook/send?key=k") +
                                        "\n"
                                        "  garbage:\n    kind: feishu\n    url: " +
                                        garbage.url("/open-apis/bot/v2/hook/h") + "\n",
                                    "flaky, slow, garbage");

  constexpr int kEvents = 6;
  TestProducer producer(kafka_.bootstrap());
  for (int i = 0; i < kEvents; ++i) {
    producer.Send("escalations", Event(i).worker_id(), Event(i).SerializeAsString());
  }
  producer.Send("escalations", Event(2).worker_id(), Event(2).SerializeAsString());  // a duplicate
  producer.Send("escalations", "W001", std::string("\x07not an escalation", 18));    // does not parse
  producer.Flush();

  const std::vector<std::string> flags = {"--retry-base-ms",   "100", "--retry-max-ms",       "400",
                                          "--send-timeout-ms", "700", "--connect-timeout-ms", "500"};
  auto notify = StartNotify(config, flags);
  const std::size_t expected = kEvents * 3;
  ASSERT_TRUE(WaitFor([&] { return ReadOutcomes(kafka_.bootstrap()).last.size() >= expected; }, 60s, 500ms))
      << notify->process().LogTail();

  const Outcomes outcomes = ReadOutcomes(kafka_.bootstrap());
  ASSERT_EQ(outcomes.last.size(), expected);
  const std::map<std::string, uint32_t> attempts = {{"flaky", 3}, {"slow", 2}, {"garbage", 2}};
  for (const auto& [key, d] : outcomes.last) {
    EXPECT_EQ(d.status(), pb::DELIVERY_SENT) << key << ": " << d.error();
    EXPECT_EQ(outcomes.finals.at(key), 1) << key << " has more than one outcome";
    EXPECT_EQ(d.attempts(), attempts.at(d.channel())) << key;
    EXPECT_EQ(d.delivery_key(), notify::DeliveryKey(d.event_id(), d.recipient_id(), d.channel()));
  }
  for (const auto& [r, ok] : {std::pair{&flaky, kWebhookOk}, {&slow, kWeComOk}, {&garbage, kFeishuOk}}) {
    const std::map<std::string, int> accepted = Accepted(*r, ok);
    EXPECT_EQ(accepted.size(), static_cast<std::size_t>(kEvents));
    for (const auto& [key, n] : accepted) EXPECT_EQ(n, 1) << key << " accepted " << n << " times";
  }
  EXPECT_EQ(notify->Metric("alertd_notify_deliveries_total", {{"channel", "flaky"}, {"outcome", "sent"}}), kEvents);
  EXPECT_EQ(notify->Metric("alertd_notify_deliveries_total", {{"outcome", "duplicate"}}), 3)
      << "the duplicate event's three deliveries are recognised, not sent";
  EXPECT_EQ(notify->Metric("alertd_notify_attempts_total", {{"channel", "flaky"}}), 3 * kEvents);

  const std::vector<ConsumedRecord> dead = ReadToEnd(kafka_.bootstrap(), "dead-letters");
  ASSERT_EQ(dead.size(), 1u);
  pb::DeadLetter letter;
  ASSERT_TRUE(letter.ParseFromString(dead[0].value));
  EXPECT_EQ(letter.source_topic(), "escalations");
  EXPECT_EQ(letter.reason(), pb::UNDECODABLE);

  // Restarted, it finds everything committed or recorded: nothing is sent again.
  const std::size_t requests_before = flaky.Received().size() + slow.Received().size() + garbage.Received().size();
  ASSERT_EQ(notify->process().Terminate(), 0) << notify->process().LogTail();
  notify = StartNotify(config, flags, "notify2.log");
  producer.Send("escalations", Event(4).worker_id(), Event(4).SerializeAsString());  // redelivered once more
  producer.Flush();
  ASSERT_TRUE(WaitFor(
      [&] {
        return notify->Metric("alertd_notify_deliveries_total", {{"outcome", "duplicate"}}) >= 3;
      },
      30s, 200ms))
      << notify->process().LogTail();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(flaky.Received().size() + slow.Received().size() + garbage.Received().size(), requests_before);
  EXPECT_EQ(ReadOutcomes(kafka_.bootstrap()).finals.size(), expected);
}

TEST_F(NotifyDeliveryTest, Kill9MidSendLosesNothingAndRepeatsAtMostTheSendsInFlight) {
  NotifyReceiver receiver([](int, const ReceivedMessage&) { return ReceiverAnswer{200, "{}", 300ms}; });
  const std::string config = Config("  desk:\n    kind: webhook\n    url: " + receiver.url("/alerts") +
                                        "\n    body: '{\"event\": \"{{event_id}}\"}'\n",
                                    "desk");
  constexpr int kEvents = 60;
  TestProducer producer(kafka_.bootstrap());
  for (int i = 0; i < kEvents; ++i) producer.Send("escalations", Event(i).worker_id(), Event(i).SerializeAsString());
  producer.Flush();

  const std::vector<std::string> flags = {"--max-in-flight", "4"};
  auto notify = StartNotify(config, flags);
  // Past the first commits (every second), so the kill lands between a commit and the next.
  ASSERT_TRUE(WaitFor([&] { return receiver.Received().size() >= 30; }, 60s, 10ms)) << notify->process().LogTail();
  // Sends in flight at the kill: requests being answered, and those answered so recently that the
  // outcome record may not have reached the broker yet.
  const auto killed_at = std::chrono::steady_clock::now();
  notify->process().Kill9();
  int in_flight = 0;
  for (const ReceivedMessage& m : receiver.Received()) {
    if (m.status == 0 || m.answered > killed_at - 100ms) ++in_flight;
  }
  const std::size_t before_restart = receiver.Received().size();

  notify = StartNotify(config, flags, "notify2.log");
  std::set<std::string> expected;
  for (int i = 0; i < kEvents; ++i) {
    expected.insert(notify::DeliveryKey(Event(i).event_id(), "HM0012", "desk"));
  }
  auto distinct = [&] {
    std::set<std::string> keys;
    for (const ReceivedMessage& m : receiver.Received()) keys.insert(m.idempotency_key);
    return keys;
  };
  ASSERT_TRUE(WaitFor([&] { return distinct() == expected; }, 60s, 100ms)) << notify->process().LogTail();
  ASSERT_TRUE(WaitFor([&] { return ReadOutcomes(kafka_.bootstrap()).last.size() == expected.size(); }, 30s, 200ms));
  const int repeats = static_cast<int>(receiver.Received().size() - expected.size());
  std::cout << "kill -9 after " << before_restart << " requests; sends in flight at the kill: " << in_flight
            << "; repeated after restart: " << repeats << "\n";
  EXPECT_LE(repeats, in_flight);
  EXPECT_EQ(distinct(), expected) << "every delivery key reached the receiver";
}

// "HH:MM" on the grids' clock (+08:00), `shift_minutes` from now.
std::string LocalClockIn(int shift_minutes) {
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t minute_of_day = ((now_s / 60 + 8 * 60 + shift_minutes) % 1440 + 1440) % 1440;
  char text[8];
  std::snprintf(text, sizeof text, "%02d:%02d", static_cast<int>(minute_of_day / 60),
                static_cast<int>(minute_of_day % 60));
  return text;
}

TEST_F(NotifyDeliveryTest, QuietHoursHoldAHighEventOnDeliveriesWhileAnUrgentOneGoesAndARestartKeepsTheHold) {
  NotifyReceiver receiver([](int, const ReceivedMessage&) { return ReceiverAnswer{200, "{}"}; });
  const std::string config = dir_.path() + "/quiet.yaml";
  WriteFile(config, "quiet_hours:\n  from: \"" + LocalClockIn(-60) + "\"\n  until: \"" + LocalClockIn(60) +
                        "\"\nchannels:\n  desk:\n    kind: webhook\n    url: " + receiver.url("/alerts") +
                        "\n    body: '{\"event\": \"{{event_id}}\"}'\n"
                        "recipients:\n  - role: health_manager\n    channels: [desk]\n");
  pb::Escalation high = Event(1);                                                 // R2: HIGH, waits
  pb::Escalation urgent = notify::testing::SampleEscalation(pb::R1_CRITICAL_BP);  // URGENT: never waits
  urgent.set_event_id("ev-urgent");
  TestProducer producer(kafka_.bootstrap());
  producer.Send("escalations", high.worker_id(), high.SerializeAsString());
  producer.Send("escalations", urgent.worker_id(), urgent.SerializeAsString());
  producer.Flush();
  auto notify = StartNotify(config, {});

  const std::string held_key = notify::DeliveryKey(high.event_id(), "HM0012", "desk");
  const std::string urgent_key = notify::DeliveryKey("ev-urgent", "HM0012", "desk");
  ASSERT_TRUE(WaitFor(
      [&] {
        const Outcomes o = ReadOutcomes(kafka_.bootstrap());
        return o.held == 1 && o.last.contains(urgent_key);
      },
      60s, 300ms))
      << notify->process().LogTail();
  pb::Delivery held;
  for (const ConsumedRecord& r : ReadToEnd(kafka_.bootstrap(), "deliveries")) {
    pb::Delivery d;
    if (d.ParseFromString(r.value) && d.status() == pb::DELIVERY_HELD) held = d;
  }
  EXPECT_EQ(held.delivery_key(), held_key);
  EXPECT_GT(held.held_until_ms(), held.at_ms() + 55 * 60 * 1000) << "held until the quiet hours end, ~1 h on";
  EXPECT_EQ(held.event().event_id(), high.event_id()) << "the record carries what to send after a restart";
  ASSERT_EQ(receiver.Received().size(), 1u);
  EXPECT_EQ(receiver.Received()[0].idempotency_key, urgent_key);
  EXPECT_TRUE(WaitFor([&] { return notify->Metric("alertd_notify_held") == 1; }, 10s));

  // The hold outlives the process: restored from `deliveries`, not re-read from `escalations`.
  ASSERT_EQ(notify->process().Terminate(), 0);
  notify = StartNotify(config, {}, "notify2.log");
  EXPECT_TRUE(WaitFor([&] { return notify->Metric("alertd_notify_held") == 1; }, 30s)) << notify->process().LogTail();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(notify->Metric("alertd_notify_deliveries_total", {{"outcome", "duplicate"}}), 0)
      << "the committed offset is past both events";
  EXPECT_EQ(receiver.Received().size(), 1u);
}

TEST_F(NotifyDeliveryTest, TwoInstancesShareThePartitionsAndTheSurvivorTakesOverWithoutRepeats) {
  NotifyReceiver receiver([](int, const ReceivedMessage&) { return ReceiverAnswer{200, "{}"}; });
  const std::string config = Config("  desk:\n    kind: webhook\n    url: " + receiver.url("/alerts") +
                                        "\n    body: '{\"event\": \"{{event_id}}\"}'\n",
                                    "desk");
  auto first = StartNotify(config, {}, "first.log");
  auto second = StartNotify(config, {}, "second.log");
  TestProducer producer(kafka_.bootstrap());
  // Workers spread over the four partitions.
  auto send = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      pb::Escalation e = Event(i);
      e.set_worker_id("W" + std::to_string(i));
      producer.Send("escalations", e.worker_id(), e.SerializeAsString());
    }
    producer.Flush();
  };
  auto distinct = [&] {
    std::set<std::string> keys;
    for (const ReceivedMessage& m : receiver.Received()) keys.insert(m.idempotency_key);
    return keys.size();
  };
  // Both instances own partitions before the first events (each shows /readyz only when it does).
  ASSERT_TRUE(WaitFor(
      [&] {
        auto ready = [](const NotifyProcess& p) {
          httplib::Client c("127.0.0.1", p.http_port());
          auto res = c.Get("/readyz");
          return res && res->status == 200;
        };
        return ready(*first) && ready(*second);
      },
      60s, 200ms))
      << first->process().LogTail() << second->process().LogTail();
  send(0, 20);
  ASSERT_TRUE(WaitFor([&] { return distinct() == 20; }, 60s, 100ms)) << first->process().LogTail();
  EXPECT_GT(first->Metric("alertd_notify_deliveries_total", {{"outcome", "sent"}}), 0) << "both instances deliver";
  EXPECT_GT(second->Metric("alertd_notify_deliveries_total", {{"outcome", "sent"}}), 0) << "both instances deliver";

  // The first stops; its partitions move to the second, which sends only what is new.
  ASSERT_EQ(first->process().Terminate(), 0) << first->process().LogTail();
  send(20, 40);
  ASSERT_TRUE(WaitFor([&] { return distinct() == 40; }, 60s, 100ms)) << second->process().LogTail();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(receiver.Received().size(), 40u) << "nothing was sent twice across the handover";
  EXPECT_EQ(second->Metric("alertd_notify_consumer_lag"), 0) << "the survivor owns every partition, caught up";
  EXPECT_EQ(ReadOutcomes(kafka_.bootstrap()).finals.size(), 40u);
}

}  // namespace
}  // namespace alertd::testing
