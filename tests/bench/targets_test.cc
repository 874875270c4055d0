// The performance targets judged on made-up figures: each at its boundary, a figure the run did not
// measure, and a run whose population is not the one the target names.
#include "bench/targets.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <thread>

namespace alertd::bench {
namespace {

RealisticOptions Options(int memory_workers = 1000000) {
  RealisticOptions o;
  o.workers = 20000;
  o.latency_rate = 5000;
  o.memory_workers = memory_workers;
  return o;
}

// A run where every target sits exactly at its bound.
Report AtTheBounds(const RealisticFigures& n) {
  Report r;
  r.Add(n.drain_ratio, "", 0.5);
  r.Add(n.live_ratio, "", 0.8);
  r.Add(n.cpu_drain, "us", 2.0);
  r.Add(n.cpu_live, "us", 4.0);  // not a target of its own: the live ratio's reason quotes it
  r.Add(n.bytes_sparse_rocksdb, "B", 120);
  r.Add(n.bytes_dense_rocksdb, "B", 60);
  r.Add(n.bytes_sparse_changelog, "B", 50);
  r.Add(n.bytes_dense_changelog, "B", 100);
  r.Add(n.latency_p99, "ms", 20);
  r.Add(n.peak_rss_drain, "MiB", 256);
  r.Add(n.peak_rss_live, "MiB", 250);
  r.Add(n.memory_peak_rss, "MiB", 563.2);  // 512 + 10%
  r.Add(n.memory_growth, "MiB", 563.2 * 0.05);
  r.Add(n.memory_restart_processed, "s", 2.0);
  r.Add(n.memory_restart_assigned, "s", 1.5);
  return r;
}

TargetInputs Inputs() { return {.memory_budget_mib = 512, .cores = 2, .plotted = true, .files = {"figures.csv"}}; }

std::vector<Verdict> VerdictsOf(const std::vector<TargetResult>& results) {
  std::vector<Verdict> v;
  for (const auto& r : results) v.push_back(r.verdict);
  return v;
}

TEST(TargetsTest, EveryTargetAtItsBoundIsMet) {
  const RealisticOptions o = Options();
  const RealisticFigures n(o);
  const auto results = JudgeTargets(AtTheBounds(n), n, o, Inputs());
  ASSERT_EQ(results.size(), 9u);
  for (const auto& r : results) {
    EXPECT_EQ(r.verdict, Verdict::kMet) << r.target << ": " << r.measured << " " << r.why;
    EXPECT_EQ(r.why, "") << r.target;
  }
}

// Each figure just past its bound fails its own target and only that one.
TEST(TargetsTest, EachFigureJustPastItsBoundFailsItsTarget) {
  const RealisticOptions o = Options();
  const RealisticFigures n(o);
  struct Case {
    std::string figure;
    double value;
    std::size_t target;  // index into the results
  };
  const std::vector<Case> cases = {
      {n.drain_ratio, 0.49, 0},           {n.live_ratio, 0.79, 1},
      {n.cpu_drain, 2.01, 2},             {n.bytes_dense_rocksdb, 59.9, 3},
      {n.bytes_sparse_changelog, 49.9, 3}, {n.latency_p99, 20.5, 4},
      {n.peak_rss_live, 257, 5},          {n.memory_peak_rss, 563.5, 6},
      {n.memory_growth, 28.2, 6},         {n.memory_restart_processed, 2.1, 7},
  };
  for (const Case& c : cases) {
    // The bounds' report with this one figure replaced (a figure's median over one value is that value).
    const Report bounds = AtTheBounds(n);
    Report r;
    for (const std::string& name :
         {n.drain_ratio, n.live_ratio, n.cpu_drain, n.cpu_live, n.bytes_sparse_rocksdb, n.bytes_dense_rocksdb,
          n.bytes_sparse_changelog, n.bytes_dense_changelog, n.latency_p99, n.peak_rss_drain, n.peak_rss_live,
          n.memory_peak_rss, n.memory_growth, n.memory_restart_processed, n.memory_restart_assigned}) {
      r.Add(name, "", name == c.figure ? c.value : bounds.Of(name).median);
    }
    const auto results = JudgeTargets(r, n, o, Inputs());
    for (std::size_t i = 0; i < results.size(); ++i) {
      EXPECT_EQ(results[i].verdict, i == c.target ? Verdict::kNotMet : Verdict::kMet)
          << c.figure << " = " << c.value << ": " << results[i].target;
    }
    // Each ratio says what its own phase's CPU per record allows on this machine's cores.
    if (c.target == 0) {
      EXPECT_NE(results[0].why.find("at 2.0 us of CPU per record, 2 cores hold alertd under 1000000"),
                std::string::npos)
          << results[0].why;
    }
    if (c.target == 1) {
      EXPECT_NE(results[1].why.find("at 4.0 us of CPU per record, 2 cores hold alertd under 500000"),
                std::string::npos)
          << results[1].why;
    }
  }
}

TEST(TargetsTest, TheRestartSaysHowMuchWasTheGroupJoin) {
  const RealisticOptions o = Options();
  const RealisticFigures n(o);
  Report r = AtTheBounds(n);
  r.Add(n.memory_restart_processed, "s", 19.6);  // two values: the median is (2.0 + 19.6) / 2 = 10.8
  r.Add(n.memory_restart_assigned, "s", 19.9);   // (1.5 + 19.9) / 2 = 10.7
  const TargetResult restart = JudgeTargets(r, n, o, Inputs())[7];
  EXPECT_EQ(restart.verdict, Verdict::kNotMet);
  EXPECT_EQ(restart.measured, "10.8 s");
  EXPECT_NE(restart.why.find("10.7 s of it passed before the partitions were assigned"), std::string::npos)
      << restart.why;
  EXPECT_NE(restart.why.find("0.10 s after"), std::string::npos) << restart.why;
}

// Bytes per reading past the spread: the reason says which side costs more and why; measured at a rate
// other than the target's, the target is not judged.
TEST(TargetsTest, BytesPerReadingSaysWhichWorkersCostMore) {
  const RealisticOptions o = Options();
  const RealisticFigures n(o);
  const auto bytes = [&](double sparse, double dense, const RealisticOptions& run) {
    Report r = AtTheBounds(n);
    r.Add(n.bytes_sparse_rocksdb, "B", sparse);  // with the bounds' 120 and 60: medians (120 + x) / 2
    r.Add(n.bytes_dense_rocksdb, "B", dense);
    r.Add(n.bytes_sparse_changelog, "B", 2 * 96 - 50);  // medians 96 ...
    r.Add(n.bytes_dense_changelog, "B", 2 * 42 - 100);  // ... and 42
    return JudgeTargets(r, n, run, Inputs())[3];
  };
  const TargetResult cheaper_dense = bytes(88, 32, o);  // RocksDB 104 / 46
  EXPECT_EQ(cheaper_dense.verdict, Verdict::kNotMet);
  EXPECT_EQ(cheaper_dense.measured, "RocksDB 104 / 46 B (2.26x), changelog 96 / 42 B (2.29x)");
  EXPECT_NE(cheaper_dense.why.find("a sparse worker's reading writes its head and a run of its own"), std::string::npos)
      << cheaper_dense.why;
  const TargetResult dearer_dense = bytes(-20, 300, o);  // RocksDB 50 / 180
  EXPECT_EQ(dearer_dense.verdict, Verdict::kNotMet);
  EXPECT_NE(dearer_dense.why.find("a dense worker's reading rewrites the run it joins"), std::string::npos)
      << dearer_dense.why;
  RealisticOptions slower = o;
  slower.latency_rate = 1000;
  const TargetResult elsewhere = bytes(88, 32, slower);
  EXPECT_EQ(elsewhere.verdict, Verdict::kNotMeasured);
  EXPECT_EQ(elsewhere.why, "measured at 1000 readings/s; the target is at 5000");
}

// The CPU and drain targets, not met, quote the stack's floor from the same run when it was measured,
// and only then; either way they point at the profile.
TEST(TargetsTest, TheCpuAndDrainTargetsQuoteTheStacksFloorOfTheRun) {
  const RealisticOptions o = Options();
  const RealisticFigures n(o);
  Report r = AtTheBounds(n);
  r.Add(n.cpu_drain, "us", 18.0);  // two values: the median is (2.0 + 18.0) / 2 = 10.0
  const TargetResult without = JudgeTargets(r, n, o, Inputs())[2];
  EXPECT_EQ(without.verdict, Verdict::kNotMet);
  EXPECT_EQ(without.why.find("floor"), std::string::npos) << without.why;
  EXPECT_NE(without.why.find("Where a reading's CPU goes"), std::string::npos) << without.why;
  r.Add(n.floor_cpu, "us", 4.25);
  const TargetResult with = JudgeTargets(r, n, o, Inputs())[2];
  EXPECT_EQ(with.measured, "10.0 us");
  EXPECT_NE(with.why.find("the stack's floor in this run (consume, one RocksDB put and one changelog record per "
                          "record, nothing else) took 4.2 us"),
            std::string::npos)
      << with.why;
  EXPECT_NE(with.why.find("Where a reading's CPU goes"), std::string::npos) << with.why;
  // So do the ratios, each with the floor's own ratio in the same mode: the drain's with the floor
  // draining, the live one's with the floor reading while the records are produced.
  r.Add(n.drain_ratio, "", 0.1);  // median (0.5 + 0.1) / 2 = 0.3
  r.Add(n.live_ratio, "", 0.2);   // median (0.8 + 0.2) / 2 = 0.5
  EXPECT_EQ(JudgeTargets(r, n, o, Inputs())[0].why.find("floor"), std::string::npos);
  r.Add(n.floor_ratio, "", 0.36);
  const auto ratios = JudgeTargets(r, n, o, Inputs());
  EXPECT_EQ(ratios[0].verdict, Verdict::kNotMet);
  EXPECT_NE(ratios[0].why.find("the stack's floor in this run reached 0.36; "), std::string::npos) << ratios[0].why;
  EXPECT_EQ(ratios[1].why.find("floor"), std::string::npos) << ratios[1].why;
  r.Add(n.floor_live_ratio, "", 0.41);
  const auto live = JudgeTargets(r, n, o, Inputs())[1];
  EXPECT_EQ(live.verdict, Verdict::kNotMet);
  EXPECT_NE(live.why.find("the stack's floor in this run reached 0.41; "), std::string::npos) << live.why;
}

TEST(TargetsTest, TheCpuTargetSaysWhichThreadsSpentIt) {
  const RealisticOptions o = Options();
  const RealisticFigures n(o);
  Report r = AtTheBounds(n);
  r.Add(n.cpu_drain, "us", 8.0);  // median 5.0
  const std::array<double, 5> split = {2.4, 1.45, 1.5, 0.35, 0.05};
  for (std::size_t k = 0; k + 1 < split.size(); ++k) r.Add(n.cpu_drain_by_thread[k], "us", split[k]);
  // One kind missing: no split is quoted rather than a partial one.
  EXPECT_EQ(JudgeTargets(r, n, o, Inputs())[2].why.find("by thread"), std::string::npos);
  r.Add(n.cpu_drain_by_thread.back(), "us", split.back());
  const TargetResult cpu = JudgeTargets(r, n, o, Inputs())[2];
  EXPECT_EQ(cpu.verdict, Verdict::kNotMet);
  EXPECT_EQ(cpu.why.rfind("by thread: engine thread 2.40, committer 1.45, librdkafka 1.50, RocksDB 0.35, other "
                          "threads 0.05 us; ",
                          0),
            0u)
      << cpu.why;
  EXPECT_NE(cpu.why.find("Where a reading's CPU goes"), std::string::npos) << cpu.why;
  // A met target has no reason, split or not.
  r.Add(n.cpu_drain, "us", 1.0);
  r.Add(n.cpu_drain, "us", 1.0);
  r.Add(n.cpu_drain, "us", 1.0);
  EXPECT_EQ(JudgeTargets(r, n, o, Inputs())[2].why, "");
}

// The drain's threads told apart by their names, as alertd, librdkafka and RocksDB name them.
TEST(ThreadKindTest, TheMainThreadIsTheEngineAndTheOthersGoByName) {
  EXPECT_EQ(KindOfThread(100, 100, "alertd"), ThreadKind::kEngine);
  EXPECT_EQ(KindOfThread(100, 101, "alertd"), ThreadKind::kOther);  // the HTTP server's
  EXPECT_EQ(KindOfThread(100, 102, "alertd-commit"), ThreadKind::kCommitter);
  EXPECT_EQ(KindOfThread(100, 103, "rdk:broker1"), ThreadKind::kKafka);
  EXPECT_EQ(KindOfThread(100, 104, "rdk:main"), ThreadKind::kKafka);
  EXPECT_EQ(KindOfThread(100, 105, "rocksdb:low"), ThreadKind::kRocksDb);
  EXPECT_EQ(KindOfThread(100, 106, "rocksdb:high"), ThreadKind::kRocksDb);
}

// This test's own process: a thread that burns CPU under a name shows under its kind, one that burnt
// CPU and ended shows under the rest, and the kinds add up to the process's total.
TEST(ThreadKindTest, ALiveProcessesThreadsAddUpToItsTotal) {
  // `ms` of this thread's own CPU, however busy the machine is.
  const auto burn = [](long ms) {
    timespec used{};
    volatile uint64_t x = 0;
    do {
      for (int i = 0; i < 100000; ++i) x = x + 1;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &used);
    } while (used.tv_sec * 1000 + used.tv_nsec / 1000000 < ms);
  };
  std::thread ended([&] {
    pthread_setname_np(pthread_self(), "alertd-commit");
    burn(200);
  });
  ended.join();
  std::atomic<bool> stop{false}, burnt{false};
  std::thread busy([&] {
    pthread_setname_np(pthread_self(), "rdk:test");
    burn(300);
    burnt = true;
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  while (!burnt) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const CpuByThread cpu = CpuSecondsByThread(getpid());
  const double total = CpuSeconds(getpid());
  stop = true;
  busy.join();
  EXPECT_GE(cpu[static_cast<std::size_t>(ThreadKind::kKafka)], 0.25);
  EXPECT_EQ(cpu[static_cast<std::size_t>(ThreadKind::kCommitter)], 0);  // it ended: no longer listed
  EXPECT_GE(cpu[static_cast<std::size_t>(ThreadKind::kOther)], 0.15);
  double sum = 0;
  for (double s : cpu) sum += s;
  EXPECT_NEAR(sum, total, 0.05);
}

TEST(TargetsTest, FiguresNotMeasuredAreNotJudged) {
  const RealisticOptions o = Options(/*memory_workers=*/0);
  const RealisticFigures n(o);
  const auto results =
      JudgeTargets(Report{}, n, o, {.memory_budget_mib = 512, .cores = 2, .plotted = false, .files = {}});
  std::vector<Verdict> want(8, Verdict::kNotMeasured);
  want.push_back(Verdict::kNotMet);  // no plot
  EXPECT_EQ(VerdictsOf(results), want);
  EXPECT_NE(results[6].why.find("--memory-workers 1000000"), std::string::npos) << results[6].why;
  // A figure recorded as not measured (NaN) is not judged either.
  Report r;
  r.Add(n.cpu_drain, "us", NAN);
  EXPECT_EQ(JudgeTargets(r, n, o, Inputs())[2].verdict, Verdict::kNotMeasured);
}

TEST(TargetsTest, ARunOfAnotherSizeIsNotJudgedAgainstTheTargetsPopulation) {
  RealisticOptions o = Options(/*memory_workers=*/5000);
  o.workers = 2000;
  o.latency_rate = 1000;
  const RealisticFigures n(o);
  const auto results = JudgeTargets(AtTheBounds(n), n, o, Inputs());
  EXPECT_EQ(results[4].verdict, Verdict::kNotMeasured) << results[4].why;  // latency at another rate
  EXPECT_EQ(results[5].verdict, Verdict::kNotMeasured) << results[5].why;  // 2,000 workers, not 20,000
  EXPECT_EQ(results[6].verdict, Verdict::kNotMeasured) << results[6].why;  // 5,000 workers, not a million
  EXPECT_EQ(results[7].verdict, Verdict::kNotMeasured) << results[7].why;
  // The 20,000-worker run over the target at a larger budget says how to run it at the target's.
  const RealisticOptions twenty = Options();
  const RealisticFigures m(twenty);
  Report r = AtTheBounds(m);
  r.Add(m.peak_rss_drain, "MiB", 370);  // median (256 + 370) / 2 = 313
  const TargetResult memory = JudgeTargets(r, m, twenty, Inputs())[5];
  EXPECT_EQ(memory.verdict, Verdict::kNotMet);
  EXPECT_EQ(memory.measured, "313 MiB at --memory-budget 512");
  EXPECT_NE(memory.why.find("--alertd-flag=--memory-budget --alertd-flag=256"), std::string::npos);
}

TEST(TargetsTest, TheBudgetIsTheLastMemoryBudgetFlag) {
  EXPECT_EQ(MemoryBudgetOf({}, 512), 512u);
  EXPECT_EQ(MemoryBudgetOf({"--log-level", "info"}, 512), 512u);
  EXPECT_EQ(MemoryBudgetOf({"--memory-budget", "256"}, 512), 256u);
  EXPECT_EQ(MemoryBudgetOf({"--memory-budget=300", "--no-sync", "--memory-budget", "128"}, 512), 128u);
  EXPECT_EQ(MemoryBudgetOf({"--memory-budget"}, 512), 512u);      // no value: alertd refuses it anyway
  EXPECT_EQ(MemoryBudgetOf({"--memory-budget=lots"}, 512), 512u);  // not a number: likewise
}

TEST(TargetsTest, TheBlockHasOneLineATargetAndAReasonUnderEachOneNotMet) {
  const std::vector<TargetResult> results = {
      {"1a. throughput", "0.13", ">= 0.50", Verdict::kNotMet, "the CPU"},
      {"3. bytes", "RocksDB 1 / 1 B", "each within 2x", Verdict::kMet, ""},
  };
  EXPECT_EQ(FormatTargets(results),
            "1a. throughput  0.13             target >= 0.50         NOT MET\n"
            "    why: the CPU\n"
            "3. bytes        RocksDB 1 / 1 B  target each within 2x  met\n");
}

}  // namespace
}  // namespace alertd::bench
