#include "XlError.h"

#include <cstdio>

namespace xensim {

void fail(int status, const std::string& message) {
    if (!message.empty())
        std::fprintf(stderr, "%s\n", message.c_str());
    throw XlError(status, message);
}

} // namespace xensim
