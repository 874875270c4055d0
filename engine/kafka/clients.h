// Construction of librdkafka consumers and producers from plain property maps, with clear errors.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace alertd::kafka {

using Properties = std::map<std::string, std::string>;

// Consumer for the engine's input: manual assignment offsets (the engine stores them in RocksDB), no
// auto-commit, no auto offset store. `extra` wins over the defaults.
absl::StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> NewConsumer(const std::string& bootstrap,
                                                                    const std::string& group_id,
                                                                    const Properties& extra,
                                                                    RdKafka::RebalanceCb* rebalance,
                                                                    RdKafka::EventCb* events);

// Idempotent producer for the engine's output; delivery reports go to `delivery`.
absl::StatusOr<std::unique_ptr<RdKafka::Producer>> NewProducer(const std::string& bootstrap, const Properties& extra,
                                                              RdKafka::DeliveryReportCb* delivery,
                                                              RdKafka::EventCb* events);

}  // namespace alertd::kafka
