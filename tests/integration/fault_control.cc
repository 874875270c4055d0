// Client of alertd-kafka's fault control API: starts the cluster with --control and applies faults over HTTP.
#include "tests/integration/fault_control.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <librdkafka/rdkafkacpp.h>

#include <fstream>
#include <map>

#include "engine/kafka/clients.h"

namespace alertd::testing {
namespace {

std::string BrokerPath(int broker) { return "/brokers/" + (broker == 0 ? std::string("all") : std::to_string(broker)); }

}  // namespace

FaultyKafka::FaultyKafka(const std::string& dir, int brokers, int partitions) : partitions_(partitions) {
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

std::vector<PartitionPlace> PartitionPlaces(const std::string& bootstrap, const std::string& topic, int partitions) {
  std::vector<PartitionPlace> places(static_cast<size_t>(partitions));
  auto consumer = kafka::NewConsumer(bootstrap, "fault-test-metadata", {}, nullptr, nullptr);
  if (!consumer.ok()) {
    ADD_FAILURE() << consumer.status();
    return places;
  }
  std::string error;
  std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(consumer->get(), topic, nullptr, error));
  RdKafka::Metadata* raw = nullptr;
  const RdKafka::ErrorCode err = (*consumer)->metadata(false, handle.get(), &raw, 5000);
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  if (err != RdKafka::ERR_NO_ERROR || metadata->topics()->empty()) {
    ADD_FAILURE() << "metadata of " << topic << ": " << RdKafka::err2str(err);
    return places;
  }
  for (const RdKafka::PartitionMetadata* p : *metadata->topics()->at(0)->partitions()) {
    if (p->id() >= 0 && p->id() < partitions) places[static_cast<size_t>(p->id())].leader = p->leader();
  }
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t low = 0;
    int64_t high = 0;
    if ((*consumer)->query_watermark_offsets(topic, p, &low, &high, 5000) == RdKafka::ERR_NO_ERROR) {
      places[static_cast<size_t>(p)].records = high;
    }
  }
  (*consumer)->close();
  return places;
}

std::vector<std::string> ReadTopicToEnd(const std::string& bootstrap, const std::string& topic, int partitions,
                                        std::chrono::milliseconds timeout) {
  std::vector<std::string> values;
  auto consumer = kafka::NewConsumer(bootstrap, "fault-test-reader", {}, nullptr, nullptr);
  if (!consumer.ok()) {
    ADD_FAILURE() << consumer.status();
    return values;
  }
  std::map<int32_t, int64_t> end;  // partition -> offset after its last record
  std::vector<RdKafka::TopicPartition*> assignment;
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t low = 0;
    int64_t high = 0;
    const RdKafka::ErrorCode err = (*consumer)->query_watermark_offsets(topic, p, &low, &high, 5000);
    if (err != RdKafka::ERR_NO_ERROR) {
      ADD_FAILURE() << "watermarks of " << topic << "[" << p << "]: " << RdKafka::err2str(err);
      continue;
    }
    if (high > low) end[p] = high;
    assignment.push_back(RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  }
  (*consumer)->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!end.empty() && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m((*consumer)->consume(100));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    values.emplace_back(static_cast<const char*>(m->payload()), m->len());
    const auto it = end.find(m->partition());
    if (it != end.end() && m->offset() + 1 >= it->second) end.erase(it);
  }
  EXPECT_TRUE(end.empty()) << topic << ": " << end.size() << " partition(s) not read to the end";
  (*consumer)->close();
  return values;
}

}  // namespace alertd::testing
