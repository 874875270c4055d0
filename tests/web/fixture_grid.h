// A small health grid for the grid view's tests: workers, readings and episodes shaped exactly as alertd's
// /api/v1 answers (issue 10's API contract), with times relative to "now".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace alertd::web::fixture {

// Who a token speaks for and what it may see, as alertd's view links would say.
struct Viewer {
  std::string person_id, person_name;
  std::string scope;  // "grid:<id>", "unit:<id>", "worker:<id>" or "*" for the operator token
};

struct FixtureWorker {
  nlohmann::json profile;  // {"id","name","unit_id","grid_id","posts","conditions"}
  nlohmann::json bp = nlohmann::json::array();       // ascending
  nlohmann::json glucose = nlohmann::json::array();  // ascending
  nlohmann::json thresholds;
  nlohmann::json self_test;
  int partition = 0;
};

// The grid's state; not thread-safe (the server holds a lock around it).
class FixtureGrid {
 public:
  explicit FixtureGrid(int64_t now_ms);

  bool Covers(const Viewer& viewer, const std::string& worker_id) const;
  // "grid:<id>" etc. within the viewer's scope: a grid token covers its grid, a unit token its unit and grids.
  bool CoversScope(const Viewer& viewer, const std::string& scope) const;

  std::optional<nlohmann::json> Worker(const std::string& id) const;            // GET /api/v1/workers/<id>
  nlohmann::json Workers(const std::string& group, const std::string& id) const;      // group: "grids"/"units"
  nlohmann::json Escalations(const std::string& group, const std::string& id) const;
  nlohmann::json Compliance(const std::string& group, const std::string& id, int64_t now_ms) const;

  // Applies a POST /api/v1/acks body already checked for shape: false when no such open episode.
  bool Act(const nlohmann::json& ack, const Viewer& viewer, int64_t now_ms);

 private:
  std::vector<const FixtureWorker*> Members(const std::string& group, const std::string& id) const;
  std::vector<nlohmann::json> OpenEpisodes(const std::string& worker_id) const;
  bool PartialAnswer(const std::string& group) const { return group == "units"; }

  std::map<std::string, FixtureWorker> workers_;
  std::vector<nlohmann::json> episodes_;  // open ones
};

}  // namespace alertd::web::fixture
