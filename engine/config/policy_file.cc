// Reading, checking and printing the global policy file; the schema is the list kFields below.
#include "engine/config/policy_file.h"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"

namespace alertd::config {
namespace {

using domain::BpCategory;
using domain::kDayMs;
using domain::kHourMs;
using domain::kMinuteMs;
using domain::kSecondMs;
using domain::Policy;

// Every key the file may set, in schema order: the allowed keys of each mapping (and the order
// error messages list them in) derive from this list, so it is the one place that names them.
constexpr auto kFields = std::to_array<std::string_view>({
    "blood_pressure.high_normal.systolic",
    "blood_pressure.high_normal.diastolic",
    "blood_pressure.grade_1.systolic",
    "blood_pressure.grade_1.diastolic",
    "blood_pressure.grade_2.systolic",
    "blood_pressure.grade_2.diastolic",
    "blood_pressure.grade_3.systolic",
    "blood_pressure.grade_3.diastolic",
    "blood_pressure.hypotension_below.systolic",
    "blood_pressure.hypotension_below.diastolic",
    "glucose.severe_hypo_below",
    "glucose.hypo_below",
    "glucose.fasting_high",
    "glucose.random_high",
    "plausible.systolic_mmhg.min",
    "plausible.systolic_mmhg.max",
    "plausible.diastolic_mmhg.min",
    "plausible.diastolic_mmhg.max",
    "plausible.pulse_bpm.min",
    "plausible.pulse_bpm.max",
    "plausible.glucose_mmol_per_l.min",
    "plausible.glucose_mmol_per_l.max",
    "plausible.weight_kg.min",
    "plausible.weight_kg.max",
    "plausible.height_cm.min",
    "plausible.height_cm.max",
    "time.max_future_skew",
    "time.retention_horizon",
    "time.day_offset",
    "rules.r1_critical_bp.at_or_above.systolic",
    "rules.r1_critical_bp.at_or_above.diastolic",
    "rules.r1_critical_bp.ack_timeout",
    "rules.r2_sustained_hypertension.window",
    "rules.r2_sustained_hypertension.min_readings",
    "rules.r2_sustained_hypertension.min_days",
    "rules.r2_sustained_hypertension.min_category",
    "rules.r2_sustained_hypertension.resolve_margin",
    "rules.r2_sustained_hypertension.ack_timeout",
    "rules.r3_self_test_missed.min_diagnosed_grade",
    "rules.r3_self_test_missed.interval",
    "rules.r3_self_test_missed.level_2_after",
    "rules.r3_self_test_missed.level_3_after",
    "rules.r4_pre_shift_fitness.check_within",
    "rules.r4_pre_shift_fitness.unfit_min_category",
    "rules.r4_pre_shift_fitness.hypotension_unfit",
    "rules.r4_pre_shift_fitness.retest_advice",
    "rules.r4_pre_shift_fitness.ack_timeout",
    "rules.r5_glucose.high_window",
    "rules.r5_glucose.high_min_readings",
    "rules.r5_glucose.severe_hypo_ack_timeout",
    "rules.r5_glucose.high_ack_timeout",
    "rules.r6_focus_tracking.abnormal_at_or_above.systolic",
    "rules.r6_focus_tracking.abnormal_at_or_above.diastolic",
    "rules.r6_focus_tracking.ack_timeout",
    "escalation.renotify_interval",
    "limits.max_window_samples",
    "limits.max_evidence",
    "limits.max_glucose_samples",
});

// Caps that keep a typo from becoming an outage: well beyond any clinical setting, far from overflow.
constexpr int64_t kMaxMmhgOrBpm = 400;             // above any reading a body can produce
constexpr int64_t kMaxDurationMs = 3650 * kDayMs;  // ten years
constexpr int64_t kMaxWindowSamples = 10000;       // per worker, times tens of thousands of workers
constexpr int64_t kMaxEvidence = 100;              // quoted in every escalation message
constexpr int64_t kMaxGlucoseSamples = 10000;      // per worker, like kMaxWindowSamples
constexpr double kMaxMmolPerL = 200;               // above any glucose a body can produce
constexpr size_t kMaxAdviceChars = 200;            // one line of a notification
constexpr int kMinDayOffsetMinutes = -12 * 60;     // UTC-12:00 .. UTC+14:00: every zone on Earth
constexpr int kMaxDayOffsetMinutes = 14 * 60;

constexpr std::array<BpCategory, 5> kCategories = {BpCategory::kNormal, BpCategory::kHighNormal, BpCategory::kGrade1,
                                                   BpCategory::kGrade2, BpCategory::kGrade3};

struct DurationUnit {
  std::string_view suffix;
  int64_t ms;
};
// Largest first: printing picks the largest unit that divides a duration exactly.
constexpr std::array<DurationUnit, 5> kDurationUnits = {
    {{"d", kDayMs}, {"h", kHourMs}, {"m", kMinuteMs}, {"s", kSecondMs}, {"ms", 1}}};

// The rules' ack timeouts: how long an unacknowledged episode waits before it climbs a level. One row
// per timeout drives the reader, the printer and the per-worker override (IndividualPolicy's
// ack_timeout_minutes replaces every row).
struct AckTimeout {
  std::string_view path;
  int64_t Policy::*ms;
  std::string_view help;
};
constexpr std::string_view kClimbsToSupervisor = "health manager -> unit supervisor";
constexpr std::array<AckTimeout, 6> kAckTimeouts = {{
    {"rules.r1_critical_bp.ack_timeout", &Policy::r1_ack_timeout_ms, kClimbsToSupervisor},
    {"rules.r2_sustained_hypertension.ack_timeout", &Policy::r2_ack_timeout_ms, kClimbsToSupervisor},
    {"rules.r4_pre_shift_fitness.ack_timeout", &Policy::r4_ack_timeout_ms, kClimbsToSupervisor},
    {"rules.r5_glucose.severe_hypo_ack_timeout", &Policy::r5_hypo_ack_timeout_ms, kClimbsToSupervisor},
    {"rules.r5_glucose.high_ack_timeout", &Policy::r5_high_ack_timeout_ms, kClimbsToSupervisor},
    {"rules.r6_focus_tracking.ack_timeout", &Policy::r6_ack_timeout_ms, kClimbsToSupervisor},
}};

// Shortest text that reads back to exactly `v`, so printed policies round-trip.
std::string DecimalText(double v) {
  std::array<char, 32> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return ec == std::errc{} ? std::string(buf.data(), end) : std::to_string(v);
}

// Glucose reads as mmol/L with a decimal point even when whole ("7.0", as clinicians write it).
std::string MmolText(double v) {
  std::string text = DecimalText(v);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string DurationText(int64_t ms) {
  if (ms == 0) return "0s";
  for (const DurationUnit& u : kDurationUnits) {
    if (ms % u.ms == 0) return fmt::format("{}{}", ms / u.ms, u.suffix);
  }
  return fmt::format("{}ms", ms);  // unreachable: every whole number of ms divides by 1
}

std::string DayOffsetText(int minutes) {
  const int magnitude = std::abs(minutes);
  std::array<char, 16> buf{};
  std::snprintf(buf.data(), buf.size(), "%c%02d:%02d", minutes < 0 ? '-' : '+', magnitude / 60, magnitude % 60);
  return buf.data();
}

std::optional<int64_t> ParseWholeNumber(std::string_view s) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);  // YAML allows "+120"
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> ParseDecimal(std::string_view s) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// "<whole number><unit>"; no sign, no fraction: a half-hour is 30m, and exact values round-trip.
std::optional<int64_t> ParseDuration(std::string_view s) {
  const auto digits_end = std::find_if(s.begin(), s.end(), [](char c) { return c < '0' || c > '9'; });
  const std::string_view number = s.substr(0, static_cast<size_t>(digits_end - s.begin()));
  const std::string_view suffix = s.substr(number.size());
  const auto unit = std::find_if(kDurationUnits.begin(), kDurationUnits.end(),
                                 [&](const DurationUnit& u) { return u.suffix == suffix; });
  if (number.empty() || unit == kDurationUnits.end()) return std::nullopt;
  const std::optional<int64_t> count = ParseWholeNumber(number);
  if (!count || *count > std::numeric_limits<int64_t>::max() / unit->ms) return std::nullopt;
  return *count * unit->ms;
}

// "+08:00" / "-05:30" to minutes east of UTC.
std::optional<int> ParseDayOffset(std::string_view s) {
  auto digit = [&](size_t i) { return s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1; };
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') return std::nullopt;
  const std::array<int, 4> d = {digit(1), digit(2), digit(4), digit(5)};
  if (std::any_of(d.begin(), d.end(), [](int x) { return x < 0; })) return std::nullopt;
  const int hours = d[0] * 10 + d[1];
  const int minutes = d[2] * 10 + d[3];
  if (minutes >= 60) return std::nullopt;
  const int total = hours * 60 + minutes;
  return s[0] == '-' ? -total : total;
}

// How a value the file gave reads in an error message.
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "nothing";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      break;
  }
  std::string text = node.Scalar();
  constexpr size_t kShown = 40;  // enough to recognise the value; a pasted paragraph is cut
  if (text.size() > kShown) text = text.substr(0, kShown) + "...";
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '\n') {
      quoted += "\\n";  // a multi-line value stays on the message's one line
      continue;
    }
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

// A quoted scalar ("120") is a string in YAML: numbers must be written bare, so a value that only
// looks numeric is not silently accepted where the author may have meant something else.
bool IsString(const YAML::Node& node) { return node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str"; }

std::string JoinKeys(const std::vector<std::string_view>& keys) { return fmt::format("{}", fmt::join(keys, ", ")); }

// The keys allowed in the mapping at `prefix` ("" = the top level), in schema order.
std::vector<std::string_view> ChildKeys(std::string_view prefix) {
  std::vector<std::string_view> keys;
  for (std::string_view field : kFields) {
    if (!prefix.empty()) {
      if (field.size() <= prefix.size() || !field.starts_with(prefix) || field[prefix.size()] != '.') continue;
      field.remove_prefix(prefix.size() + 1);
    }
    const std::string_view key = field.substr(0, field.find('.'));
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  }
  return keys;
}

bool IsField(std::string_view path) { return std::find(kFields.begin(), kFields.end(), path) != kFields.end(); }

// One side of a comparison between two settings: its field, its value, and how the value reads.
struct Setting {
  std::string_view path;
  double value;
  std::string text;
};

// The file's first YAML document, and where a second one starts if the file has one.
struct FirstDocument {
  YAML::Node root;                   // Null for an empty file
  std::optional<YAML::Mark> second;  // set: the file holds more than one document
};

// Remembers where the first node of the document being parsed is.
class FirstNodeMark : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> mark;

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { Note(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { Note(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string&) override { Note(m); }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    Note(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    Note(m);
  }
  void OnMapEnd() override {}

 private:
  void Note(const YAML::Mark& m) {
    if (!mark) mark = m;
  }
};

// Parses no further than the second document: yaml-cpp 0.7's LoadAll never returns on some malformed
// files (a stray ',' after a value, e.g. `'',`: it appends null documents until memory runs out; fixed
// upstream by jbeder/yaml-cpp#1319), and a policy file must be refused, not hang the daemon's start.
// Throws YAML::Exception, as LoadAll does.
FirstDocument LoadFirstDocument(const std::string& text) {
  FirstDocument out{YAML::Load(text), std::nullopt};
  std::istringstream in(text);
  YAML::Parser parser(in);
  FirstNodeMark first;
  parser.HandleNextDocument(first);
  FirstNodeMark second;
  if (parser.HandleNextDocument(second)) out.second = second.mark.value_or(YAML::Mark::null_mark());
  return out;
}

// Checks a policy file in two passes: Collect walks the YAML structure (unknown keys, duplicates,
// sections that are not mappings) and remembers each field's node; Read then converts the fields in
// an order where every bound a field depends on is already known.
class PolicyReader {
 public:
  explicit PolicyReader(std::string_view source) : source_(source) {}

  absl::StatusOr<Policy> Parse(std::string_view text) {
    FirstDocument document;
    try {
      document = LoadFirstDocument(std::string(text));
    } catch (const YAML::Exception& e) {
      return Fail(e.mark, "", fmt::format("invalid YAML: {}", e.msg));
    }
    const std::string sections = JoinKeys(ChildKeys(""));
    if (document.second) return Fail(*document.second, "", "expected one YAML document, found a second one here");
    if (document.root.IsNull()) {
      return absl::InvalidArgumentError(
          fmt::format("{}: the policy file is empty; expected a mapping with sections {}", source_, sections));
    }
    const YAML::Node& root = document.root;
    if (!root.IsMap()) {
      return Fail(root.Mark(), "",
                  fmt::format("expected a mapping with sections {}, got {}", sections, Describe(root)));
    }
    if (absl::Status st = Collect(root, ""); !st.ok()) return st;
    Policy policy;
    Read(policy);
    if (!error_.ok()) return error_;
    // kFields and Read must name the same fields; a field the schema accepts but Read skips would
    // be silently ignored, so it fails loudly here (and in every test that sets it).
    for (const auto& [path, value] : values_) {
      if (!read_.contains(path)) return Fail(value.mark, path, "accepted by the schema but never read (a bug)");
    }
    return policy;
  }

 private:
  // Where a field's value is; an empty value has no position of its own, so its key's is used.
  struct Located {
    YAML::Node node;
    YAML::Mark mark;
  };

  absl::Status Fail(const YAML::Mark& mark, std::string_view field, std::string_view what) const {
    // yaml-cpp counts from 0; editors count from 1.
    const int line = mark.is_null() ? 1 : mark.line + 1;
    const int column = mark.is_null() ? 1 : mark.column + 1;
    return absl::InvalidArgumentError(
        fmt::format("{}:{}:{}: {}{}{}", source_, line, column, field, field.empty() ? "" : ": ", what));
  }

  // Read's checks run in sequence and the first refusal is the one reported: later checks may rely
  // on the values earlier ones accepted, so each is a no-op once one has failed.
  void Refuse(const YAML::Mark& mark, std::string_view field, std::string_view what) {
    if (error_.ok()) error_ = Fail(mark, field, what);
  }

  absl::Status Collect(const YAML::Node& mapping, const std::string& prefix) {
    const std::vector<std::string_view> allowed = ChildKeys(prefix);
    // By value: yaml-cpp's iterators yield temporaries, so `it->first` must not be bound to a reference.
    for (const auto& entry : mapping) {
      const YAML::Node& key = entry.first;
      const YAML::Node& value = entry.second;
      if (!key.IsScalar()) {
        return Fail(key.Mark(), prefix, fmt::format("expected a field name, got {}", Describe(key)));
      }
      const std::string path = prefix.empty() ? key.Scalar() : fmt::format("{}.{}", prefix, key.Scalar());
      if (std::find(allowed.begin(), allowed.end(), key.Scalar()) == allowed.end()) {
        return Fail(key.Mark(), path, fmt::format("unknown field; allowed here: {}", JoinKeys(allowed)));
      }
      // yaml-cpp keeps both entries of a repeated key; the second must not silently win or lose.
      if (auto [first, inserted] = keys_seen_.emplace(path, key.Mark()); !inserted) {
        return Fail(key.Mark(), path, fmt::format("set twice (first on line {})", first->second.line + 1));
      }
      const YAML::Mark where = value.IsNull() || value.Mark().is_null() ? key.Mark() : value.Mark();
      if (IsField(path)) {
        values_.emplace(path, Located{value, where});
        continue;
      }
      // A section whose keys are all commented out is an empty section: every default applies.
      if (value.IsNull()) continue;
      if (!value.IsMap()) {
        return Fail(where, path,
                    fmt::format("expected a mapping with keys {}, got {}", JoinKeys(ChildKeys(path)), Describe(value)));
      }
      if (absl::Status st = Collect(value, path); !st.ok()) return st;
    }
    return absl::OkStatus();
  }

  bool IsSet(std::string_view path) const { return values_.find(path) != values_.end(); }

  // The field's value when the file sets it and no earlier check failed.
  const Located* Find(std::string_view path) {
    if (!error_.ok()) return nullptr;
    read_.emplace(path);
    const auto it = values_.find(path);
    return it == values_.end() ? nullptr : &it->second;
  }

  // The scalar text of `v`, or nullopt after refusing it as not `expected`.
  std::optional<std::string> Scalar(const Located& v, std::string_view path, std::string_view expected, bool bare) {
    if (!v.node.IsScalar()) {
      Refuse(v.mark, path, fmt::format("expected {}, got {}", expected, Describe(v.node)));
      return std::nullopt;
    }
    if (bare && IsString(v.node)) {
      Refuse(v.mark, path,
             fmt::format("expected {}, got the quoted string {} (write numbers without quotes)", expected,
                         Describe(v.node)));
      return std::nullopt;
    }
    return v.node.Scalar();
  }

  template <typename T>
  void WholeNumber(std::string_view path, std::string_view unit, int64_t lo, int64_t hi, T& out) {
    const Located* v = Find(path);
    if (v == nullptr) return;
    const std::string expected = fmt::format("a whole number of {} between {} and {}", unit, lo, hi);
    const std::optional<std::string> text = Scalar(*v, path, expected, /*bare=*/true);
    if (!text) return;
    const std::optional<int64_t> n = ParseWholeNumber(*text);
    if (!n) return Refuse(v->mark, path, fmt::format("expected {}, got {}", expected, Describe(v->node)));
    if (*n < lo || *n > hi) return Refuse(v->mark, path, fmt::format("expected {}, got {}", expected, *n));
    out = static_cast<T>(*n);
  }

  void Decimal(std::string_view path, std::string_view unit, double hi, double& out) {
    const Located* v = Find(path);
    if (v == nullptr) return;
    const std::string expected = fmt::format("a number of {} above 0 and at most {}", unit, DecimalText(hi));
    const std::optional<std::string> text = Scalar(*v, path, expected, /*bare=*/true);
    if (!text) return;
    const std::optional<double> x = ParseDecimal(*text);
    if (!x) return Refuse(v->mark, path, fmt::format("expected {}, got {}", expected, Describe(v->node)));
    if (*x <= 0 || *x > hi) return Refuse(v->mark, path, fmt::format("expected {}, got {}", expected, DecimalText(*x)));
    out = *x;
  }

  void Duration(std::string_view path, int64_t lo_ms, int64_t& out) {
    const Located* v = Find(path);
    if (v == nullptr) return;
    const std::string expected =
        fmt::format("a duration between {} and {} written <whole number><unit>, unit one of ms s m h d (e.g. 10m, 7d)",
                    DurationText(lo_ms), DurationText(kMaxDurationMs));
    const std::optional<std::string> text = Scalar(*v, path, expected, /*bare=*/false);
    if (!text) return;
    const std::optional<int64_t> ms = ParseDuration(*text);
    if (!ms || *ms < lo_ms || *ms > kMaxDurationMs) {
      return Refuse(v->mark, path, fmt::format("expected {}, got {}", expected, Describe(v->node)));
    }
    out = *ms;
  }

  void DayOffset(std::string_view path, int& out_minutes) {
    const Located* v = Find(path);
    if (v == nullptr) return;
    const std::string expected = fmt::format("a UTC offset written +HH:MM or -HH:MM between {} and {}",
                                             DayOffsetText(kMinDayOffsetMinutes), DayOffsetText(kMaxDayOffsetMinutes));
    const std::optional<std::string> text = Scalar(*v, path, expected, /*bare=*/false);
    if (!text) return;
    const std::optional<int> minutes = ParseDayOffset(*text);
    if (!minutes || *minutes < kMinDayOffsetMinutes || *minutes > kMaxDayOffsetMinutes) {
      return Refuse(v->mark, path, fmt::format("expected {}, got {}", expected, Describe(v->node)));
    }
    out_minutes = *minutes;
  }

  // A category by name, `lowest` or above (a lower one would make every reading count).
  void Category(std::string_view path, BpCategory lowest, BpCategory& out) {
    const Located* v = Find(path);
    if (v == nullptr) return;
    std::vector<std::string_view> names;
    for (BpCategory c : kCategories) {
      if (c >= lowest) names.emplace_back(domain::Name(c));
    }
    const std::string expected = fmt::format("a blood-pressure category, one of {}", JoinKeys(names));
    const std::optional<std::string> text = Scalar(*v, path, expected, /*bare=*/false);
    if (!text) return;
    for (BpCategory c : kCategories) {
      if (c >= lowest && *text == domain::Name(c)) {
        out = c;
        return;
      }
    }
    Refuse(v->mark, path, fmt::format("expected {}, got {}", expected, Describe(v->node)));
  }

  // YAML 1.2's two booleans, unquoted: "yes", "on" or "1" read differently across YAML versions.
  void Boolean(std::string_view path, bool& out) {
    const Located* v = Find(path);
    if (v == nullptr) return;
    constexpr std::string_view kExpected = "true or false";
    const std::optional<std::string> text = Scalar(*v, path, kExpected, /*bare=*/false);
    if (!text) return;
    if (IsString(v->node) || (*text != "true" && *text != "false")) {
      return Refuse(v->mark, path, fmt::format("expected {} (unquoted), got {}", kExpected, Describe(v->node)));
    }
    out = *text == "true";
  }

  // One line of text for people: it is quoted in notifications, so no line breaks or control characters.
  void Text(std::string_view path, std::string& out) {
    const Located* v = Find(path);
    if (v == nullptr) return;
    const std::string expected =
        fmt::format("one line of text of 1 to {} characters, without control characters", kMaxAdviceChars);
    const std::optional<std::string> text = Scalar(*v, path, expected, /*bare=*/false);
    if (!text) return;
    const bool control = std::any_of(text->begin(), text->end(), [](char c) {
      const auto byte = static_cast<unsigned char>(c);
      return byte < 0x20 || byte == 0x7f;
    });
    const bool blank = std::all_of(text->begin(), text->end(), [](char c) { return c == ' '; });
    if (blank || control || text->size() > kMaxAdviceChars) {
      return Refuse(v->mark, path, fmt::format("expected {}, got {}", expected, Describe(v->node)));
    }
    out = *text;
  }

  // Refuses unless low < high (or low <= high when !strict). A default alone is never wrong, so the
  // error names a field the file sets: `high` if it does, else `low`.
  void Ordered(const Setting& low, const Setting& high, bool strict) {
    if (!error_.ok() || (strict ? low.value < high.value : low.value <= high.value)) return;
    auto other = [&](const Setting& s) {
      return fmt::format("{} ({}{})", s.path, s.text, IsSet(s.path) ? "" : ", the default");
    };
    if (const Located* h = Find(high.path)) {
      return Refuse(h->mark, high.path,
                    fmt::format("expected {}{}, got {}", strict ? "above " : "at least ", other(low), high.text));
    }
    const Located* l = Find(low.path);
    Refuse(l != nullptr ? l->mark : YAML::Mark::null_mark(), low.path,
           fmt::format("expected {}{}, got {}", strict ? "below " : "at most ", other(high), low.text));
  }

  static Setting Count(std::string_view path, int64_t v) { return {path, static_cast<double>(v), std::to_string(v)}; }
  static Setting Amount(std::string_view path, double v) { return {path, v, DecimalText(v)}; }
  static Setting Span(std::string_view path, int64_t ms) { return {path, static_cast<double>(ms), DurationText(ms)}; }

  void Read(Policy& p) {
    // Plausible ranges first: the blood-pressure thresholds must lie inside them.
    domain::PlausibleRanges& r = p.plausible;
    struct WholeRange {
      std::string_view min_path, max_path, unit;
      int *min, *max;
    };
    for (const WholeRange& w : {WholeRange{"plausible.systolic_mmhg.min", "plausible.systolic_mmhg.max", "mmHg",
                                           &r.systolic_min, &r.systolic_max},
                                WholeRange{"plausible.diastolic_mmhg.min", "plausible.diastolic_mmhg.max", "mmHg",
                                           &r.diastolic_min, &r.diastolic_max},
                                WholeRange{"plausible.pulse_bpm.min", "plausible.pulse_bpm.max", "beats per minute",
                                           &r.pulse_min, &r.pulse_max}}) {
      WholeNumber(w.min_path, w.unit, 1, kMaxMmhgOrBpm, *w.min);
      WholeNumber(w.max_path, w.unit, 1, kMaxMmhgOrBpm, *w.max);
      Ordered(Count(w.min_path, *w.min), Count(w.max_path, *w.max), /*strict=*/true);
    }
    struct DecimalRange {
      std::string_view min_path, max_path, unit;
      double hi;
      double *min, *max;
    };
    for (const DecimalRange& d :
         {DecimalRange{"plausible.glucose_mmol_per_l.min", "plausible.glucose_mmol_per_l.max", "mmol/L", 200,
                       &r.glucose_min, &r.glucose_max},
          DecimalRange{"plausible.weight_kg.min", "plausible.weight_kg.max", "kg", 1000, &r.weight_min, &r.weight_max},
          DecimalRange{"plausible.height_cm.min", "plausible.height_cm.max", "cm", 300, &r.height_min,
                       &r.height_max}}) {
      Decimal(d.min_path, d.unit, d.hi, *d.min);
      Decimal(d.max_path, d.unit, d.hi, *d.max);
      Ordered(Amount(d.min_path, *d.min), Amount(d.max_path, *d.max), /*strict=*/true);
    }

    // Category lower bounds, lowest first: out of order, a category could never be reached.
    domain::BpThresholds& t = p.bp;
    struct Bound {
      std::string_view path;
      int* value;
    };
    struct Chain {
      std::array<Bound, 5> bounds;
      std::string_view min_path, max_path;
      int min, max;
    };
    for (const Chain& c : {Chain{{{{"blood_pressure.hypotension_below.systolic", &t.hypotension_systolic},
                                   {"blood_pressure.high_normal.systolic", &t.high_normal_systolic},
                                   {"blood_pressure.grade_1.systolic", &t.grade1_systolic},
                                   {"blood_pressure.grade_2.systolic", &t.grade2_systolic},
                                   {"blood_pressure.grade_3.systolic", &t.grade3_systolic}}},
                                 "plausible.systolic_mmhg.min",
                                 "plausible.systolic_mmhg.max",
                                 r.systolic_min,
                                 r.systolic_max},
                           Chain{{{{"blood_pressure.hypotension_below.diastolic", &t.hypotension_diastolic},
                                   {"blood_pressure.high_normal.diastolic", &t.high_normal_diastolic},
                                   {"blood_pressure.grade_1.diastolic", &t.grade1_diastolic},
                                   {"blood_pressure.grade_2.diastolic", &t.grade2_diastolic},
                                   {"blood_pressure.grade_3.diastolic", &t.grade3_diastolic}}},
                                 "plausible.diastolic_mmhg.min",
                                 "plausible.diastolic_mmhg.max",
                                 r.diastolic_min,
                                 r.diastolic_max}}) {
      for (const Bound& b : c.bounds) WholeNumber(b.path, "mmHg", 1, kMaxMmhgOrBpm, *b.value);
      for (size_t i = 0; i + 1 < c.bounds.size(); ++i) {
        Ordered(Count(c.bounds[i].path, *c.bounds[i].value), Count(c.bounds[i + 1].path, *c.bounds[i + 1].value),
                /*strict=*/true);
      }
      // Hypotension below the plausible minimum, or grade 3 above the maximum, would never be graded.
      Ordered(Count(c.min_path, c.min), Count(c.bounds.front().path, *c.bounds.front().value), /*strict=*/true);
      Ordered(Count(c.bounds.back().path, *c.bounds.back().value), Count(c.max_path, c.max), /*strict=*/false);
    }

    // Glucose bounds, lowest first, inside the plausible range: out of order, a class could never be reached.
    struct GlucoseBound {
      std::string_view path;
      double* value;
    };
    const std::array<GlucoseBound, 4> glucose = {{{"glucose.severe_hypo_below", &p.glucose_severe_hypo},
                                                  {"glucose.hypo_below", &p.glucose_hypo},
                                                  {"glucose.fasting_high", &p.glucose_fasting_high},
                                                  {"glucose.random_high", &p.glucose_random_high}}};
    for (const GlucoseBound& g : glucose) Decimal(g.path, "mmol/L", kMaxMmolPerL, *g.value);
    Ordered(Amount("plausible.glucose_mmol_per_l.min", r.glucose_min), Amount(glucose[0].path, *glucose[0].value),
            /*strict=*/true);
    for (size_t i = 0; i + 1 < glucose.size(); ++i) {
      // A fasting threshold may equal the random one; the hypoglycaemia bounds must stay below both.
      Ordered(Amount(glucose[i].path, *glucose[i].value), Amount(glucose[i + 1].path, *glucose[i + 1].value),
              /*strict=*/glucose[i + 1].path != "glucose.random_high");
    }
    Ordered(Amount(glucose.back().path, *glucose.back().value),
            Amount("plausible.glucose_mmol_per_l.max", r.glucose_max), /*strict=*/false);

    // Limits before the rule counts they bound.
    WholeNumber("limits.max_window_samples", "readings", 1, kMaxWindowSamples, p.max_window_samples);
    WholeNumber("limits.max_evidence", "readings", 1, kMaxEvidence, p.max_evidence);
    WholeNumber("limits.max_glucose_samples", "readings", 1, kMaxGlucoseSamples, p.max_glucose_samples);

    // R1 and R6 blood-pressure bounds: hypotension < R6 abnormal < R1 critical <= plausible maximum,
    // so that focus tracking sees a reading before it is critical, and a critical one can be measured.
    struct AlarmChain {
      std::string_view hypotension_path, abnormal_path, critical_path, max_path;
      int hypotension;
      int *abnormal, *critical;
      int max;
    };
    for (const AlarmChain& c :
         {AlarmChain{"blood_pressure.hypotension_below.systolic", "rules.r6_focus_tracking.abnormal_at_or_above.systolic",
                     "rules.r1_critical_bp.at_or_above.systolic", "plausible.systolic_mmhg.max", t.hypotension_systolic,
                     &p.r6_abnormal_systolic, &p.r1_critical_systolic, r.systolic_max},
          AlarmChain{"blood_pressure.hypotension_below.diastolic",
                     "rules.r6_focus_tracking.abnormal_at_or_above.diastolic",
                     "rules.r1_critical_bp.at_or_above.diastolic", "plausible.diastolic_mmhg.max",
                     t.hypotension_diastolic, &p.r6_abnormal_diastolic, &p.r1_critical_diastolic, r.diastolic_max}}) {
      WholeNumber(c.critical_path, "mmHg", 1, kMaxMmhgOrBpm, *c.critical);
      WholeNumber(c.abnormal_path, "mmHg", 1, kMaxMmhgOrBpm, *c.abnormal);
      Ordered(Count(c.hypotension_path, c.hypotension), Count(c.abnormal_path, *c.abnormal), /*strict=*/true);
      Ordered(Count(c.abnormal_path, *c.abnormal), Count(c.critical_path, *c.critical), /*strict=*/true);
      Ordered(Count(c.critical_path, *c.critical), Count(c.max_path, c.max), /*strict=*/false);
    }
    for (const AckTimeout& a : kAckTimeouts) Duration(a.path, kMinuteMs, p.*a.ms);

    constexpr std::string_view kWindow = "rules.r2_sustained_hypertension.window";
    constexpr std::string_view kMinReadings = "rules.r2_sustained_hypertension.min_readings";
    constexpr std::string_view kMinDays = "rules.r2_sustained_hypertension.min_days";
    Duration(kWindow, kMinuteMs, p.r2_window_ms);
    // The window keeps at most max_window_samples readings: more could never be counted.
    const auto samples = static_cast<int64_t>(p.max_window_samples);
    WholeNumber(kMinReadings, "readings", 1, samples, p.r2_min_readings);
    Ordered(Count(kMinReadings, p.r2_min_readings), Count("limits.max_window_samples", samples), /*strict=*/false);
    // A window of N days (rounded up) cannot hold readings on more than N calendar days.
    const int64_t window_days = (p.r2_window_ms + kDayMs - 1) / kDayMs;
    WholeNumber(kMinDays, "days", 1, window_days, p.r2_min_days);
    Ordered(Count(kMinDays, p.r2_min_days), {kWindow, static_cast<double>(window_days), DurationText(p.r2_window_ms)},
            /*strict=*/false);
    Category("rules.r2_sustained_hypertension.min_category", BpCategory::kNormal, p.r2_min_category);
    WholeNumber("rules.r2_sustained_hypertension.resolve_margin", "mmHg", 0, 20, p.r2_resolve_margin_mmhg);

    // R3: diagnosed grades run 1..3 (0 is "none", which would enrol everyone); the ladder climbs.
    WholeNumber("rules.r3_self_test_missed.min_diagnosed_grade", "grades", 1, 3, p.r3_min_diagnosed_grade);
    Duration("rules.r3_self_test_missed.interval", kHourMs, p.self_test_interval_ms);
    constexpr std::string_view kLevel2 = "rules.r3_self_test_missed.level_2_after";
    constexpr std::string_view kLevel3 = "rules.r3_self_test_missed.level_3_after";
    Duration(kLevel2, kMinuteMs, p.r3_level2_delay_ms);
    Duration(kLevel3, kMinuteMs, p.r3_level3_delay_ms);
    Ordered(Span(kLevel2, p.r3_level2_delay_ms), Span(kLevel3, p.r3_level3_delay_ms), /*strict=*/true);

    // R4: "normal" as the unfit category would send every worker home.
    Duration("rules.r4_pre_shift_fitness.check_within", kMinuteMs, p.pre_shift_window_ms);
    Category("rules.r4_pre_shift_fitness.unfit_min_category", BpCategory::kHighNormal, p.r4_unfit_min_category);
    Boolean("rules.r4_pre_shift_fitness.hypotension_unfit", p.r4_hypotension_unfit);
    Text("rules.r4_pre_shift_fitness.retest_advice", p.r4_retest_advice);

    Duration("time.max_future_skew", 0, p.max_future_skew_ms);
    Duration("time.retention_horizon", kMinuteMs, p.retention_horizon_ms);
    // A reading the R2 window still counts must not be refused as too old.
    Ordered(Span(kWindow, p.r2_window_ms), Span("time.retention_horizon", p.retention_horizon_ms), /*strict=*/false);
    DayOffset("time.day_offset", p.day_offset_minutes);

    // R5 after the retention horizon it must fit in, and the glucose history it counts in.
    constexpr std::string_view kHighWindow = "rules.r5_glucose.high_window";
    constexpr std::string_view kHighMinReadings = "rules.r5_glucose.high_min_readings";
    Duration(kHighWindow, kMinuteMs, p.r5_high_window_ms);
    Ordered(Span(kHighWindow, p.r5_high_window_ms), Span("time.retention_horizon", p.retention_horizon_ms),
            /*strict=*/false);
    const auto glucose_samples = static_cast<int64_t>(p.max_glucose_samples);
    WholeNumber(kHighMinReadings, "readings", 1, glucose_samples, p.r5_high_min_readings);
    Ordered(Count(kHighMinReadings, p.r5_high_min_readings), Count("limits.max_glucose_samples", glucose_samples),
            /*strict=*/false);

    Duration("escalation.renotify_interval", kMinuteMs, p.renotify_interval_ms);
  }

  std::string source_;
  absl::Status error_;  // the first refusal of Read
  std::map<std::string, YAML::Mark, std::less<>> keys_seen_;
  std::map<std::string, Located, std::less<>> values_;
  std::set<std::string, std::less<>> read_;  // the fields Read asked for
};

// One line of the printed file: `text`, then `comment` aligned so the units read as a column.
void AppendLine(std::string& out, std::string_view text, std::string_view comment = {}) {
  constexpr size_t kCommentColumn = 56;
  out += text;
  if (!comment.empty()) {
    out.append(text.size() < kCommentColumn ? kCommentColumn - text.size() : 1, ' ');
    out += "# ";
    out += comment;
  }
  out += '\n';
}

std::string Pair(std::string_view key, std::string_view a_name, std::string_view a, std::string_view b_name,
                 std::string_view b, std::string_view indent = "  ") {
  return fmt::format("{}{}: {{{}: {}, {}: {}}}", indent, key, a_name, a, b_name, b);
}

// A YAML double-quoted scalar. The text has no control characters (Text() refuses them), so escaping
// the quote and the backslash is enough for it to read back unchanged.
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

}  // namespace

absl::StatusOr<Policy> ParsePolicy(std::string_view yaml_text, std::string_view source_name) {
  return PolicyReader(source_name).Parse(yaml_text);
}

absl::StatusOr<Policy> LoadPolicyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("{}: cannot open the policy file: {}", path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    return absl::DataLossError(fmt::format("{}: cannot read the policy file: {}", path, std::strerror(errno)));
  return ParsePolicy(text.str(), path);
}

std::string FormatPolicy(const Policy& p) {
  const domain::BpThresholds& t = p.bp;
  const domain::PlausibleRanges& r = p.plausible;
  auto bp = [](std::string_view key, int systolic, int diastolic, std::string_view indent = "  ") {
    return Pair(key, "systolic", std::to_string(systolic), "diastolic", std::to_string(diastolic), indent);
  };
  auto range = [](std::string_view key, std::string_view lo, std::string_view hi) {
    return Pair(key, "min", lo, "max", hi);
  };
  auto field = [](std::string_view indent, std::string_view key, std::string_view value) {
    return fmt::format("{}{}: {}", indent, key, value);
  };
  // The ack timeouts of the rule section at `section` ("rules.r5_glucose"), in table order.
  auto ack_timeouts = [&](std::string& text, std::string_view section) {
    for (const AckTimeout& a : kAckTimeouts) {
      if (!a.path.starts_with(section) || a.path[section.size()] != '.') continue;
      AppendLine(text, field("    ", a.path.substr(section.size() + 1), DurationText(p.*a.ms)), a.help);
    }
  };
  std::string out;
  AppendLine(out, "# alertd global clinical policy (alertd --policy FILE). Every key is optional: a key left out");
  AppendLine(out, "# keeps its built-in default. `alertd print-policy [--policy FILE]` prints the policy in effect.");
  AppendLine(out, "# Per-worker overrides (\"one person, one policy\") arrive with worker profiles, not here;");
  AppendLine(out, "# `alertd print-policy --worker ID --db DIR` prints one worker's policy with them.");
  AppendLine(out, "");
  AppendLine(out, "# Blood-pressure categories by their lower bounds, mmHg (China hypertension guideline 2018; grades");
  AppendLine(out, "# unchanged in 2024). A reading takes the higher of its systolic and its diastolic category.");
  AppendLine(out, "# Each bound must be above the one before it.");
  AppendLine(out, "blood_pressure:");
  AppendLine(out, bp("high_normal", t.high_normal_systolic, t.high_normal_diastolic), "high-normal from here");
  AppendLine(out, bp("grade_1", t.grade1_systolic, t.grade1_diastolic),
             "grade 1; also isolated systolic (systolic here, diastolic below)");
  AppendLine(out, bp("grade_2", t.grade2_systolic, t.grade2_diastolic), "grade 2");
  AppendLine(out, bp("grade_3", t.grade3_systolic, t.grade3_diastolic), "grade 3");
  AppendLine(out, bp("hypotension_below", t.hypotension_systolic, t.hypotension_diastolic),
             "hypotension: systolic or diastolic below this");
  AppendLine(out, "");
  AppendLine(out, "# Glucose classes, mmol/L (rule R5; focus tracking counts high and low values as abnormal).");
  AppendLine(out, "# Each bound must be above the one before it (random_high may equal fasting_high).");
  AppendLine(out, "glucose:");
  AppendLine(out, field("  ", "severe_hypo_below", MmolText(p.glucose_severe_hypo)),
             "severe hypoglycaemia below: URGENT at once");
  AppendLine(out, field("  ", "hypo_below", MmolText(p.glucose_hypo)), "hypoglycaemia below");
  AppendLine(out, field("  ", "fasting_high", MmolText(p.glucose_fasting_high)), "FASTING at or above: high");
  AppendLine(out, field("  ", "random_high", MmolText(p.glucose_random_high)),
             "RANDOM or POSTPRANDIAL_2H at or above: high");
  AppendLine(out, "");
  AppendLine(out,
             "# Physiologically impossible input: a reading outside [min, max] goes to dead-letters, never graded.");
  AppendLine(out, "# Blood-pressure and glucose bounds above must lie inside these ranges.");
  AppendLine(out, "plausible:");
  AppendLine(out, range("systolic_mmhg", std::to_string(r.systolic_min), std::to_string(r.systolic_max)), "mmHg");
  AppendLine(out, range("diastolic_mmhg", std::to_string(r.diastolic_min), std::to_string(r.diastolic_max)),
             "mmHg; a diastolic not below the systolic is refused too");
  AppendLine(out, range("pulse_bpm", std::to_string(r.pulse_min), std::to_string(r.pulse_max)),
             "beats per minute; a pulse of 0 means not measured");
  AppendLine(out, range("glucose_mmol_per_l", DecimalText(r.glucose_min), DecimalText(r.glucose_max)), "mmol/L");
  AppendLine(out, range("weight_kg", DecimalText(r.weight_min), DecimalText(r.weight_max)), "kg");
  AppendLine(out, range("height_cm", DecimalText(r.height_min), DecimalText(r.height_max)),
             "cm; a height of 0 means not measured");
  AppendLine(out, "");
  AppendLine(out, "# Durations are <whole number><unit>, unit one of ms s m h d.");
  AppendLine(out, "time:");
  AppendLine(out, fmt::format("  max_future_skew: {}", DurationText(p.max_future_skew_ms)),
             "measured further ahead of the engine's clock: refused");
  AppendLine(out, fmt::format("  retention_horizon: {}", DurationText(p.retention_horizon_ms)),
             "measured longer ago: refused as too old; >= rule windows");
  AppendLine(out, fmt::format("  day_offset: {}", DayOffsetText(p.day_offset_minutes)),
             "local time - UTC, +HH:MM: the calendar day of a reading");
  AppendLine(out, "");
  AppendLine(out, "# An unacknowledged episode climbs one level (health manager -> unit supervisor) after its rule's");
  AppendLine(out, "# ack_timeout. Durations: at least 1m.");
  AppendLine(out, "rules:");
  AppendLine(out, "  # R1 critical blood pressure: a reading at or above either bound is URGENT to the health manager");
  AppendLine(out, "  # at once, with an urgent clinic referral. A worker's own critical_* override the bounds.");
  AppendLine(out, "  r1_critical_bp:");
  AppendLine(out, bp("at_or_above", p.r1_critical_systolic, p.r1_critical_diastolic, "    "),
             "mmHg; above R6's abnormal bounds, at most plausible max");
  ack_timeouts(out, "rules.r1_critical_bp");
  AppendLine(out, "  # R2 sustained hypertension: the mean of the window's readings is at least min_category, from at");
  AppendLine(out, "  # least min_readings readings on at least min_days local calendar days.");
  AppendLine(out, "  r2_sustained_hypertension:");
  AppendLine(out, fmt::format("    window: {}", DurationText(p.r2_window_ms)), "event time the mean looks back over");
  AppendLine(out, fmt::format("    min_readings: {}", p.r2_min_readings),
             "readings; at most limits.max_window_samples");
  AppendLine(out, fmt::format("    min_days: {}", p.r2_min_days), "days with a reading; at most the window's days");
  AppendLine(out, fmt::format("    min_category: {}", domain::Name(p.r2_min_category)),
             "normal, high_normal, grade_1, grade_2 or grade_3");
  AppendLine(out, fmt::format("    resolve_margin: {}", p.r2_resolve_margin_mmhg),
             "mmHg 0..20: resolves when both means are this far below");
  ack_timeouts(out, "rules.r2_sustained_hypertension");
  AppendLine(out, "  # R3 weekly self-test: an enrolled worker (diagnosed at min_diagnosed_grade or worse, R2 open, or");
  AppendLine(out, "  # enrolled by their own policy) with no blood-pressure reading for `interval` is reminded when due;");
  AppendLine(out, "  # then the ladder climbs by itself, measured from the due time.");
  AppendLine(out, "  r3_self_test_missed:");
  AppendLine(out, fmt::format("    min_diagnosed_grade: {}", p.r3_min_diagnosed_grade),
             "diagnosed hypertension grade 1..3 that enrols");
  AppendLine(out, field("    ", "interval", DurationText(p.self_test_interval_ms)),
             "at least 1h; self_test_interval_days overrides");
  AppendLine(out, field("    ", "level_2_after", DurationText(p.r3_level2_delay_ms)),
             "after due: the health manager; < level_3_after");
  AppendLine(out, field("    ", "level_3_after", DurationText(p.r3_level3_delay_ms)), "after due: the unit supervisor");
  AppendLine(out, "  # R4 pre-shift fitness of workers in high-risk posts: a PRE_SHIFT reading at unfit_min_category or");
  AppendLine(out, "  # above (or hypotension) is UNFIT_FOR_DUTY; a clock-in needs a reading within check_within.");
  AppendLine(out, "  r4_pre_shift_fitness:");
  AppendLine(out, field("    ", "check_within", DurationText(p.pre_shift_window_ms)),
             "before clock-in, a PRE_SHIFT reading counts");
  AppendLine(out, field("    ", "unfit_min_category", domain::Name(p.r4_unfit_min_category)),
             "high_normal, grade_1, grade_2 or grade_3");
  AppendLine(out, field("    ", "hypotension_unfit", p.r4_hypotension_unfit ? "true" : "false"),
             "true or false: hypotension is unfit too");
  AppendLine(out, field("    ", "retest_advice", Quoted(p.r4_retest_advice)), "told to an unfit worker; one line");
  ack_timeouts(out, "rules.r4_pre_shift_fitness");
  AppendLine(out, "  # R5 glucose: severe hypoglycaemia is URGENT at once; high glucose high_min_readings times within");
  AppendLine(out, "  # high_window is HIGH with a routine clinic referral.");
  AppendLine(out, "  r5_glucose:");
  AppendLine(out, field("    ", "high_window", DurationText(p.r5_high_window_ms)),
             "event time; at most time.retention_horizon");
  AppendLine(out, field("    ", "high_min_readings", std::to_string(p.r5_high_min_readings)),
             "readings; at most limits.max_glucose_samples");
  ack_timeouts(out, "rules.r5_glucose");
  AppendLine(out, "  # R6 focus tracking (\"one person, one policy\"): for a worker whose own policy turns it on, every");
  AppendLine(out, "  # abnormal reading escalates: blood pressure at or above these (the worker's abnormal_* override");
  AppendLine(out, "  # them) or hypotension; glucose high or low by the glucose bounds.");
  AppendLine(out, "  r6_focus_tracking:");
  AppendLine(out, bp("abnormal_at_or_above", p.r6_abnormal_systolic, p.r6_abnormal_diastolic, "    "),
             "mmHg; above hypotension, below R1's bounds");
  ack_timeouts(out, "rules.r6_focus_tracking");
  AppendLine(out, "");
  AppendLine(out, "# Escalation lifecycle, every rule.");
  AppendLine(out, "escalation:");
  AppendLine(out, field("  ", "renotify_interval", DurationText(p.renotify_interval_ms)),
             "acknowledged, still open: re-sent this often");
  AppendLine(out, "");
  AppendLine(out, "# Memory bounds per worker.");
  AppendLine(out, "limits:");
  AppendLine(out, fmt::format("  max_window_samples: {}", p.max_window_samples),
             "readings kept for rule windows; the oldest go first");
  AppendLine(out, fmt::format("  max_evidence: {}", p.max_evidence), "readings quoted as evidence in an escalation");
  AppendLine(out, fmt::format("  max_glucose_samples: {}", p.max_glucose_samples),
             "glucose readings kept for R5's window");
  return out;
}

namespace {

// Text from a worker profile, safe inside a one-line YAML comment: a line break in a name would
// otherwise end the comment and turn the rest into (invalid) policy.
std::string CommentSafe(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    out.push_back(byte < 0x20 || byte == 0x7f ? '?' : c);
  }
  return out;
}

std::string PersonText(const domain::Person& person) {
  if (person.name.empty()) return CommentSafe(person.id);
  return fmt::format("{} ({})", CommentSafe(person.id), CommentSafe(person.name));
}

// One number of IndividualPolicy and the schema fields it replaces.
struct OverrideLine {
  std::string path;
  std::string own;     // the worker's value, in the schema's notation
  std::string global;  // the value it replaces
  bool applied;        // false: EffectivePolicy ignored it and the global value applies
};

std::vector<OverrideLine> Overrides(const Policy& global, const Policy& effective, const domain::IndividualPolicy& own) {
  std::vector<OverrideLine> lines;
  auto mmhg = [&](const std::optional<int>& set, std::string_view path, int global_value, int effective_value) {
    if (!set) return;
    lines.push_back({std::string(path), std::to_string(*set), std::to_string(global_value), effective_value == *set});
  };
  auto duration = [&](const std::optional<int>& set, int64_t unit_ms, std::string_view path, int64_t global_ms,
                      int64_t effective_ms) {
    if (!set) return;
    const int64_t own_ms = int64_t{*set} * unit_ms;
    lines.push_back({std::string(path), DurationText(own_ms), DurationText(global_ms), *set > 0 && effective_ms == own_ms});
  };
  mmhg(own.critical_systolic_mmhg, "rules.r1_critical_bp.at_or_above.systolic", global.r1_critical_systolic,
       effective.r1_critical_systolic);
  mmhg(own.critical_diastolic_mmhg, "rules.r1_critical_bp.at_or_above.diastolic", global.r1_critical_diastolic,
       effective.r1_critical_diastolic);
  duration(own.self_test_interval_days, kDayMs, "rules.r3_self_test_missed.interval", global.self_test_interval_ms,
           effective.self_test_interval_ms);
  mmhg(own.abnormal_systolic_mmhg, "rules.r6_focus_tracking.abnormal_at_or_above.systolic", global.r6_abnormal_systolic,
       effective.r6_abnormal_systolic);
  mmhg(own.abnormal_diastolic_mmhg, "rules.r6_focus_tracking.abnormal_at_or_above.diastolic",
       global.r6_abnormal_diastolic, effective.r6_abnormal_diastolic);
  // One override, every rule's timeout.
  for (const AckTimeout& a : kAckTimeouts) {
    duration(own.ack_timeout_minutes, kMinuteMs, a.path, global.*a.ms, effective.*a.ms);
  }
  duration(own.renotify_interval_hours, kHourMs, "escalation.renotify_interval", global.renotify_interval_ms,
           effective.renotify_interval_ms);
  return lines;
}

}  // namespace

std::string FormatWorkerPolicy(const Policy& global, const domain::WorkerProfile& profile) {
  const domain::IndividualPolicy& own = profile.policy;
  const Policy effective = domain::EffectivePolicy(global, own);
  std::string out;
  AppendLine(out, fmt::format("# Effective policy of worker {}{}: the global policy with the worker's own",
                              CommentSafe(profile.worker.value),
                              profile.name.empty() ? "" : fmt::format(" ({})", CommentSafe(profile.name))));
  AppendLine(out, fmt::format("# overrides (\"one person, one policy\"). Unit {}, grid {}{}.", CommentSafe(profile.unit_id),
                              CommentSafe(profile.grid_id), profile.active ? "" : "; profile inactive"));
  const std::vector<OverrideLine> overrides = Overrides(global, effective, own);
  if (overrides.empty()) {
    AppendLine(out, "# Overridden by the worker's own policy: nothing; every number below is the global one.");
  } else {
    AppendLine(out, "# Overridden by the worker's own policy:");
    for (const OverrideLine& o : overrides) {
      AppendLine(out, o.applied ? fmt::format("#   {}: {} (global {})", o.path, o.own, o.global)
                                : fmt::format("#   {}: {} ignored as implausible; the global {} applies", o.path,
                                              o.own, o.global));
    }
  }
  AppendLine(out, "# Not policy numbers (the rules read them from the profile):");
  AppendLine(out, fmt::format("#   focus_tracking: {}", own.focus_tracking
                                                           ? "on (rule R6: every abnormal reading escalates)"
                                                           : "off"));
  AppendLine(out, fmt::format("#   self_test_enrolled: {}",
                              own.self_test_enrolled ? "yes (rule R3 whatever the diagnosis)" : "no"));
  if (own.extra_recipients.empty()) {
    AppendLine(out, "#   extra_recipients: none");
  } else {
    AppendLine(out, "#   extra_recipients (also notified of every escalation):");
    for (const domain::Person& person : own.extra_recipients) AppendLine(out, "#     " + PersonText(person));
  }
  AppendLine(out, "");
  return out + FormatPolicy(effective);
}

}  // namespace alertd::config
