// The one handler of librdkafka's events for alertd and its tools: what it logs, counts and stops on.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <string>
#include <vector>

#include "engine/tool/kafka_client.h"

namespace alertd::tool {
namespace {

class FakeEvent final : public RdKafka::Event {
 public:
  FakeEvent(Type type, RdKafka::ErrorCode err, Severity severity, std::string fac, std::string str, bool fatal)
      : type_(type), err_(err), severity_(severity), fac_(std::move(fac)), str_(std::move(str)), fatal_(fatal) {}
  Type type() const override { return type_; }
  RdKafka::ErrorCode err() const override { return err_; }
  Severity severity() const override { return severity_; }
  std::string fac() const override { return fac_; }
  std::string str() const override { return str_; }
  int throttle_time() const override { return 0; }
  std::string broker_name() const override { return "b"; }
  int broker_id() const override { return 1; }
  bool fatal() const override { return fatal_; }

 private:
  Type type_;
  RdKafka::ErrorCode err_;
  Severity severity_;
  std::string fac_, str_;
  bool fatal_;
};

FakeEvent Error(RdKafka::ErrorCode err, const std::string& text, bool fatal = false) {
  return FakeEvent(RdKafka::Event::EVENT_ERROR, err, RdKafka::Event::EVENT_SEVERITY_ERROR, "", text, fatal);
}
FakeEvent Log(RdKafka::Event::Severity severity, const std::string& fac, const std::string& text) {
  return FakeEvent(RdKafka::Event::EVENT_LOG, RdKafka::ERR_NO_ERROR, severity, fac, text, false);
}

class KafkaEventLogTest : public ::testing::Test {
 protected:
  KafkaEventLogTest() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    previous_ = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_level(spdlog::level::trace);
    logger->set_pattern("%l %v");
    spdlog::set_default_logger(logger);
  }
  ~KafkaEventLogTest() override { spdlog::set_default_logger(previous_); }
  std::string Logged() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(KafkaEventLogTest, TransientErrorsAreCountedEachTimeButLoggedOnce) {
  std::vector<RdKafka::ErrorCode> counted;
  KafkaEventLog log(KafkaEventHooks{.transient_error = [&](RdKafka::ErrorCode e) { counted.push_back(e); }});
  for (int i = 0; i < 3; ++i) {
    FakeEvent e = Error(RdKafka::ERR__TRANSPORT, "127.0.0.1:9092: Connection refused (after 0ms in state CONNECT)");
    log.event_cb(e);
  }
  EXPECT_EQ(counted.size(), 3u);
  EXPECT_EQ(counted[0], RdKafka::ERR__TRANSPORT);
  const std::string logged = Logged();
  EXPECT_EQ(logged.find("Connection refused"), logged.rfind("Connection refused")) << logged;
  EXPECT_NE(logged.find("warning kafka: "), std::string::npos) << logged;
  EXPECT_FALSE(log.fatal());
}

TEST_F(KafkaEventLogTest, AFatalErrorIsLoggedRememberedAndHandedToTheHook) {
  std::string fatal_text;
  int transient = 0;
  KafkaEventLog log(KafkaEventHooks{.transient_error = [&](RdKafka::ErrorCode) { ++transient; },
                                    .fatal = [&](const std::string& text) { fatal_text = text; }});
  FakeEvent e = Error(RdKafka::ERR__FENCED, "producer fenced", /*fatal=*/true);
  log.event_cb(e);
  EXPECT_TRUE(log.fatal());
  EXPECT_NE(fatal_text.find("producer fenced"), std::string::npos) << fatal_text;
  EXPECT_EQ(transient, 0);
  EXPECT_NE(Logged().find("critical kafka fatal error: "), std::string::npos) << Logged();
}

TEST_F(KafkaEventLogTest, LogLinesBelowTheMinimumLevelAreDropped) {
  KafkaEventLog daemon(KafkaEventHooks{.min_level = spdlog::level::warn});
  FakeEvent notice = Log(RdKafka::Event::EVENT_SEVERITY_NOTICE, "CGRPCOORD", "coordinator changed");
  FakeEvent warning = Log(RdKafka::Event::EVENT_SEVERITY_WARNING, "MAXPOLL", "poll interval exceeded");
  daemon.event_cb(notice);
  daemon.event_cb(warning);
  EXPECT_EQ(Logged().find("coordinator changed"), std::string::npos) << Logged();
  EXPECT_NE(Logged().find("warning librdkafka MAXPOLL: poll interval exceeded"), std::string::npos) << Logged();

  KafkaEventLog tool;  // a tool logs what its logger's level lets through
  tool.event_cb(notice);
  EXPECT_NE(Logged().find("info librdkafka CGRPCOORD: coordinator changed"), std::string::npos) << Logged();
}

}  // namespace
}  // namespace alertd::tool
