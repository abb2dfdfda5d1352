#include "xen/XluConfig.hpp"

#include "core/Errors.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace stubdomd {

ReportStream::ReportStream() : file_(::open_memstream(&buffer_, &size_)) {
    if (!file_)
        throw Error(ErrorCode::Internal, std::string("open_memstream: ") + std::strerror(errno));
}

ReportStream::~ReportStream() {
    std::fclose(file_);
    std::free(buffer_); // allocated by open_memstream
}

std::string ReportStream::text(std::size_t from) {
    std::fflush(file_);
    return from < size_ ? std::string(buffer_ + from, size_ - from) : std::string();
}

std::size_t ReportStream::size() {
    std::fflush(file_);
    return size_;
}

std::string oneLine(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    std::string out;
    for (const char c : text) {
        if (c == '\n')
            out += "; ";
        else
            out += c;
    }
    return out;
}

// libxlutil has no API to list keys, so this follows its lexer
// (tools/libs/util/libxlu_cfg_l.l): comments run from '#' to the end of the line, strings
// are '...' or "..." with backslash escapes and no newline, numbers are [0-9][0-9a-fx]*
// and identifiers [a-z][._0-9a-z]*. It runs only on text libxlutil has accepted, where
// the grammar allows an identifier only as the key of an assignment.
std::map<std::string, int> assignedKeys(const std::string& text) {
    std::map<std::string, int> keys;
    int line = 1;
    std::size_t i = 0;
    auto isIdentChar = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
    };
    while (i < text.size()) {
        const char c = text[i];
        if (c == '\n') {
            ++line;
            ++i;
        } else if (c == '#') {
            while (i < text.size() && text[i] != '\n')
                ++i;
        } else if (c == '\'' || c == '"') {
            ++i;
            while (i < text.size() && text[i] != c && text[i] != '\n') {
                if (text[i] == '\\' && i + 1 < text.size())
                    ++i;
                ++i;
            }
            ++i;
        } else if (c >= '0' && c <= '9') {
            while (i < text.size() && isIdentChar(text[i]))
                ++i; // [0-9a-fx]*: a subset, so nothing after it starts an identifier
        } else if (c >= 'a' && c <= 'z') {
            const std::size_t start = i;
            while (i < text.size() && isIdentChar(text[i]))
                ++i;
            keys[text.substr(start, i - start)] = line;
        } else {
            ++i;
        }
    }
    return keys;
}

void refuseNulBytes(const std::string& text, const std::string& source) {
    const auto nul = text.find('\0');
    if (nul == std::string::npos)
        return;
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<long>(nul), '\n');
    throw Error(ErrorCode::InvalidConfig,
                source + ":" + std::to_string(line) + ": a NUL byte; an xl config is text");
}

XluConfig::XluConfig(const std::string& text, std::string source) : source_(std::move(source)) {
    if (text.size() > static_cast<std::size_t>(INT_MAX))
        fail("", "the file is too large");
    refuseNulBytes(text, source_);
    config_.reset(xlu_cfg_init(report_.file(), source_.c_str()));
    if (!config_)
        throw Error(ErrorCode::Internal, "xlu_cfg_init: out of memory");
    const int error = xlu_cfg_readdata(config_.get(), text.data(), static_cast<int>(text.size()));
    if (error) {
        std::string message = oneLine(report_.text());
        if (message.empty())
            message = source_ + ": " + std::strerror(error);
        throw Error(ErrorCode::InvalidConfig, message);
    }
    keys_ = assignedKeys(text);
}

std::string XluConfig::where(const std::string& key) const {
    const auto found = keys_.find(key);
    if (found == keys_.end())
        return source_;
    return source_ + ":" + std::to_string(found->second);
}

void XluConfig::fail(const std::string& key, const std::string& what) const {
    throw Error(ErrorCode::InvalidConfig, where(key) + ": " + what);
}

std::optional<std::string> XluConfig::string(const char* key) const {
    const char* value = nullptr;
    const int error = xlu_cfg_get_string(config_.get(), key, &value, 1);
    if (error == ESRCH)
        return std::nullopt;
    if (error)
        fail(key, "'" + std::string(key) + "' must be a string, got a list");
    return std::string(value);
}

std::vector<std::string> XluConfig::list(const char* key) const {
    XLU_ConfigList* items = nullptr;
    int count = 0;
    const int error = xlu_cfg_get_list(config_.get(), key, &items, &count, 1);
    if (error == ESRCH)
        return {};
    if (error)
        fail(key, "'" + std::string(key) + "' must be a list, e.g. " + key + " = [ '...' ]");
    std::vector<std::string> result;
    for (int i = 0; i < count; ++i) {
        const char* item = xlu_cfg_get_listitem(items, i);
        if (!item)
            fail(key, "'" + std::string(key) + "' entry " + std::to_string(i + 1) +
                          " must be a string, got a list");
        result.emplace_back(item);
    }
    return result;
}

} // namespace stubdomd
