#include "core/ConsoleTail.hpp"

#include "core/Excerpt.hpp"

#include <algorithm>
#include <deque>
#include <fstream>
#include <sstream>

namespace stubdomd {

namespace {
// A console line without its carriage return and other control characters (tabs stay).
std::string printable(const std::string& line) {
    std::string clean;
    for (char c : line)
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t')
            clean += c;
    return clean;
}
} // namespace

std::uint64_t fileSize(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : 0;
    return size > 0 ? static_cast<std::uint64_t>(size) : 0;
}

std::vector<std::string> lastConsoleLines(const std::string& path, std::size_t maxLines,
                                          std::size_t maxLineBytes) {
    std::deque<std::string> lines;
    if (maxLines == 0)
        return {};
    // The two files together are within stub_log_max_bytes: read whole, oldest first. A
    // line cut by the rotation is whole again: the files are one stream.
    std::string text;
    for (const std::string& file : {path + ".1", path}) {
        std::ifstream in(file, std::ios::binary);
        if (!in)
            continue;
        std::ostringstream buffer;
        buffer << in.rdbuf();
        text += buffer.str();
    }
    std::istringstream stream(text);
    for (std::string line; std::getline(stream, line);) {
        std::string clean = printable(line);
        lines.push_back(excerpt(clean, maxLineBytes));
        if (lines.size() > maxLines)
            lines.pop_front();
    }
    return {lines.begin(), lines.end()};
}

std::string consoleTail(const std::string& path, std::uint64_t from, std::size_t maxLines,
                        std::size_t maxBytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in || maxLines == 0)
        return "";
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::uint64_t>(std::max<std::streamoff>(in.tellg(), 0));
    // Smaller than where this stub began: the log was rotated since, all of it is newer.
    if (size < from)
        from = 0;
    if (size <= from)
        return "";
    const std::uint64_t start =
        std::max<std::uint64_t>(from, size > maxBytes ? size - maxBytes : 0);
    in.seekg(static_cast<std::streamoff>(start));
    std::ostringstream buffer;
    buffer << in.rdbuf();
    std::string text = buffer.str();
    if (start > from) {
        // The first line is cut in the middle: only whole lines are quoted.
        const auto newline = text.find('\n');
        text.erase(0, newline == std::string::npos ? text.size() : newline + 1);
    }
    std::deque<std::string> lines;
    std::istringstream stream(text);
    for (std::string line; std::getline(stream, line);) {
        std::string clean = printable(line);
        if (clean.find_first_not_of(" \t") == std::string::npos)
            continue;
        lines.push_back(std::move(clean));
        if (lines.size() > maxLines)
            lines.pop_front();
    }
    std::string joined;
    for (const auto& line : lines)
        joined += (joined.empty() ? "" : " | ") + line;
    return excerpt(joined, maxBytes);
}

} // namespace stubdomd
