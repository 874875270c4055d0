// Reading and checking the global policy file, driven by the field table in policy_fields.h.
#include "engine/config/policy_file.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "engine/config/policy_fields.h"
#include "engine/config/yaml_source.h"
#include "engine/config/policy_values.h"

namespace alertd::config {
namespace {

using domain::BpCategory;
using domain::Policy;

constexpr std::array<BpCategory, 5> kCategories = {BpCategory::kNormal, BpCategory::kHighNormal, BpCategory::kGrade1,
                                                   BpCategory::kGrade2, BpCategory::kGrade3};



std::string JoinKeys(const std::vector<std::string_view>& keys) { return fmt::format("{}", fmt::join(keys, ", ")); }

// The keys allowed in the mapping at `prefix` ("" = the top level), in schema order.
std::vector<std::string_view> ChildKeys(std::string_view prefix) {
  std::vector<std::string_view> keys;
  for (const PolicyField& row : kPolicyFields) {
    std::string_view field = row.path;
    if (!prefix.empty()) {
      if (field.size() <= prefix.size() || !field.starts_with(prefix) || field[prefix.size()] != '.') continue;
      field.remove_prefix(prefix.size() + 1);
    }
    const std::string_view key = field.substr(0, field.find('.'));
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  }
  return keys;
}

bool IsField(std::string_view path) { return FindField(path) != nullptr; }

// One side of a comparison between two settings: its field, its value, and how the value reads.
struct Setting {
  std::string_view path;
  double value;
  std::string text;
};


// Checks a policy file in two passes: Collect walks the YAML structure (unknown keys, duplicates,
// sections that are not mappings) and remembers each field's node; Read then converts the fields in
// an order where every bound a field depends on is already known.
class PolicyReader {
 public:
  explicit PolicyReader(std::string_view source) : source_(source) {}

  absl::StatusOr<Policy> Parse(std::string_view text) {
    absl::StatusOr<YAML::Node> document = LoadOneDocument(source_, text);
    if (!document.ok()) return document.status();
    const std::string sections = JoinKeys(ChildKeys(""));
    if (document->IsNull()) {
      return absl::InvalidArgumentError(
          fmt::format("{}: the policy file is empty; expected a mapping with sections {}", source_, sections));
    }
    const YAML::Node& root = *document;
    if (!root.IsMap()) {
      return Fail(root.Mark(), "",
                  fmt::format("expected a mapping with sections {}, got {}", sections, DescribeYaml(root)));
    }
    if (absl::Status st = Collect(root, ""); !st.ok()) return st;
    Policy policy;
    Read(policy);
    if (!error_.ok()) return error_;
    return policy;
  }

 private:
  // Where a field's value is; an empty value has no position of its own, so its key's is used.
  struct Located {
    YAML::Node node;
    YAML::Mark mark;
  };

  absl::Status Fail(const YAML::Mark& mark, std::string_view field, std::string_view what) const {
    return YamlError(source_, mark, field, what);
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
        return Fail(key.Mark(), prefix, fmt::format("expected a field name, got {}", DescribeYaml(key)));
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
                    fmt::format("expected a mapping with keys {}, got {}", JoinKeys(ChildKeys(path)), DescribeYaml(value)));
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
      Refuse(v.mark, path, fmt::format("expected {}, got {}", expected, DescribeYaml(v.node)));
      return std::nullopt;
    }
    if (bare && IsQuotedString(v.node)) {
      Refuse(v.mark, path,
             fmt::format("expected {}, got the quoted string {} (write numbers without quotes)", expected,
                         DescribeYaml(v.node)));
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
    if (!n) return Refuse(v->mark, path, fmt::format("expected {}, got {}", expected, DescribeYaml(v->node)));
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
    if (!x) return Refuse(v->mark, path, fmt::format("expected {}, got {}", expected, DescribeYaml(v->node)));
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
      return Refuse(v->mark, path, fmt::format("expected {}, got {}", expected, DescribeYaml(v->node)));
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
      return Refuse(v->mark, path, fmt::format("expected {}, got {}", expected, DescribeYaml(v->node)));
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
    Refuse(v->mark, path, fmt::format("expected {}, got {}", expected, DescribeYaml(v->node)));
  }

  // YAML 1.2's two booleans, unquoted: "yes", "on" or "1" read differently across YAML versions.
  void Boolean(std::string_view path, bool& out) {
    const Located* v = Find(path);
    if (v == nullptr) return;
    constexpr std::string_view kExpected = "true or false";
    const std::optional<std::string> text = Scalar(*v, path, kExpected, /*bare=*/false);
    if (!text) return;
    if (IsQuotedString(v->node) || (*text != "true" && *text != "false")) {
      return Refuse(v->mark, path, fmt::format("expected {} (unquoted), got {}", kExpected, DescribeYaml(v->node)));
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
      return Refuse(v->mark, path, fmt::format("expected {}, got {}", expected, DescribeYaml(v->node)));
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

  // A field as one side of a comparison; its text is how the message quotes it.
  static Setting SettingOf(std::string_view path, Policy& p) {
    const PolicyField& f = *FindField(path);
    const double value = NumberOf(f.ref(p));
    switch (f.type) {
      case FieldType::kDecimal:
      case FieldType::kMmol:
        return {f.path, value, DecimalText(value)};
      case FieldType::kDuration:
        return {f.path, value, DurationText(*std::get<int64_t*>(f.ref(p)))};
      default:
        return {f.path, value, fmt::format("{:.0f}", value)};
    }
  }

  // Reads one field by its row: its type decides how it is written and its row how it is bounded.
  void ReadField(const PolicyField& f, Policy& p) {
    const FieldRef ref = f.ref(p);
    switch (f.type) {
      case FieldType::kWholeNumber: {
        const int64_t hi = f.hi_of != nullptr ? f.hi_of(p) : static_cast<int64_t>(f.hi);
        std::visit(
            [&](auto* out) {
              using T = std::remove_pointer_t<decltype(out)>;
              if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
                WholeNumber(f.path, f.unit, f.lo, hi, *out);
              }
            },
            ref);
        return;
      }
      case FieldType::kDecimal:
      case FieldType::kMmol: return Decimal(f.path, f.unit, f.hi, *std::get<double*>(ref));
      case FieldType::kDuration: return Duration(f.path, f.lo, *std::get<int64_t*>(ref));
      case FieldType::kDayOffset: return DayOffset(f.path, *std::get<int*>(ref));
      case FieldType::kCategory: return Category(f.path, f.lowest, *std::get<BpCategory*>(ref));
      case FieldType::kBoolean: return Boolean(f.path, *std::get<bool*>(ref));
      case FieldType::kText: return Text(f.path, *std::get<std::string*>(ref));
    }
  }

  void ReadField(std::string_view path, Policy& p) { ReadField(*FindField(path), p); }

  // Reads the fields and checks their relations. A field another one depends on (a bound, a limit)
  // is read before it; fields that no relation names are read last, in table order.
  void Read(Policy& p) {
    auto ordered = [&](std::string_view low, std::string_view high, bool strict) {
      Ordered(SettingOf(low, p), SettingOf(high, p), strict);
    };
    // Plausible ranges first: the blood-pressure and glucose thresholds must lie inside them.
    for (std::string_view range : {"plausible.systolic_mmhg", "plausible.diastolic_mmhg", "plausible.pulse_bpm",
                                   "plausible.glucose_mmol_per_l", "plausible.weight_kg", "plausible.height_cm"}) {
      const std::string min = fmt::format("{}.min", range);
      const std::string max = fmt::format("{}.max", range);
      ReadField(min, p);
      ReadField(max, p);
      ordered(min, max, /*strict=*/true);
    }

    // Category lower bounds, lowest first: out of order, a category could never be reached. Hypotension
    // below the plausible minimum, or grade 3 above the maximum, would never be graded.
    for (std::string_view side : {"systolic", "diastolic"}) {
      std::vector<std::string> chain;
      for (std::string_view bound : {"hypotension_below", "high_normal", "grade_1", "grade_2", "grade_3"}) {
        chain.push_back(fmt::format("blood_pressure.{}.{}", bound, side));
        ReadField(chain.back(), p);
      }
      for (size_t i = 0; i + 1 < chain.size(); ++i) ordered(chain[i], chain[i + 1], /*strict=*/true);
      ordered(fmt::format("plausible.{}_mmhg.min", side), chain.front(), /*strict=*/true);
      ordered(chain.back(), fmt::format("plausible.{}_mmhg.max", side), /*strict=*/false);
    }

    // Glucose bounds, lowest first, inside the plausible range: out of order, a class could never be
    // reached. A fasting threshold may equal the random one; the hypoglycaemia bounds stay below both.
    constexpr std::array<std::string_view, 4> kGlucose = {"glucose.severe_hypo_below", "glucose.hypo_below",
                                                          "glucose.fasting_high", "glucose.random_high"};
    for (std::string_view g : kGlucose) ReadField(g, p);
    ordered("plausible.glucose_mmol_per_l.min", kGlucose.front(), /*strict=*/true);
    for (size_t i = 0; i + 1 < kGlucose.size(); ++i) {
      ordered(kGlucose[i], kGlucose[i + 1], /*strict=*/kGlucose[i + 1] != "glucose.random_high");
    }
    ordered(kGlucose.back(), "plausible.glucose_mmol_per_l.max", /*strict=*/false);

    // Limits before the rule counts they bound.
    for (std::string_view limit : {"limits.max_window_samples", "limits.max_evidence", "limits.max_glucose_samples"}) {
      ReadField(limit, p);
    }

    // R1 and R6 blood-pressure bounds: hypotension < R6 abnormal < R1 critical <= plausible maximum,
    // so that focus tracking sees a reading before it is critical, and a critical one can be measured.
    for (std::string_view side : {"systolic", "diastolic"}) {
      const std::string critical = fmt::format("rules.r1_critical_bp.at_or_above.{}", side);
      const std::string abnormal = fmt::format("rules.r6_focus_tracking.abnormal_at_or_above.{}", side);
      ReadField(critical, p);
      ReadField(abnormal, p);
      ordered(fmt::format("blood_pressure.hypotension_below.{}", side), abnormal, /*strict=*/true);
      ordered(abnormal, critical, /*strict=*/true);
      ordered(critical, fmt::format("plausible.{}_mmhg.max", side), /*strict=*/false);
    }

    // R2: the window bounds the days it can count, max_window_samples the readings.
    constexpr std::string_view kWindow = "rules.r2_sustained_hypertension.window";
    constexpr std::string_view kMinReadings = "rules.r2_sustained_hypertension.min_readings";
    constexpr std::string_view kMinDays = "rules.r2_sustained_hypertension.min_days";
    ReadField(kWindow, p);
    ReadField(kMinReadings, p);
    ordered(kMinReadings, "limits.max_window_samples", /*strict=*/false);
    ReadField(kMinDays, p);
    Ordered(SettingOf(kMinDays, p),
            {kWindow, static_cast<double>(fields::WindowDays(p)), DurationText(p.r2_window_ms)}, /*strict=*/false);

    // R3's ladder climbs.
    constexpr std::string_view kLevel2 = "rules.r3_self_test_missed.level_2_after";
    constexpr std::string_view kLevel3 = "rules.r3_self_test_missed.level_3_after";
    ReadField(kLevel2, p);
    ReadField(kLevel3, p);
    ordered(kLevel2, kLevel3, /*strict=*/true);

    // A reading a rule window still counts must not be refused as too old.
    constexpr std::string_view kRetention = "time.retention_horizon";
    ReadField(kRetention, p);
    ordered(kWindow, kRetention, /*strict=*/false);

    // R5 after the retention horizon it must fit in, and the glucose history it counts in.
    constexpr std::string_view kHighWindow = "rules.r5_glucose.high_window";
    constexpr std::string_view kHighMinReadings = "rules.r5_glucose.high_min_readings";
    ReadField(kHighWindow, p);
    ordered(kHighWindow, kRetention, /*strict=*/false);
    ReadField(kHighMinReadings, p);
    ordered(kHighMinReadings, "limits.max_glucose_samples", /*strict=*/false);

    for (const PolicyField& f : kPolicyFields) {
      if (!read_.contains(f.path)) ReadField(f, p);
    }
  }

  std::string source_;
  absl::Status error_;  // the first refusal of Read
  std::map<std::string, YAML::Mark, std::less<>> keys_seen_;
  std::map<std::string, Located, std::less<>> values_;
  std::set<std::string, std::less<>> read_;  // the fields Read has asked for
};

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

}  // namespace alertd::config
