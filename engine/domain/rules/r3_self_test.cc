// R3 weekly self-test: an enrolled worker without a blood-pressure reading for the interval is
// reminded, then the health manager and the unit supervisor are told; a newer reading resolves it.
#include <algorithm>
#include <string>
#include <vector>

#include "engine/domain/reason_words.h"
#include "engine/domain/rules/rules.h"

namespace alertd::domain {
namespace {

// `p` is the worker's effective policy: a (sensible) self_test_interval_days is already in it.
bool EnrolledInSelfTests(const Policy& p, const WorkerState& s) {
  if (s.profile && !s.profile->active) return false;
  if (FindOpen(s, Rule::kR2SustainedHypertension) != nullptr) return true;
  if (!s.profile) return false;
  return s.profile->diagnosed_hypertension_grade >= p.r3_min_diagnosed_grade ||
         s.profile->policy.self_test_interval_days.value_or(0) > 0 || s.profile->policy.self_test_enrolled;
}

// Where the weekly clock starts: the newest reading's event time, read as processing time (a device
// clock is as good a clock as any for a 7-day deadline), or enrolment if that is later.
int64_t SelfTestBasisMs(const WorkerState& s) {
  int64_t basis = s.self_test_since ? s.self_test_since->ms : 0;
  if (s.newest_bp_at) basis = std::max(basis, s.newest_bp_at->ms);
  return basis;
}

std::string EnrolmentWords(const Policy& p, const WorkerState& s) {
  if (s.profile && s.profile->diagnosed_hypertension_grade >= p.r3_min_diagnosed_grade) {
    return "Grade-" + std::to_string(s.profile->diagnosed_hypertension_grade) + " hypertension";
  }
  if (FindOpen(s, Rule::kR2SustainedHypertension) != nullptr) return "Sustained hypertension";
  return "Individual policy (self-test every " + DurationText(p.self_test_interval_ms) + ")";
}

}  // namespace

// A reading newer than the one the missed deadline was counted from resolves the reminder. One measured
// before the deadline proves the deadline was met: the escalation was wrong and is retracted. (R3
// episodes keep the deadline in opened_at and the clock's start in last_trigger_at.)
void ApplyR3(const BpInput& in, const RuleContext& c) {
  const BpSample& sample = in.sample;
  const Policy& policy = c.policy;
  const OpenEpisode* r3 = FindOpen(c.state, Rule::kR3SelfTestMissed);
  if (r3 == nullptr || sample.measured_at <= r3->last_trigger_at) return;
  const EventTime deadline = r3->opened_at;
  std::string reason =
      sample.measured_at < deadline
          ? "Reading measured on time at " + LocalTimeText(sample.measured_at, policy) + " (due " +
                LocalTimeText(deadline, policy) + "), uploaded late: the missed self-test escalation is retracted"
          : "Self-test received: " + BpText(sample) + " at " + LocalTimeText(sample.measured_at, policy);
  c.emit.Resolve(*r3, sample.measured_at, std::nullopt, std::move(reason), {sample});
}

void SyncSelfTest(const RuleContext& c) {
  WorkerState& s = c.state;
  OpenEpisode* r3 = FindOpen(s, Rule::kR3SelfTestMissed);
  if (!EnrolledInSelfTests(c.policy, s)) {
    s.self_test_since.reset();
    s.self_test_due.reset();
    if (r3 != nullptr) {
      c.emit.Resolve(*r3, r3->last_trigger_at, std::nullopt,
                     "No longer enrolled in weekly self-tests: the reminder is withdrawn", r3->evidence);
    }
    return;
  }
  if (!s.self_test_since) s.self_test_since = c.now;
  if (r3 != nullptr) {
    s.self_test_due.reset();  // the open episode's own ladder runs until a reading resolves it
    return;
  }
  s.self_test_due = ProcessingTime{SelfTestBasisMs(s) + c.policy.self_test_interval_ms};
}

bool OpenMissedSelfTest(const RuleContext& c) {
  WorkerState& state = c.state;
  if (!state.self_test_due || c.now < *state.self_test_due) return false;
  const Policy& policy = c.policy;
  const ProcessingTime due = *state.self_test_due;
  const int64_t basis = SelfTestBasisMs(state);
  std::vector<BpSample> evidence;
  if (!state.bp_window.empty()) evidence.push_back(state.bp_window.back());
  const std::string since = state.newest_bp_at && state.newest_bp_at->ms == basis
                                ? "last reading " + LocalTimeText(*state.newest_bp_at, policy)
                                : "enrolled " + LocalTimeText(EventTime{basis}, policy);
  state.self_test_due.reset();
  OpenEpisode& e = c.emit.Open(Rule::kR3SelfTestMissed, Severity::kHigh, EscalationLevel::kWorker, EventTime{due.ms},
                               std::move(evidence), std::nullopt,
                               EnrolmentWords(policy, state) + ", no self-test for " + DurationText(due.ms - basis) +
                                   " (" + since + "): reminder to the worker");
  e.last_trigger_at = EventTime{basis};
  e.next_deadline = NextClimb(policy, e, due);  // the ladder counts from the due time, not from now
  return true;
}

std::string MissedSelfTestClimbWords(const OpenEpisode& e, ProcessingTime from, ProcessingTime now) {
  const int64_t days = (now.ms - e.last_trigger_at.ms) / kDayMs;
  return "No self-test for " + std::to_string(days) + (days == 1 ? " day" : " days") + "; reminder sent " +
         DurationText(from.ms - e.opened_at.ms) + " ago: " +
         (e.level == EscalationLevel::kUnitSupervisor ? "escalated to the unit supervisor"
                                                      : "follow-up by the health manager");
}

}  // namespace alertd::domain
