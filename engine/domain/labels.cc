// Name() and Text() of every domain enum, read from its one label table (labels.h).
#include "engine/domain/labels.h"

namespace alertd::domain {
namespace {

template <typename Enum>
const Label<Enum>* Find(Enum value) {
  for (const Label<Enum>& label : LabelsOf(value)) {
    if (label.value == value) return &label;
  }
  return nullptr;
}

template <typename Enum>
const char* NameOf(Enum value) {
  const Label<Enum>* label = Find(value);
  return label != nullptr ? label->name : "unknown";
}

template <typename Enum>
const char* TextOf(Enum value) {
  const Label<Enum>* label = Find(value);
  return label != nullptr ? label->text : "unknown";
}

}  // namespace

const char* Name(BpCategory c) { return NameOf(c); }
const char* Name(Rule r) { return NameOf(r); }
const char* Name(Severity s) { return NameOf(s); }
const char* Name(EscalationLevel l) { return NameOf(l); }
const char* Name(EscalationState s) { return NameOf(s); }
const char* Name(RecipientRole r) { return NameOf(r); }
const char* Name(RejectReason r) { return NameOf(r); }
const char* Name(ReadingContext c) { return NameOf(c); }
const char* Name(HighRiskPost p) { return NameOf(p); }
const char* Name(ReferralUrgency u) { return NameOf(u); }
const char* Name(GlucoseTiming t) { return NameOf(t); }

const char* Text(BpCategory c) { return TextOf(c); }
const char* Text(Rule r) { return TextOf(r); }
const char* Text(Severity s) { return TextOf(s); }
const char* Text(EscalationLevel l) { return TextOf(l); }
const char* Text(EscalationState s) { return TextOf(s); }
const char* Text(RecipientRole r) { return TextOf(r); }
const char* Text(RejectReason r) { return TextOf(r); }
const char* Text(ReadingContext c) { return TextOf(c); }
const char* Text(HighRiskPost p) { return TextOf(p); }
const char* Text(ReferralUrgency u) { return TextOf(u); }
const char* Text(GlucoseTiming t) { return TextOf(t); }

}  // namespace alertd::domain
