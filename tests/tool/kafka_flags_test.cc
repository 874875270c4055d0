// The Kafka flags every tool shares: --bootstrap refused at parse time when it is not a broker list,
// -X refused without a name; both checked through CLI11 as a user's command line would be.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "engine/tool/kafka_client.h"

namespace alertd::tool {
namespace {

// "" when the command line parses; CLI11's message otherwise.
std::string Parse(std::vector<std::string> args) {
  CLI::App app("probe");
  KafkaClientOptions options;
  AddKafkaClientOptions(app, &options);
  args.insert(args.begin(), "probe");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
    return "";
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
}

TEST(KafkaFlagsTest, BootstrapMustBeABrokerList) {
  struct Case {
    std::string bootstrap;
    bool ok;
  };
  for (const Case& c : std::vector<Case>{{"127.0.0.1:9092", true},
                                         {"kafka-0.kafka:9092,kafka-1.kafka:9092", true},
                                         {"SSL://broker.example:9093", true},
                                         {"[::1]:9092", true},
                                         {"", false},
                                         {"localhost", false},
                                         {"localhost:", false},
                                         {":9092", false},
                                         {"localhost:0", false},
                                         {"localhost:65536", false},
                                         {"localhost:9092,", false},
                                         {"localhost:90x2", false}}) {
    const std::string error = Parse({"--bootstrap", c.bootstrap});
    EXPECT_EQ(error.empty(), c.ok) << "'" << c.bootstrap << "': " << error;
    if (!c.ok) {
      EXPECT_NE(error.find("host:port"), std::string::npos) << error;
    }
  }
}

TEST(KafkaFlagsTest, PropertiesNeedAName) {
  EXPECT_EQ(Parse({"--bootstrap", "h:1", "-X", "security.protocol=ssl"}), "");
  EXPECT_NE(Parse({"--bootstrap", "h:1", "-X", "=ssl"}), "");
  EXPECT_NE(Parse({"--bootstrap", "h:1", "-X", "security.protocol"}), "");
}

}  // namespace
}  // namespace alertd::tool
