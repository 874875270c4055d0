// `alertd print-policy --worker ID --db DIR` as a process: a worker's effective policy from the
// profile in a stopped engine's RocksDB state, and a clear refusal for each way it cannot be found.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>

#include "engine/config/policy_file.h"
#include "engine/state/store.h"
#include "tests/state/state_test_support.h"

namespace alertd::config {
namespace {

using ::testing::HasSubstr;
using state::testing_support::TempDir;

struct ProcessRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs alertd with `args` (shell words; the tests pass only fixed, safe paths and ids).
ProcessRun Alertd(const std::string& args) {
  ProcessRun run;
  const std::string command = std::string(ALERTD_BIN) + " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen failed: " << command;
    return run;
  }
  std::array<char, 4096> buf{};
  for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0;) run.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

domain::WorkerProfile HighRiskProfile() {
  domain::WorkerProfile profile;
  profile.worker = {"W000042"};
  profile.name = "Zhang Wei";
  profile.unit_id = "U03";
  profile.grid_id = "U03-G07";
  profile.diagnosed_hypertension_grade = 3;
  profile.policy.critical_systolic_mmhg = 170;
  profile.policy.critical_diastolic_mmhg = 105;
  profile.policy.self_test_interval_days = 3;
  profile.policy.focus_tracking = true;
  profile.policy.extra_recipients = {{"OP-U03", "Li Na"}};
  return profile;
}

// A stopped engine's state: a high-risk worker on partition 5, one on partition 0 without overrides,
// and one whose readings arrived but whose profile did not.
class PrintPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<state::StateStore>> store = state::OpenRocksStore({.path = state_dir()});
    ASSERT_TRUE(store.ok()) << store.status();
    domain::WorkerState high_risk, plain, no_profile;
    high_risk.profile = HighRiskProfile();
    plain.profile.emplace();
    plain.profile->worker = {"W000001"};
    plain.profile->unit_id = "U01";
    plain.profile->grid_id = "U01-G01";
    no_profile.readings_accepted = 2;
    const state::CommitBatch batch{.workers = {{{5, {"W000042"}}, high_risk},
                                               {{0, {"W000001"}}, plain},
                                               {{2, {"W000007"}}, no_profile}}};
    ASSERT_TRUE((*store)->Commit(batch).ok());
  }  // the store closes here: print-policy reads a stopped engine's state

  std::string state_dir() const { return dir_.Sub("state"); }

  TempDir dir_;
};

TEST_F(PrintPolicyTest, PrintsTheWorkersEffectivePolicy) {
  const ProcessRun run = Alertd("print-policy --worker W000042 --db " + state_dir());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, FormatWorkerPolicy(domain::Policy{}, HighRiskProfile()));
  EXPECT_THAT(run.output, HasSubstr("#   rules.r1_critical_bp.at_or_above.systolic: 170 (global 180)"));
  const absl::StatusOr<domain::Policy> parsed = ParsePolicy(run.output, "stdout");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(*parsed == domain::EffectivePolicy(domain::Policy{}, HighRiskProfile().policy));
}

TEST_F(PrintPolicyTest, StartsFromTheGlobalPolicyFile) {
  const std::string policy_file = dir_.Sub("policy.yaml");
  std::ofstream(policy_file) << "rules:\n  r3_self_test_missed:\n    level_2_after: 12h\n";
  const ProcessRun run = Alertd("print-policy --policy " + policy_file + " --worker W000042 --db " + state_dir());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  domain::Policy global;
  global.r3_level2_delay_ms = 12 * domain::kHourMs;
  EXPECT_EQ(run.output, FormatWorkerPolicy(global, HighRiskProfile()));
}

TEST_F(PrintPolicyTest, WorkerWithoutOverrides) {
  const ProcessRun run = Alertd("print-policy --worker W000001 --db " + state_dir());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("nothing; every number below is the global one"));
}

struct Refusal {
  std::string name;
  std::string args;  // after "print-policy"; {state} is replaced by the state directory
  int exit_code;
  std::string says;
};

TEST_F(PrintPolicyTest, RefusesClearly) {
  const Refusal refusals[] = {
      {"UnknownWorker", "--worker W999999 --db {state}", 1,
       "no worker W999999 in the state in {state} (3 workers there; ids are case-sensitive)"},
      {"NoProfile", "--worker W000007 --db {state}", 1,
       "worker W000007 has state in {state} but no profile"},
      {"StateDirMissing", "--worker W000042 --db {state}/nope", 1,
       "--db {state}/nope is not a directory"},
      {"NotAState", "--worker W000042 --db " + dir_.Sub(""), 1, "cannot read alertd's state in"},
      // A flag that needs another is a configuration error like any bad flag: exit 2 (not CLI11's 107).
      {"DbWithoutWorker", "--db {state}", 2, "--db requires --worker"},
      {"BadPolicyFile", "--policy /nonexistent.yaml --worker W000042 --db {state}", 2,
       "/nonexistent.yaml: cannot open the policy file"},
  };
  for (const Refusal& r : refusals) {
    auto fill = [&](std::string text) {
      for (size_t at; (at = text.find("{state}")) != std::string::npos;) text.replace(at, 7, state_dir());
      return text;
    };
    const ProcessRun run = Alertd("print-policy " + fill(r.args));
    EXPECT_EQ(run.exit_code, r.exit_code) << r.name << ": " << run.output;
    EXPECT_THAT(run.output, HasSubstr(fill(r.says))) << r.name;
  }
}

}  // namespace
}  // namespace alertd::config
