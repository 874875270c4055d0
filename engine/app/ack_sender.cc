// The acks topic's producer for the HTTP API: one record, one confirmation awaited.
#include "engine/app/ack_sender.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <future>

namespace alertd::app {
namespace {

// Shared by Send and the delivery report, which may come after Send gave up waiting.
struct Delivery {
  std::promise<rd_kafka_resp_err_t> done;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  auto* delivery = static_cast<std::shared_ptr<Delivery>*>(m->_private);
  if (delivery == nullptr) return;
  (*delivery)->done.set_value(m->err);
  delete delivery;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AckSender>> AckSender::Create(const std::string& bootstrap, std::string topic,
                                                              const kafka::Properties& producer_properties) {
  // murmur2_random is the Java client's partitioner, the one the stations' gateways use: an ack must
  // land in the partition of the worker's other records, where their state is.
  auto producer = kafka::NewCClient(
      RD_KAFKA_PRODUCER,
      {{"bootstrap.servers", bootstrap}, {"enable.idempotence", "true"}, {"partitioner", "murmur2_random"},
       {"linger.ms", "0"}, {"message.timeout.ms", "10000"}},
      producer_properties, "ack producer", [](rd_kafka_conf_t* conf) { rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery); });
  if (!producer.ok()) return producer.status();
  return std::unique_ptr<AckSender>(new AckSender(*producer, std::move(topic)));
}

AckSender::~AckSender() {
  rd_kafka_flush(producer_, 2000);
  rd_kafka_destroy(producer_);
}

absl::Status AckSender::Send(const healthgrid::v1::EscalationAck& ack, int timeout_ms) {
  const std::string value = ack.SerializeAsString();
  auto* delivery = new std::shared_ptr<Delivery>(std::make_shared<Delivery>());
  std::future<rd_kafka_resp_err_t> done = (*delivery)->done.get_future();
  // rd_kafka_produceva rather than the producev macros, whose C casts the warnings refuse.
  rd_kafka_vu_t vus[6];
  vus[0].vtype = RD_KAFKA_VTYPE_TOPIC;
  vus[0].u.cstr = topic_.c_str();
  vus[1].vtype = RD_KAFKA_VTYPE_KEY;
  vus[1].u.mem = {const_cast<char*>(ack.worker_id().data()), ack.worker_id().size()};
  vus[2].vtype = RD_KAFKA_VTYPE_VALUE;
  vus[2].u.mem = {const_cast<char*>(value.data()), value.size()};
  vus[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vus[3].u.i = RD_KAFKA_MSG_F_COPY;  // the value lives on this stack frame
  vus[4].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
  vus[4].u.i64 = ack.at_ms();
  vus[5].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vus[5].u.ptr = delivery;
  if (rd_kafka_error_t* error = rd_kafka_produceva(producer_, vus, 6); error != nullptr) {
    const std::string why = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    delete delivery;
    return absl::UnavailableError("acks topic: " + why);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (done.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::UnavailableError("acks topic: the broker did not confirm in time");
    }
    rd_kafka_poll(producer_, 50);
  }
  const rd_kafka_resp_err_t delivered = done.get();
  if (delivered != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(std::string("acks topic: ") + rd_kafka_err2str(delivered));
  }
  return absl::OkStatus();
}

}  // namespace alertd::app
