// How stubdomctl shows guests and helpers: a table or key/value block for a person,
// one JSON value for a script (--json).
#pragma once

#include <stubdom-client/Types.hpp>

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace stubdomctl {

nlohmann::json toJson(const stubdom::GuestInfo& guest);
nlohmann::json toJson(const stubdom::HelperInfo& helper);
// Only the named D-Bus properties of `guest`, keyed as in toJson.
nlohmann::json propertiesToJson(const stubdom::GuestInfo& guest,
                                const std::vector<std::string>& properties);
std::string propertyText(const stubdom::GuestInfo& guest, const std::string& property);

void printGuestTable(std::ostream& out, const std::vector<stubdom::GuestInfo>& guests);
void printGuestStatus(std::ostream& out, const stubdom::GuestInfo& guest);
void printHelperTable(std::ostream& out, const std::vector<stubdom::HelperInfo>& helpers);

} // namespace stubdomctl
