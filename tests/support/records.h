// Wire records as the stations and the grid's systems send them, for tests at every level.
#pragma once

#include <cstdint>
#include <string>

#include "health.pb.h"

namespace alertd::testing {

// Wall-clock now, ms since epoch UTC.
int64_t NowMs();

healthgrid::v1::WorkerProfile MakeProfile(const std::string& worker, const std::string& unit, const std::string& grid);
healthgrid::v1::Reading MakeBp(const std::string& worker, int64_t measured_at_ms, int systolic, int diastolic,
                               int pulse = 72);
// A SELF_TEST glucose reading at station ST-1.
healthgrid::v1::Reading MakeGlucose(const std::string& worker, int64_t measured_at_ms, double mmol,
                                    healthgrid::v1::GlucoseTiming timing);

}  // namespace alertd::testing
