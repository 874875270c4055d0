// HTML of the /act pages: one small document, no script, a form with one button.
#include "engine/app/act_page.h"

#include <fmt/format.h>

#include "engine/notify/view_model.h"
#include "engine/notify/words.h"

namespace alertd::app {
namespace {

constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;

std::string Document(std::string_view title, std::string_view body) {
  return fmt::format(
      "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>{}</title><style>body{{font-family:sans-serif;max-width:32em;margin:1em auto;padding:0 1em;"
      "line-height:1.5}}.en{{color:#555}}button{{font-size:1.2em;padding:.6em 1.4em;margin-top:1em}}"
      "label{{display:block;margin:.4em 0}}</style></head><body>\n{}\n</body></html>\n",
      HtmlEscape(title), body);
}

// The button's words: "确认收到" / "Acknowledge".
struct ActionWords {
  std::string_view zh;
  std::string_view en;
};

ActionWords WordsOf(notify::LinkAction action) {
  switch (action) {
    case notify::LinkAction::kAcknowledge:
      return {"确认收到", "Acknowledge"};
    case notify::LinkAction::kResolve:
      return {"标记已处理", "Resolve"};
    case notify::LinkAction::kSnooze:
      return {"暂缓提醒", "Snooze"};
    case notify::LinkAction::kView:
      break;
  }
  return {"查看", "View"};
}

std::string Line(std::string_view zh, std::string_view en) {
  return fmt::format("<p>{}<br><span class=\"en\">{}</span></p>", zh, en);
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<SnoozeChoice> SnoozeChoices(int64_t now_ms, int utc_offset_minutes) {
  const int64_t offset_ms = int64_t{utc_offset_minutes} * 60 * 1000;
  // Local midnight of today, then 08:00 tomorrow, back in UTC.
  const int64_t local_now = now_ms + offset_ms;
  const int64_t local_midnight = local_now - ((local_now % kDayMs) + kDayMs) % kDayMs;
  const int64_t tomorrow_eight = local_midnight + kDayMs + 8 * kHourMs - offset_ms;
  return {{"1 小时 / 1 hour", now_ms + kHourMs},
          {"4 小时 / 4 hours", now_ms + 4 * kHourMs},
          {"明天 08:00 / tomorrow 08:00 (" + notify::LocalTimeText(tomorrow_eight, utc_offset_minutes) + ")",
           tomorrow_eight}};
}

std::string ActConfirmPage(const notify::LinkClaims& claims, std::string_view token, std::string_view worker_name,
                           int64_t now_ms, int utc_offset_minutes) {
  const healthgrid::v1::Rule rule = claims.rule;
  const std::string who = HtmlEscape(worker_name.empty() ? claims.worker_id : worker_name);
  const ActionWords action = WordsOf(claims.action);
  std::string body = fmt::format("<h1>{} <span class=\"en\">/ {}</span></h1>", action.zh, action.en);
  body += Line(fmt::format("职工：{}（{}）", who, HtmlEscape(claims.worker_id)),
               fmt::format("Worker: {} ({})", who, HtmlEscape(claims.worker_id)));
  body += Line(fmt::format("规则：{} {}", notify::RuleCode(rule), notify::RuleWords(rule, notify::Language::kZhCN)),
               fmt::format("Rule: {} {}", notify::RuleCode(rule), notify::RuleWords(rule, notify::Language::kEn)));
  body += Line(fmt::format("操作人：{}", HtmlEscape(claims.person_name)),
               fmt::format("Acting: {}", HtmlEscape(claims.person_name)));
  body += "<form method=\"post\" action=\"act\">";
  body += fmt::format("<input type=\"hidden\" name=\"t\" value=\"{}\">", HtmlEscape(token));
  if (claims.action == notify::LinkAction::kSnooze) {
    bool first = true;
    for (const SnoozeChoice& choice : SnoozeChoices(now_ms, utc_offset_minutes)) {
      body += fmt::format("<label><input type=\"radio\" name=\"snooze_until_ms\" value=\"{}\"{}> {}</label>",
                          choice.until_ms, first ? " checked" : "", HtmlEscape(choice.words));
      first = false;
    }
  }
  body += fmt::format("<button type=\"submit\">{} / {}</button></form>", action.zh, action.en);
  return Document(fmt::format("{} / {}", action.zh, action.en), body);
}

std::string ActDonePage(const notify::LinkClaims& claims, ActOutcome outcome, int64_t snooze_until_ms,
                        int utc_offset_minutes) {
  std::string body;
  switch (outcome) {
    case ActOutcome::kClosed:
      body = "<h1>事件已结束 <span class=\"en\">/ Already closed</span></h1>" +
             Line("该事件已经结束，无需再操作。", "This episode is already closed; nothing more to do.");
      return Document("已结束 / Closed", body);
    case ActOutcome::kAlreadyAcknowledged:
      body = "<h1>已确认 <span class=\"en\">/ Acknowledged</span></h1>" +
             Line("该事件此前已被确认，保留第一次确认。", "This episode was already acknowledged; the first acknowledgement stands.");
      return Document("已确认 / Acknowledged", body);
    case ActOutcome::kSent:
      break;
  }
  switch (claims.action) {
    case notify::LinkAction::kResolve:
      body = "<h1>已处理 <span class=\"en\">/ Resolved</span></h1>";
      break;
    case notify::LinkAction::kSnooze:
      body = "<h1>已暂缓 <span class=\"en\">/ Snoozed</span></h1>" +
             Line("暂缓至 " + notify::LocalTimeText(snooze_until_ms, utc_offset_minutes),
                  "Snoozed until " + notify::LocalTimeText(snooze_until_ms, utc_offset_minutes));
      break;
    default:
      body = "<h1>已确认 <span class=\"en\">/ Acknowledged</span></h1>";
  }
  body += Line("谢谢，升级流程已收到您的操作。", "Thank you: the escalation ladder has your answer.");
  return Document(fmt::format("{} / {}", WordsOf(claims.action).zh, WordsOf(claims.action).en), body);
}

std::string ActProblemPage(std::string_view zh, std::string_view en) {
  return Document("链接无效 / Link not valid", "<h1>链接无效 <span class=\"en\">/ Link not valid</span></h1>" +
                                                   Line(HtmlEscape(zh), HtmlEscape(en)));
}

}  // namespace alertd::app
