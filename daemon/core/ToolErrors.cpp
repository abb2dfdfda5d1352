#include "core/ToolErrors.hpp"

#include "core/Excerpt.hpp"

#include <algorithm>
#include <sstream>
#include <vector>

namespace stubdomd {

namespace {

// Long enough for a libxl line with its source position and a device path, short enough
// that a reason stays readable on a terminal and in a D-Bus message.
constexpr std::size_t kLineBytes = 400;

std::vector<std::string> meaningfulLines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
            line.pop_back();
        const auto start = line.find_first_not_of(" \t");
        if (start == std::string::npos || line.compare(start, 19, "Parsing config from") == 0)
            continue;
        lines.push_back(excerpt(line.substr(start), kLineBytes));
    }
    return lines;
}

} // namespace

std::string toolErrors(const std::string& stderrText, std::size_t lastLines) {
    const auto lines = meaningfulLines(stderrText);
    if (lines.empty())
        return "(no message)";
    std::size_t first = 0;
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (lines[i].find("error") != std::string::npos ||
            lines[i].find("Error") != std::string::npos) {
            first = i;
            break;
        }
    const std::size_t tailFrom =
        std::max(first + 1, lines.size() - std::min(lines.size(), lastLines));
    std::string out = lines[first];
    if (tailFrom < lines.size())
        out += tailFrom == first + 1 ? " | " : " | ... | ";
    for (std::size_t i = tailFrom; i < lines.size(); ++i)
        out += (i == tailFrom ? "" : " | ") + lines[i];
    return out;
}

} // namespace stubdomd
