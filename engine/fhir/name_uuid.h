// Name-based UUIDs (RFC 9562 version 5, SHA-1): the same name always gives the same UUID.
#pragma once

#include <string>
#include <string_view>

namespace alertd::fhir {

// The UUID namespace of alertd's FHIR resources: uuid5(NAMESPACE_URL, "urn:alertd:healthgrid:fhir").
inline constexpr std::string_view kAlertdFhirNamespace = "162f243a-d882-5f10-b9df-ee6c74989215";

// The lower-case text form ("xxxxxxxx-xxxx-5xxx-yxxx-xxxxxxxxxxxx") of the version-5 UUID of `name`
// in the namespace `namespace_uuid` (text form; a malformed namespace is a programming error).
std::string NameUuid(std::string_view namespace_uuid, std::string_view name);

}  // namespace alertd::fhir
