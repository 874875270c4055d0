// Client of alertd-kafka's fault control API: starts the cluster with --control and applies faults over HTTP.
#include "tests/integration/fault_control.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>

namespace alertd::testing {
namespace {

std::string BrokerPath(int broker) { return "/brokers/" + (broker == 0 ? std::string("all") : std::to_string(broker)); }

}  // namespace

FaultyKafka::FaultyKafka(const std::string& dir, int brokers, int partitions) {
  const std::string port_file = dir + "/control-port";
  // alertd-kafka writes the control port file before the bootstrap file, which EmbeddedKafka waits for.
  kafka_ = std::make_unique<EmbeddedKafka>(
      dir, partitions,
      std::vector<std::string>{"--brokers", std::to_string(brokers), "--control", "127.0.0.1:0", "--control-port-file",
                               port_file});
  std::ifstream in(port_file);
  if (!(in >> control_port_)) ADD_FAILURE() << "no control port in " << port_file;
}

FaultyKafka::Answer FaultyKafka::Call(const std::string& method, const std::string& path_and_query) const {
  httplib::Client client("127.0.0.1", control_port_);
  client.set_connection_timeout(2);
  client.set_read_timeout(10);  // a broker change waits for the mock cluster's thread (up to ~1 s)
  httplib::Result result = method == "GET"      ? client.Get(path_and_query)
                           : method == "DELETE" ? client.Delete(path_and_query)
                                                : client.Post(path_and_query, "", "text/plain");
  if (!result) return {};
  return {result->status, result->body};
}

void FaultyKafka::Apply(const std::string& method, const std::string& path_and_query) {
  const Answer answer = Call(method, path_and_query);
  EXPECT_EQ(answer.status, 200) << method << " " << path_and_query << ": " << answer.body;
}

void FaultyKafka::BrokerDown(int broker) { Apply("POST", BrokerPath(broker) + "/down"); }
void FaultyKafka::BrokerUp(int broker) { Apply("POST", BrokerPath(broker) + "/up"); }
void FaultyKafka::SetRtt(int broker, int ms) { Apply("POST", BrokerPath(broker) + "/rtt?ms=" + std::to_string(ms)); }

void FaultyKafka::FailRequests(const std::string& api, const std::string& error, int count) {
  Apply("POST", "/requests/" + api + "/errors?error=" + error + "&count=" + std::to_string(count));
}

void FaultyKafka::ClearRequestErrors(const std::string& api) { Apply("DELETE", "/requests/" + api + "/errors"); }

void FaultyKafka::FailRequestsOnBroker(int broker, const std::string& api, const std::string& error, int count) {
  Apply("POST", "/requests/" + api + "/errors?error=" + error + "&count=" + std::to_string(count) +
                    "&broker=" + std::to_string(broker));
}

int FaultyKafka::RequestErrorsLeft(int broker, const std::string& api) const {
  const Answer answer = Call("GET", "/brokers/" + std::to_string(broker) + "/errors/" + api);
  EXPECT_EQ(answer.status, 200) << answer.body;
  try {
    return answer.status == 200 ? std::stoi(answer.body) : -1;
  } catch (const std::exception&) {
    ADD_FAILURE() << "not a count: " << answer.body;
    return -1;
  }
}

}  // namespace alertd::testing
