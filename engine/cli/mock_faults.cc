// The fault control API of alertd-kafka: parses requests by name and applies them to the mock cluster.
#include "engine/cli/mock_faults.h"

#include <dirent.h>
#include <fmt/format.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <thread>
#include <utility>

namespace alertd::cli {
namespace {

struct ApiName {
  std::string_view name;
  int16_t key;
};

// The requests librdkafka 2.0.2's mock cluster answers (src/rdkafka_mock_handlers.c), with their
// Kafka protocol keys; an error pushed for any other key would never be returned.
constexpr std::array<ApiName, 17> kMockApis{{
    {"Produce", 0},
    {"Fetch", 1},
    {"ListOffsets", 2},
    {"Metadata", 3},
    {"OffsetCommit", 8},
    {"OffsetFetch", 9},
    {"FindCoordinator", 10},
    {"JoinGroup", 11},
    {"Heartbeat", 12},
    {"LeaveGroup", 13},
    {"SyncGroup", 14},
    {"ApiVersion", 18},
    {"InitProducerId", 22},
    {"AddPartitionsToTxn", 24},
    {"AddOffsetsToTxn", 25},
    {"EndTxn", 26},
    {"TxnOffsetCommit", 28},
}};

constexpr int kMaxRttMs = 600000;
constexpr int kMaxErrorCount = 1000000;

std::string ApiNames() {
  std::string names;
  for (const ApiName& api : kMockApis) {
    if (!names.empty()) names += ", ";
    names += api.name;
  }
  return names;
}

// A broker can answer with Kafka's own errors; of librdkafka's local ones only _TRANSPORT means
// anything to the mock (it drops the connection instead of answering).
bool MockCanAnswer(const rd_kafka_err_desc& desc) {
  return desc.name != nullptr && (desc.code > 0 || desc.code == RD_KAFKA_RESP_ERR__TRANSPORT);
}

std::string ErrorNames() {
  const rd_kafka_err_desc* descs = nullptr;
  size_t count = 0;
  rd_kafka_get_err_descs(&descs, &count);
  std::string names;
  for (size_t i = 0; i < count; ++i) {
    if (!MockCanAnswer(descs[i])) continue;
    names += descs[i].name;
    names += '\n';
  }
  return names;
}

// A whole decimal number in [low, high]; nullopt for anything else (sign junk, trailing text, overflow).
std::optional<int> ParseWhole(std::string_view text, int low, int high) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < low || value > high) return std::nullopt;
  return value;
}

const char kUsage[] =
    "alertd-kafka fault control\n"
    "GET    /                                          this text\n"
    "GET    /errors                                    the error names known\n"
    "POST   /brokers/{ID|all}/down                     close the broker's connections and refuse new ones\n"
    "POST   /brokers/{ID|all}/up                       accept connections again\n"
    "POST   /brokers/{ID|all}/rtt?ms=N                 delay every response by N ms (0 = none)\n"
    "POST   /requests/{API}/errors?error=NAME&count=N  the next N requests of API fail with NAME (count 1 if absent)\n"
    "DELETE /requests/{API}/errors                     drop the errors not yet returned\n"
    "POST   /requests/{API}/errors?error=NAME&count=N&broker=ID\n"
    "                                                  the same, on one broker only; these run out, they cannot be dropped\n"
    "GET    /brokers/{ID}/errors/{API}                 how many of that broker's errors are not yet returned\n"
    "POST   /topics/{TOPIC}/error?error=NAME           metadata answers NAME for the topic\n"
    "DELETE /topics/{TOPIC}/error                      metadata answers the topic normally again\n";

// A request the handler refuses: answered 400 with the message.
struct BadRequest : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace

int DisableNagleOnListeners() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  int count = 0;
  while (const dirent* entry = readdir(dir)) {
    const int fd = std::atoi(entry->d_name);
    if (fd <= 2 || fd == dirfd(dir)) continue;
    int listening = 0;
    socklen_t size = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || listening == 0) continue;
    const int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0) ++count;
  }
  closedir(dir);
  return count;
}

std::optional<int16_t> MockApiKeyByName(std::string_view name) {
  for (const ApiName& api : kMockApis) {
    if (api.name == name) return api.key;
  }
  return std::nullopt;
}

std::optional<rd_kafka_resp_err_t> KafkaErrorByName(std::string_view name) {
  const rd_kafka_err_desc* descs = nullptr;
  size_t count = 0;
  rd_kafka_get_err_descs(&descs, &count);
  for (size_t i = 0; i < count; ++i) {
    if (descs[i].name == nullptr || name != descs[i].name) continue;
    if (!MockCanAnswer(descs[i])) return std::nullopt;
    return descs[i].code;
  }
  return std::nullopt;
}

struct MockFaultServer::Impl {
  rd_kafka_mock_cluster_t* cluster;
  int brokers;
  std::vector<std::string> topics;
  httplib::Server server;
  int port = 0;
  std::thread thread;

  // -1 (every broker) for "all", else an id the cluster has.
  int32_t BrokerId(const std::string& text) const {
    if (text == "all") return -1;
    const auto id = ParseWhole(text, 1, brokers);
    if (!id) throw BadRequest(fmt::format("no broker '{}': brokers are 1..{} or all", text, brokers));
    return *id;
  }

  static std::string BrokerName(int32_t id) { return id == -1 ? "every broker" : fmt::format("broker {}", id); }

  static int16_t ApiKey(const std::string& name) {
    const auto key = MockApiKeyByName(name);
    if (!key) throw BadRequest(fmt::format("unknown API '{}'; the mock cluster serves {}", name, ApiNames()));
    return *key;
  }

  static rd_kafka_resp_err_t Error(const httplib::Request& request) {
    if (!request.has_param("error")) throw BadRequest("missing ?error=NAME (GET /errors lists the names)");
    const std::string name = request.get_param_value("error");
    const auto err = KafkaErrorByName(name);
    if (!err) throw BadRequest(fmt::format("unknown error '{}' (GET /errors lists the names)", name));
    return *err;
  }

  const std::string& Topic(const std::string& name) const {
    // The mock would create an unknown topic on the spot; refuse instead.
    const auto it = std::find(topics.begin(), topics.end(), name);
    if (it == topics.end()) throw BadRequest(fmt::format("no topic '{}' on this cluster", name));
    return *it;
  }

  static void Check(rd_kafka_resp_err_t err, const std::string& what) {
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error(fmt::format("{}: the mock cluster answered {}", what, rd_kafka_err2name(err)));
    }
  }

  // Runs one fault: its text is logged and returned, a refusal becomes 400, a mock failure 500.
  void Apply(const httplib::Request& request, httplib::Response& response,
             const std::function<std::string(const httplib::Request&)>& fault) {
    try {
      const std::string done = fault(request);
      spdlog::info("fault from {}: {}", request.remote_addr, done);
      response.set_content(done + "\n", "text/plain");
    } catch (const BadRequest& e) {
      spdlog::warn("fault request {} {} refused: {}", request.method, request.path, e.what());
      response.status = 400;
      response.set_content(std::string(e.what()) + "\n", "text/plain");
    } catch (const std::exception& e) {
      spdlog::error("fault request {} {} failed: {}", request.method, request.path, e.what());
      response.status = 500;
      response.set_content(std::string(e.what()) + "\n", "text/plain");
    }
  }

  // A route that applies one fault (a method of this class) and answers what it did (see Apply).
  httplib::Server::Handler Fault(std::string (Impl::*fault)(const httplib::Request&)) {
    return [this, fault](const httplib::Request& request, httplib::Response& response) {
      Apply(request, response, [this, fault](const httplib::Request& r) { return (this->*fault)(r); });
    };
  }

  // A broker goes down or comes back up.
  std::string SetBrokerUpOrDown(const httplib::Request& r) {
    const int32_t id = BrokerId(r.matches[1]);
    const bool up = r.matches[2] == "up";
    const std::string what = fmt::format("{} {}", BrokerName(id), up ? "up" : "down");
    Check(up ? rd_kafka_mock_broker_set_up(cluster, id) : rd_kafka_mock_broker_set_down(cluster, id), what);
    if (up) DisableNagleOnListeners();
    return what;
  }

  // A broker answers late (?ms=), or on time again (?ms=0).
  std::string SetBrokerRtt(const httplib::Request& r) {
    const int32_t id = BrokerId(r.matches[1]);
    const auto ms = ParseWhole(r.get_param_value("ms"), 0, kMaxRttMs);
    if (!ms) throw BadRequest(fmt::format("?ms= must be a whole number of milliseconds in 0..{}", kMaxRttMs));
    const std::string what = *ms == 0 ? fmt::format("{} answers without added delay", BrokerName(id))
                                      : fmt::format("{} answers {} ms late", BrokerName(id), *ms);
    Check(rd_kafka_mock_broker_set_rtt(cluster, id, *ms), what);
    return what;
  }

  // The next ?count= requests of one API fail with ?error=, at every broker or one (?broker=).
  std::string PushRequestErrors(const httplib::Request& r) {
    const std::string api = r.matches[1];
    const int16_t key = ApiKey(api);
    const rd_kafka_resp_err_t err = Error(r);
    int count = 1;
    if (r.has_param("count")) {
      const auto parsed = ParseWhole(r.get_param_value("count"), 1, kMaxErrorCount);
      if (!parsed) throw BadRequest(fmt::format("?count= must be a whole number in 1..{}", kMaxErrorCount));
      count = *parsed;
    }
    if (!r.has_param("broker")) {
      const std::vector<rd_kafka_resp_err_t> errors(static_cast<size_t>(count), err);
      rd_kafka_mock_push_request_errors_array(cluster, key, errors.size(), errors.data());
      return fmt::format("the next {} {} request(s) fail with {}", count, api, rd_kafka_err2name(err));
    }
    const std::string broker = r.get_param_value("broker");
    const int32_t id = BrokerId(broker);
    if (id == -1) throw BadRequest("?broker= names one broker; leave it out for every broker");
    const std::string what =
        fmt::format("the next {} {} request(s) to broker {} fail with {}", count, api, id, rd_kafka_err2name(err));
    // The broker's stack takes one tuple (error, delay) per argument list; 2.0.2 has no array form.
    for (int i = 0; i < count; ++i) {
      Check(rd_kafka_mock_broker_push_request_error_rtts(cluster, id, key, 1, err, 0), what);
    }
    return what;
  }

  // Requests of one API no longer fail.
  std::string ClearRequestErrors(const httplib::Request& r) {
    const std::string api = r.matches[1];
    rd_kafka_mock_clear_request_errors(cluster, ApiKey(api));
    return fmt::format("{} requests no longer fail", api);
  }

  // Metadata answers ?error= for a topic.
  std::string SetTopicError(const httplib::Request& r) {
    const std::string& topic = Topic(r.matches[1]);
    const rd_kafka_resp_err_t err = Error(r);
    rd_kafka_mock_topic_set_error(cluster, topic.c_str(), err);
    return fmt::format("metadata answers {} for topic {}", rd_kafka_err2name(err), topic);
  }

  // Metadata answers a topic normally again.
  std::string ClearTopicError(const httplib::Request& r) {
    const std::string& topic = Topic(r.matches[1]);
    rd_kafka_mock_topic_set_error(cluster, topic.c_str(), RD_KAFKA_RESP_ERR_NO_ERROR);
    return fmt::format("metadata answers topic {} normally", topic);
  }

  void Route() {
    using httplib::Request;
    using httplib::Response;
    server.Get("/", [](const Request&, Response& response) { response.set_content(kUsage, "text/plain"); });
    server.Get("/errors", [](const Request&, Response& response) { response.set_content(ErrorNames(), "text/plain"); });
    server.Post(R"(/brokers/([^/]+)/(down|up))", Fault(&Impl::SetBrokerUpOrDown));
    server.Post(R"(/brokers/([^/]+)/rtt)", Fault(&Impl::SetBrokerRtt));
    server.Post(R"(/requests/([^/]+)/errors)", Fault(&Impl::PushRequestErrors));
    server.Get(R"(/brokers/([^/]+)/errors/([^/]+))", [this](const Request& request, Response& response) {
      try {
        const int32_t id = BrokerId(request.matches[1]);
        if (id == -1) throw BadRequest("name one broker");
        size_t left = 0;
        Check(rd_kafka_mock_broker_error_stack_cnt(cluster, id, ApiKey(request.matches[2]), &left), "count");
        response.set_content(std::to_string(left) + "\n", "text/plain");
      } catch (const BadRequest& e) {
        response.status = 400;
        response.set_content(std::string(e.what()) + "\n", "text/plain");
      } catch (const std::exception& e) {
        response.status = 500;
        response.set_content(std::string(e.what()) + "\n", "text/plain");
      }
    });
    server.Delete(R"(/requests/([^/]+)/errors)", Fault(&Impl::ClearRequestErrors));
    server.Post(R"(/topics/([^/]+)/error)", Fault(&Impl::SetTopicError));
    server.Delete(R"(/topics/([^/]+)/error)", Fault(&Impl::ClearTopicError));
    server.set_error_handler([](const Request& request, Response& response) {
      if (response.status != 404) return;
      response.set_content(fmt::format("no such fault: {} {}\n\n{}", request.method, request.path, kUsage),
                           "text/plain");
    });
  }
};

MockFaultServer::MockFaultServer(rd_kafka_mock_cluster_t* cluster, int brokers, std::vector<std::string> topics,
                                 const std::string& address)
    : impl_(std::make_unique<Impl>()) {
  impl_->cluster = cluster;
  impl_->brokers = brokers;
  impl_->topics = std::move(topics);
  const auto colon = address.rfind(':');
  const auto port = colon == std::string::npos ? std::nullopt : ParseWhole(address.substr(colon + 1), 0, 65535);
  if (!port || colon == 0) throw std::runtime_error("--control wants HOST:PORT, got '" + address + "'");
  const std::string host = address.substr(0, colon);
  // Faults are applied one at a time, so the log reads in the order they took effect.
  impl_->server.new_task_queue = [] { return new httplib::ThreadPool(1); };
  impl_->Route();
  impl_->port = *port == 0 ? impl_->server.bind_to_any_port(host) : (impl_->server.bind_to_port(host, *port) ? *port : -1);
  if (impl_->port <= 0) throw std::runtime_error("cannot listen for fault control on " + address);
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  spdlog::info("fault control on http://{}:{}/", host, impl_->port);
}

MockFaultServer::~MockFaultServer() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int MockFaultServer::port() const { return impl_->port; }

}  // namespace alertd::cli
