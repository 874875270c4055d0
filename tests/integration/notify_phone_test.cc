// The demo's path: alertd-notify with deploy/notify/demo.yaml delivers to alertd-phone, which
// prints each message as a phone shows it (the demo's receiver, run as its own process).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/integration/harness.h"
#include "tests/notify/escalation_samples.h"

namespace alertd::testing {
namespace {

namespace pb = healthgrid::v1;
using namespace std::chrono_literals;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(NotifyPhoneTest, TheDemoConfigDeliversEveryRoleToThePhoneWhichPrintsEachMessage) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 2);
  const std::string port_file = dir.path() + "/phone.port";
  Process phone({ALERTD_PHONE_BIN, "--listen", "127.0.0.1:0", "--port-file", port_file}, dir.path() + "/phone.log");
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(port_file); }, 10s)) << phone.LogTail();
  std::string port = ReadAll(port_file);
  port.erase(port.find_last_not_of("\n") + 1);

  // The demo's config as shipped, pointed at this phone's port.
  std::string config = ReadAll(ALERTD_NOTIFY_DEMO_CONFIG);
  for (std::size_t at; (at = config.find("127.0.0.1:9099")) != std::string::npos;) {
    config.replace(at, 14, "127.0.0.1:" + port);
  }
  std::ofstream(dir.path() + "/demo.yaml") << config;
  NotifyProcess notify(ALERTD_NOTIFY_BIN, kafka.bootstrap(), dir.path() + "/demo.yaml", ALERTD_NOTIFY_TEMPLATES,
                       dir.path() + "/notify.log", {"--page-base-url", "http://127.0.0.1:8080"});

  pb::Escalation event = notify::testing::SampleEscalation(pb::R1_CRITICAL_BP);
  *event.add_recipients() = notify::testing::Person("US0003", "王磊", pb::ROLE_UNIT_SUPERVISOR);
  *event.add_recipients() = notify::testing::Person("EX0001", "李娜", pb::ROLE_EXTRA);
  pb::Escalation nobody = notify::testing::SampleEscalation(pb::R2_SUSTAINED_HYPERTENSION);
  nobody.set_event_id("ev-desk");
  nobody.clear_recipients();
  TestProducer producer(kafka.bootstrap());
  producer.Send("escalations", event.worker_id(), event.SerializeAsString());
  producer.Send("escalations", nobody.worker_id(), nobody.SerializeAsString());
  producer.Flush();

  const std::vector<std::string> apps = {"📱 企业微信", "📱 钉钉", "📱 飞书", "📱 Webhook"};
  auto printed = [&] {
    const std::string log = ReadAll(phone.log_path());
    return std::all_of(apps.begin(), apps.end(),
                       [&](const std::string& a) { return log.find(a) != std::string::npos; });
  };
  ASSERT_TRUE(WaitFor(printed, 60s, 200ms)) << ReadAll(phone.log_path()) << notify.process().LogTail();
  const std::string log = ReadAll(phone.log_path());
  EXPECT_NE(log.find("杨建国"), std::string::npos) << "the worker's name is in the message (not in any log or label)";
  EXPECT_NE(log.find("168/104"), std::string::npos);
  EXPECT_NE(log.find("🔗 查看职工详情: http://127.0.0.1:8080/worker/W000155"), std::string::npos) << log;
  EXPECT_TRUE(WaitFor(
      [&] {
        return notify.Metric("alertd_notify_deliveries_total", {{"outcome", "sent"}}) == 4;
      },
      10s))
      << "DingTalk's signed request and every robot's answer were accepted";
}

}  // namespace
}  // namespace alertd::testing
