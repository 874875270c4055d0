// The small pages of GET/POST /act (a signed action link): the confirmation with its one button, and
// what came of it, in Simplified Chinese with English beside it, fit for a phone screen.
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/notify/ack_link.h"

namespace alertd::app {

// The until-times a snooze link offers: in 1 h, in 4 h, tomorrow 08:00 local time.
struct SnoozeChoice {
  std::string words;  // "1 小时 / 1 hour"
  int64_t until_ms = 0;
};
std::vector<SnoozeChoice> SnoozeChoices(int64_t now_ms, int utc_offset_minutes);

// GET /act: names the worker, the rule and the action; its button POSTs /act with `token`.
std::string ActConfirmPage(const notify::LinkClaims& claims, std::string_view token, std::string_view worker_name,
                           int64_t now_ms, int utc_offset_minutes);

// What a POST /act did.
enum class ActOutcome {
  kSent,                // the ack is on its way to the engine
  kAlreadyAcknowledged, // sent again; the engine keeps the first acknowledgement
  kClosed,              // the store shows the episode closed: nothing sent
};
std::string ActDonePage(const notify::LinkClaims& claims, ActOutcome outcome, int64_t snooze_until_ms,
                        int utc_offset_minutes);

// A refused link or request: `zh` and `en` say why (e.g. the link expired).
std::string ActProblemPage(std::string_view zh, std::string_view en);

// `text` with & < > " ' escaped for HTML.
std::string HtmlEscape(std::string_view text);

}  // namespace alertd::app
