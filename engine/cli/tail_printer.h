// alertd-tail's output: each escalation, referral, dead letter or undecodable record as a line for people
// or a JSON object for scripts, and the --summary.
#pragma once

#include <fmt/color.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "health.pb.h"

namespace alertd::cli {

namespace hg = healthgrid::v1;
// Keys in insertion order: "type" first, then what a person scanning a line looks for.
using Json = nlohmann::ordered_json;

// Where a record came from, for every line and JSON object.
struct Origin {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;  // Kafka record timestamp, 0 if absent
  std::string key;           // printable
  bool has_key = false;
};

// Counts for --summary.
struct Tally {
  std::map<std::pair<int, int>, uint64_t> escalations;  // (rule, state) -> count
  std::map<int, uint64_t> dead_letters;                 // reason -> count
  std::map<std::pair<int, int>, uint64_t> referrals;    // (rule, urgency) -> count
  uint64_t escalation_total = 0, dead_letter_total = 0, referral_total = 0, undecodable = 0, duplicates = 0;
};

// Writes each event as one line for people (colour optional) or one JSON object for scripts, to stdout.
// Not thread-safe.
class EventPrinter {
 public:
  EventPrinter(bool json, bool color) : json_(json), color_(color) {}

  void Escalation(const Origin& origin, const hg::Escalation& e);
  void Referral(const Origin& origin, const hg::Referral& r);
  void DeadLetter(const Origin& origin, const hg::DeadLetter& d);
  // A record that is not the message its topic holds: `bytes` is its value.
  void Undecodable(const Origin& origin, std::string_view bytes, const std::string& expected, const std::string& why);
  void Summary(const Tally& t);

 private:
  static fmt::text_style SeverityStyle(hg::Severity severity);

  std::string Styled(const fmt::text_style& style, const std::string& text) const;

  static Json OriginJson(const Origin& o, const char* type);

  static Json EscalationJson(const Origin& origin, const hg::Escalation& e);

  static Json ReferralJson(const Origin& origin, const hg::Referral& r);

  static Json DeadLetterJson(const Origin& origin, const hg::DeadLetter& d);

  // One line per event, flushed at once: the reader is a person or a pipe waiting for it.
  void Emit(const std::string& line);
  void Emit(const Json& j);

  bool json_;
  bool color_;
};

}  // namespace alertd::cli
