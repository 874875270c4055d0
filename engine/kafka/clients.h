// Construction of librdkafka consumers and producers from plain property maps, with clear errors.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

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

// A client of librdkafka's C API, for what the C++ one lacks (record headers, a consumer assigned by
// hand with incremental assignment): `defaults`, overridden by `extra`, with the reconnect backoff every
// client here gets. `configure` may set callbacks on the configuration before the client is made.
// InvalidArgument naming `client` and the property it refused. The caller destroys the client.
absl::StatusOr<rd_kafka_t*> NewCClient(rd_kafka_type_t type, Properties defaults, const Properties& extra,
                                       std::string_view client,
                                       const std::function<void(rd_kafka_conf_t*)>& configure = nullptr);

// The partition count of `topic` as the cluster's metadata gives it: NotFound if the topic does not
// exist, Unavailable (with librdkafka's words) if the cluster did not answer within `timeout_ms`.
absl::StatusOr<int> PartitionCount(rd_kafka_t* client, const std::string& topic, int timeout_ms);

}  // namespace alertd::kafka
