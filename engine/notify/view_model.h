// The view model a message template renders: an escalation's structured fields as words for people.
//
// Every key is present in every view (empty text, false or an empty list when the event lacks it),
// so the set of keys a template may use is fixed and checked when templates load (templates.h).
// deploy/notify/README.md lists the keys for template authors; SpecimenView shows them all.
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/notify/words.h"
#include "health.pb.h"

namespace alertd::notify {

// The links the delivery process signs for this recipient and episode; empty = not offered.
struct MessageLinks {
  std::string acknowledge;
  std::string resolve;
  std::string snooze;
  std::string worker_page;
};

// Where the event happened, in words: the unit's and grid's display names (the escalation carries them
// from the worker's profile; empty = the ids stand in) and the grid's clock.
struct MessagePlace {
  std::string unit_name;
  std::string grid_name;
  int utc_offset_minutes = 8 * 60;  // China Standard Time, +08:00
};

// The view of `event` for `recipient` in `language`.
nlohmann::json BuildView(const healthgrid::v1::Escalation& event, const healthgrid::v1::Recipient& recipient,
                         const MessageLinks& links, const MessagePlace& place, Language language);

// A view with every optional part present and every list non-empty: templates are checked against
// its keys, so a tag inside a section that a given event leaves out is still checked.
nlohmann::json SpecimenView(Language language);

// "2026-11-24 07:30" at `utc_offset_minutes` east of UTC; "" for 0 (a time the event leaves unset).
std::string LocalTimeText(int64_t ms_since_epoch, int utc_offset_minutes);

// "+08:00", "-05:30".
std::string UtcOffsetText(int utc_offset_minutes);

// `value` as compact JSON text, with any invalid UTF-8 replaced by U+FFFD: nlohmann's dump() throws
// on such bytes, and one bad byte in a name or reason must not abort a delivery.
std::string JsonText(const nlohmann::json& value);

}  // namespace alertd::notify
