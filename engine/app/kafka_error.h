// librdkafka error codes by name, for log lines and metric labels.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <string>

namespace alertd::app {

inline std::string ErrorName(rd_kafka_resp_err_t err) { return rd_kafka_err2name(err); }
inline std::string ErrorName(RdKafka::ErrorCode err) { return ErrorName(static_cast<rd_kafka_resp_err_t>(err)); }

}  // namespace alertd::app
