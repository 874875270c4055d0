// A list of librdkafka topic-partitions that owns its elements (the C++ API hands out raw pointers).
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <vector>

namespace alertd::app {

struct PartitionList {
  std::vector<RdKafka::TopicPartition*> tps;
  PartitionList() = default;
  PartitionList(const PartitionList&) = delete;
  PartitionList& operator=(const PartitionList&) = delete;
  ~PartitionList() {
    for (auto* tp : tps) delete tp;
  }
};

}  // namespace alertd::app
