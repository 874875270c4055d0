// librdkafka error codes by name, for log lines and metric labels.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace alertd::app {

inline std::string ErrorName(rd_kafka_resp_err_t err) { return rd_kafka_err2name(err); }
inline std::string ErrorName(RdKafka::ErrorCode err) { return ErrorName(static_cast<rd_kafka_resp_err_t>(err)); }

// Takes (and frees) the error an incremental (un)assign returned, null when it succeeded: OK, or an
// internal error saying what failed.
inline absl::Status TakeError(RdKafka::Error* error, std::string_view what) {
  if (error == nullptr) return absl::OkStatus();
  absl::Status status = absl::InternalError(std::string(what) + ": " + error->str());
  delete error;
  return status;
}

}  // namespace alertd::app
