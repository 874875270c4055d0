// Record builders shared by the integration tests and the broker-free app tests.
#include "tests/support/records.h"

#include <chrono>

namespace alertd::testing {

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

healthgrid::v1::WorkerProfile MakeProfile(const std::string& worker, const std::string& unit,
                                          const std::string& grid) {
  healthgrid::v1::WorkerProfile p;
  p.set_worker_id(worker);
  p.set_name("Worker " + worker);
  p.set_unit_id(unit);
  p.set_grid_id(grid);
  p.mutable_health_manager()->set_id("HM-" + grid);
  p.mutable_health_manager()->set_name("Manager of " + grid);
  p.mutable_unit_supervisor()->set_id("US-" + unit);
  p.mutable_unit_supervisor()->set_name("Supervisor of " + unit);
  return p;
}

healthgrid::v1::Reading MakeBp(const std::string& worker, int64_t measured_at_ms, int systolic, int diastolic,
                               int pulse) {
  healthgrid::v1::Reading r;
  r.set_worker_id(worker);
  r.set_device_id("DEV-1");
  r.set_station_id("ST-1");
  r.set_measured_at_ms(measured_at_ms);
  r.set_context(healthgrid::v1::SELF_TEST);
  auto* bp = r.mutable_blood_pressure();
  bp->set_systolic_mmhg(systolic);
  bp->set_diastolic_mmhg(diastolic);
  bp->set_pulse_bpm(pulse);
  return r;
}

healthgrid::v1::Reading MakeGlucose(const std::string& worker, int64_t measured_at_ms, double mmol,
                                    healthgrid::v1::GlucoseTiming timing) {
  healthgrid::v1::Reading r;
  r.set_worker_id(worker);
  r.set_device_id("GM-1");  // a glucometer
  r.set_station_id("ST-1");
  r.set_measured_at_ms(measured_at_ms);
  r.set_context(healthgrid::v1::SELF_TEST);
  r.mutable_glucose()->set_mmol_per_l(mmol);
  r.mutable_glucose()->set_timing(timing);
  return r;
}

}  // namespace alertd::testing
