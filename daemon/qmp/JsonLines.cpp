#include "qmp/JsonLines.hpp"

namespace stubdomd {

bool JsonLines::append(const char* data, std::size_t size) {
    const std::size_t old = buffer_.size();
    buffer_.append(data, size);
    for (std::size_t pos = buffer_.find('\n', old); pos != std::string::npos;
         pos = buffer_.find('\n', pos + 1)) {
        if (pos - lineStart_ > maxLine_)
            return false;
        lineStart_ = pos + 1;
    }
    return buffer_.size() - lineStart_ <= maxLine_;
}

std::optional<std::string> JsonLines::next() {
    for (;;) {
        const std::size_t end = buffer_.find('\n');
        if (end == std::string::npos)
            return std::nullopt;
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        lineStart_ -= end + 1;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (!line.empty())
            return line;
    }
}

} // namespace stubdomd
