// Sends the acknowledgements people make through the HTTP API (signed links, the grid view) to the
// acks topic, keyed by worker id, where the engine applies them like any other EscalationAck.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/kafka/clients.h"
#include "health.pb.h"

typedef struct rd_kafka_s rd_kafka_t;

namespace alertd::app {

// Thread-safe: every HTTP worker thread may Send at once.
class AckSender {
 public:
  static absl::StatusOr<std::unique_ptr<AckSender>> Create(const std::string& bootstrap, std::string topic,
                                                            const kafka::Properties& producer_properties);
  ~AckSender();
  AckSender(const AckSender&) = delete;
  AckSender& operator=(const AckSender&) = delete;

  // Produces `ack` (record timestamp = at_ms, so replay mode orders it by when the person acted) and
  // waits up to `timeout_ms` for the broker: OK once it confirmed, Unavailable otherwise (the record may
  // still arrive; the engine ignores a second acknowledgement of one episode).
  absl::Status Send(const healthgrid::v1::EscalationAck& ack, int timeout_ms = 5000);

 private:
  AckSender(rd_kafka_t* producer, std::string topic) : producer_(producer), topic_(std::move(topic)) {}
  rd_kafka_t* producer_;
  const std::string topic_;
};

}  // namespace alertd::app
