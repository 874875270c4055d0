// The words people read for the escalation's codes, in Simplified Chinese and English.
//
// The templates (deploy/notify/templates/) decide the layout and the sentences; these tables give
// the fixed vocabulary every template shares (rule names, states, roles, what to do), so one
// rule's name cannot drift between channels. Pure functions; any thread. An enum value this build
// does not know (proto3 enums are open) reads as "未知" / "unknown", never a crash.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "health.pb.h"

namespace alertd::notify {

// The languages a message can be rendered in. Simplified Chinese is the programme's default.
enum class Language { kZhCN, kEn };

inline constexpr Language kDefaultLanguage = Language::kZhCN;

// "zh-CN" / "en": the tag used in the config file and as the template directory's name.
std::string_view LanguageTag(Language language);
std::optional<Language> ParseLanguage(std::string_view tag);

// "R1".."R6": the programme's short rule codes, the same in every language.
std::string_view RuleCode(healthgrid::v1::Rule rule);
std::string_view RuleWords(healthgrid::v1::Rule rule, Language language);
std::string_view SeverityWords(healthgrid::v1::Severity severity, Language language);
std::string_view StateWords(healthgrid::v1::EscalationState state, Language language);
std::string_view LevelWords(healthgrid::v1::EscalationLevel level, Language language);
std::string_view RoleWords(healthgrid::v1::RecipientRole role, Language language);
std::string_view CategoryWords(healthgrid::v1::BpCategory category, Language language);
std::string_view ContextWords(healthgrid::v1::MeasurementContext context, Language language);
std::string_view TimingWords(healthgrid::v1::GlucoseTiming timing, Language language);

// What the person at the event's level should do now, by rule and level; R4 by finding (unfit,
// clocked in unfit, no check: told apart by severity, as the rulebook raises them) and R5 by
// whether the newest glucose is a hypoglycaemia. A RESOLVED event asks for nothing more.
std::string ActionWords(const healthgrid::v1::Escalation& event, Language language);

}  // namespace alertd::notify
