// The backtest's report in text and JSON (see report.h).
#include "engine/backtest/report.h"

#include <fmt/format.h>

#include <map>

#include "engine/domain/local_time.h"

namespace alertd::backtest {
namespace {

constexpr int64_t kWeekMs = 7 * 24 * 3600 * 1000LL;

domain::UtcOffset OffsetOf(const Period& p) { return {static_cast<int>(p.utc_offset_ms / 60000)}; }

std::string LocalText(int64_t ms, const Period& p, bool with_time) {
  const domain::LocalFields f = domain::ToLocalFields(ms, OffsetOf(p));
  return with_time ? fmt::format("{:04}-{:02}-{:02} {:02}:{:02}", f.year, f.month, f.day, f.hour, f.minute)
                   : fmt::format("{:04}-{:02}-{:02}", f.year, f.month, f.day);
}

std::string OffsetText(const Period& p) {
  const int64_t minutes = p.utc_offset_ms / 60000;
  const int64_t a = minutes < 0 ? -minutes : minutes;
  return fmt::format("{}{:02}:{:02}", minutes < 0 ? '-' : '+', a / 60, a % 60);
}

std::string Signed(int64_t v) { return v > 0 ? "+" + std::to_string(v) : std::to_string(v); }

std::string PerWeek(int64_t difference, int weeks) {
  return weeks > 0 ? fmt::format("{:+.1f}", static_cast<double>(difference) / weeks) : "-";
}

std::string UnitName(const std::string& unit) { return unit.empty() ? "(no profile)" : unit; }

// A row of both sides' counts with the fields that name it.
nlohmann::json PairJson(const Pair& p, nlohmann::json fields = nlohmann::json::object()) {
  fields["baseline"] = p.baseline;
  fields["candidate"] = p.candidate;
  fields["difference"] = p.difference();
  return fields;
}

nlohmann::json FatigueJson(const Fatigue& f) {
  return {{"worker_days", f.worker_days}, {"alerts", f.alerts}, {"mean", f.mean}, {"p95", f.p95}, {"max", f.max}};
}

// Totals over the weeks, by a part of the row's key.
template <typename KeyFn>
auto TotalsBy(const ComparisonResult& c, KeyFn key) {
  std::map<decltype(key(c.by_week.front())), Pair> out;
  for (const WeekRow& row : c.by_week) {
    Pair& p = out[key(row)];
    p.baseline += row.events.baseline;
    p.candidate += row.events.candidate;
  }
  return out;
}

}  // namespace

void PrintReport(const BacktestReport& report, const ReportLabels& labels, std::ostream& out) {
  const ComparisonResult& c = report.comparison;
  const Period& p = c.period;
  out << fmt::format("alertd backtest: events triggered {} .. {} (UTC{}), {} week{}\n", LocalText(p.from_ms, p, true),
                     LocalText(p.to_ms, p, true), OffsetText(p), c.weeks, c.weeks == 1 ? "" : "s");
  out << fmt::format("baseline:  {}\ncandidate: {}\n", labels.baseline, labels.candidate);
  if (!labels.post.empty()) out << fmt::format("counted:   events of workers in high-risk post {} only\n", labels.post);
  out << "records replayed:";
  for (int i = 0; i < kInputs; ++i) out << fmt::format(" {} {}", report.topics[i], report.records[i]);
  out << "\n\n";

  out << fmt::format("Total events: baseline {}, candidate {}, difference {} ({} per week)\n\n", c.total.baseline,
                     c.total.candidate, Signed(c.total.difference()), PerWeek(c.total.difference(), c.weeks));

  out << "By rule and severity\n";
  out << fmt::format("  {:<28} {:<9} {:>9} {:>9} {:>7} {:>9}\n", "rule", "severity", "baseline", "candidate", "diff",
                     "diff/week");
  if (!c.by_week.empty()) {
    for (const auto& [key, pair] : TotalsBy(c, [](const WeekRow& r) { return std::make_pair(r.rule, r.severity); })) {
      out << fmt::format("  {:<28} {:<9} {:>9} {:>9} {:>7} {:>9}\n", key.first, key.second, pair.baseline,
                         pair.candidate, Signed(pair.difference()), PerWeek(pair.difference(), c.weeks));
    }
    out << "\nBy rule and state (OPEN: a new episode; ESCALATED, RENOTIFIED: a later page of one)\n";
    out << fmt::format("  {:<28} {:<10} {:>9} {:>9} {:>7} {:>9}\n", "rule", "state", "baseline", "candidate", "diff",
                       "diff/week");
    for (const StateRow& row : c.by_state) {
      out << fmt::format("  {:<28} {:<10} {:>9} {:>9} {:>7} {:>9}\n", row.rule, row.state, row.events.baseline,
                         row.events.candidate, Signed(row.events.difference()), PerWeek(row.events.difference(), c.weeks));
    }
    out << "\nBy unit\n";
    out << fmt::format("  {:<14} {:>9} {:>9} {:>7} {:>9}\n", "unit", "baseline", "candidate", "diff", "diff/week");
    for (const auto& [unit, pair] : TotalsBy(c, [](const WeekRow& r) { return r.unit; })) {
      out << fmt::format("  {:<14} {:>9} {:>9} {:>7} {:>9}\n", UnitName(unit), pair.baseline, pair.candidate,
                         Signed(pair.difference()), PerWeek(pair.difference(), c.weeks));
    }
  }
  out << "\nBy week, rule, severity and unit\n";
  out << fmt::format("  {:<4} {:<10} {:<28} {:<9} {:<14} {:>9} {:>9} {:>7}\n", "week", "starts", "rule", "severity",
                     "unit", "baseline", "candidate", "diff");
  for (const WeekRow& row : c.by_week) {
    out << fmt::format("  {:<4} {:<10} {:<28} {:<9} {:<14} {:>9} {:>9} {:>7}\n", row.week + 1,
                       LocalText(p.from_ms + row.week * kWeekMs, p, false), row.rule, row.severity, UnitName(row.unit),
                       row.events.baseline, row.events.candidate, Signed(row.events.difference()));
  }

  out << fmt::format("\nWorkers whose escalations change: {}", c.changed_workers);
  if (c.changed.size() < c.changed_workers) out << fmt::format(" (the first {} by id)", c.changed.size());
  out << "\n";
  if (!c.changed.empty()) {
    out << fmt::format("  {:<14} {:<14} {:>9} {:>9} {:>7}\n", "worker", "unit", "baseline", "candidate", "diff");
    for (const WorkerChange& w : c.changed) {
      out << fmt::format("  {:<14} {:<14} {:>9} {:>9} {:>7}\n", w.worker, UnitName(w.unit), w.events.baseline,
                         w.events.candidate, Signed(w.events.difference()));
    }
  }

  out << "\nAlerts per worker per day (worker-days with any alert, local days of emitted_at)\n";
  out << fmt::format("  {:<10} {:>11} {:>7} {:>6} {:>4} {:>4}\n", "policy", "worker-days", "alerts", "mean", "p95",
                     "max");
  for (int side = 0; side < kSides; ++side) {
    const Fatigue& f = c.fatigue[static_cast<std::size_t>(side)];
    out << fmt::format("  {:<10} {:>11} {:>7} {:>6.2f} {:>4} {:>4}\n", side == 0 ? "baseline" : "candidate",
                       f.worker_days, f.alerts, f.mean, f.p95, f.max);
  }

  out << fmt::format("\nReferrals: baseline {}, candidate {}, difference {}\n", c.referrals_total.baseline,
                     c.referrals_total.candidate, Signed(c.referrals_total.difference()));
  for (const ReferralRow& r : c.referrals) {
    out << fmt::format("  {:<28} {:<16} {:>9} {:>9} {:>7}\n", r.rule, r.urgency, r.referrals.baseline,
                       r.referrals.candidate, Signed(r.referrals.difference()));
  }

  uint64_t bad = 0;
  for (const DeadLetterRow& d : report.dead_letters) bad += d.records.baseline;
  out << fmt::format("\nBad records (dead letters, never a crash): {}\n", bad);
  for (const DeadLetterRow& d : report.dead_letters) {
    out << fmt::format("  {:<20} {:<22} {:>9} {:>9}\n", d.topic, d.reason, d.records.baseline, d.records.candidate);
  }
  out << fmt::format("\nDeadlines still pending after the last record of their partition (never fired): baseline {}, "
                     "candidate {}\n",
                     report.pending_timers.baseline, report.pending_timers.candidate);
}

nlohmann::json ReportJson(const BacktestReport& report, const ReportLabels& labels) {
  const ComparisonResult& c = report.comparison;
  const Period& p = c.period;
  nlohmann::json j;
  j["period"] = {{"from_ms", p.from_ms},
                 {"to_ms", p.to_ms},
                 {"from", LocalText(p.from_ms, p, true)},
                 {"to", LocalText(p.to_ms, p, true)},
                 {"utc_offset", OffsetText(p)},
                 {"weeks", c.weeks}};
  j["policies"] = {{"baseline", labels.baseline}, {"candidate", labels.candidate}};
  j["post"] = labels.post.empty() ? nlohmann::json() : nlohmann::json(labels.post);
  nlohmann::json records = nlohmann::json::object();
  for (int i = 0; i < kInputs; ++i) records[report.topics[i]] = report.records[i];
  j["records_replayed"] = records;
  j["total"] = PairJson(c.total);
  nlohmann::json weeks = nlohmann::json::array();
  for (const WeekRow& row : c.by_week) {
    weeks.push_back(PairJson(row.events, {{"week", row.week + 1},
                                          {"starts", LocalText(p.from_ms + row.week * kWeekMs, p, false)},
                                          {"rule", row.rule},
                                          {"severity", row.severity},
                                          {"unit", row.unit}}));
  }
  j["by_week"] = std::move(weeks);
  nlohmann::json states = nlohmann::json::array();
  for (const StateRow& row : c.by_state) states.push_back(PairJson(row.events, {{"rule", row.rule}, {"state", row.state}}));
  j["by_state"] = std::move(states);
  nlohmann::json changed = nlohmann::json::array();
  for (const WorkerChange& w : c.changed) changed.push_back(PairJson(w.events, {{"worker", w.worker}, {"unit", w.unit}}));
  j["changed_workers"] = {{"count", c.changed_workers}, {"first", std::move(changed)}};
  j["alerts_per_worker_day"] = {{"baseline", FatigueJson(c.fatigue[0])}, {"candidate", FatigueJson(c.fatigue[1])}};
  nlohmann::json referrals = nlohmann::json::array();
  for (const ReferralRow& r : c.referrals) {
    referrals.push_back(PairJson(r.referrals, {{"rule", r.rule}, {"urgency", r.urgency}}));
  }
  j["referrals"] = {{"total", PairJson(c.referrals_total)}, {"by_rule", std::move(referrals)}};
  nlohmann::json dead = nlohmann::json::array();
  for (const DeadLetterRow& d : report.dead_letters) {
    dead.push_back(PairJson(d.records, {{"topic", d.topic}, {"reason", d.reason}}));
  }
  j["dead_letters"] = std::move(dead);
  j["pending_timers"] = PairJson(report.pending_timers);
  return j;
}

}  // namespace alertd::backtest
