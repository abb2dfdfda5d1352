#include "dbus/server/Marshal.hpp"

#include "core/Errors.hpp"

#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

namespace stubdomd::dbus {

int checked(int r, const char* what) {
    if (r < 0)
        throw Error(ErrorCode::Internal, std::string(what) + ": " + std::strerror(-r));
    return r;
}

void append(sd_bus_message* m, const std::string& value) {
    checked(sd_bus_message_append_basic(m, 's', value.c_str()), "appending a string");
}

void append(sd_bus_message* m, std::uint32_t value) {
    checked(sd_bus_message_append_basic(m, 'u', &value), "appending a uint32");
}

void append(sd_bus_message* m, std::int32_t value) {
    checked(sd_bus_message_append_basic(m, 'i', &value), "appending an int32");
}

void append(sd_bus_message* m, std::uint64_t value) {
    checked(sd_bus_message_append_basic(m, 't', &value), "appending a uint64");
}

void append(sd_bus_message* m, bool value) {
    int b = value; // sd-bus reads a boolean as an int
    checked(sd_bus_message_append_basic(m, 'b', &b), "appending a boolean");
}

void append(sd_bus_message* m, const std::vector<std::string>& list) {
    checked(sd_bus_message_open_container(m, 'a', "s"), "opening a string array");
    for (const auto& item : list)
        append(m, item);
    checked(sd_bus_message_close_container(m), "closing a string array");
}

void append(sd_bus_message* m, const sdbus::ObjectPath& path) {
    checked(sd_bus_message_append_basic(m, 'o', path.c_str()), "appending an object path");
}

void append(sd_bus_message* m, const UniqueFd& fd) {
    int raw = fd.get();
    checked(sd_bus_message_append_basic(m, 'h', &raw), "appending a file descriptor");
}

void replyError(sd_bus_message* call, const std::string& name, const std::string& message) {
    SdError error;
    // Returns the errno the name maps to (negative), not a failure.
    sd_bus_error_set(error.get(), name.c_str(), message.c_str());
    checked(sd_bus_reply_method_error(call, error.get()), "sending an error");
}

void emitPropertiesChanged(sd_bus* bus, const std::string& path, const char* interface,
                           std::vector<std::string> names) {
    if (names.empty())
        return;
    std::vector<char*> list;
    for (auto& name : names)
        list.push_back(name.data());
    list.push_back(nullptr);
    checked(sd_bus_emit_properties_changed_strv(bus, path.c_str(), interface, list.data()),
            "sending PropertiesChanged");
}

namespace {

// An array of structs whose fields have the types `fields` (e.g. "ss" for a(ss)).
template <typename... Fields>
void appendStructs(sd_bus_message* m, const std::string& fields,
                   const std::vector<sdbus::Struct<Fields...>>& list) {
    checked(sd_bus_message_open_container(m, 'a', ("(" + fields + ")").c_str()),
            "opening an array of structs");
    for (const auto& item : list) {
        checked(sd_bus_message_open_container(m, 'r', fields.c_str()), "opening a struct");
        std::apply([m](const auto&... field) { (append(m, field), ...); },
                   static_cast<const std::tuple<Fields...>&>(item));
        checked(sd_bus_message_close_container(m), "closing a struct");
    }
    checked(sd_bus_message_close_container(m), "closing an array of structs");
}

using StringPairs = std::vector<sdbus::Struct<std::string, std::string>>;
using ImageEntries = std::vector<sdbus::Struct<std::string, std::string, std::string, bool>>;

void appendVariant(sd_bus_message* m, const sdbus::Variant& value) {
    const std::string type = value.peekValueType();
    checked(sd_bus_message_open_container(m, 'v', type.c_str()), "opening a variant");
    if (type == "s")
        append(m, value.get<std::string>());
    else if (type == "b")
        append(m, value.get<bool>());
    else if (type == "i")
        append(m, value.get<std::int32_t>());
    else if (type == "u")
        append(m, value.get<std::uint32_t>());
    else if (type == "t")
        append(m, value.get<std::uint64_t>());
    else if (type == "as")
        append(m, value.get<std::vector<std::string>>());
    else if (type == "a(ss)")
        appendStructs(m, "ss", value.get<StringPairs>());
    else if (type == "a(sssb)")
        appendStructs(m, "sssb", value.get<ImageEntries>());
    else
        throw Error(ErrorCode::Internal, "no writer for a variant of type '" + type + "'");
    checked(sd_bus_message_close_container(m), "closing a variant");
}

} // namespace

void append(sd_bus_message* m, const Dict& dict) {
    checked(sd_bus_message_open_container(m, 'a', "{sv}"), "opening a dictionary");
    for (const auto& [key, value] : dict) {
        checked(sd_bus_message_open_container(m, 'e', "sv"), "opening a dictionary entry");
        append(m, key);
        appendVariant(m, value);
        checked(sd_bus_message_close_container(m), "closing a dictionary entry");
    }
    checked(sd_bus_message_close_container(m), "closing a dictionary");
}

void append(sd_bus_message* m, const std::vector<GuestRows::Row>& rows) {
    appendStructs(m, "sssuuo", rows);
}

namespace {

template <typename T> sdbus::Variant readBasic(sd_bus_message* m, char type) {
    T value{};
    checked(sd_bus_message_read_basic(m, type, &value), "reading an option's value");
    return sdbus::Variant(value);
}

// The value of a variant whose contents are `type`, for the basic types an option can
// have; nullopt (skipped) for any other, which no method documents.
std::optional<sdbus::Variant> readValue(sd_bus_message* m, const std::string& type) {
    if (type.size() == 1) {
        switch (type[0]) {
        case 's':
        case 'o':
        case 'g': {
            const char* text = nullptr;
            checked(sd_bus_message_read_basic(m, type[0], &text), "reading an option's value");
            if (type[0] == 'o')
                return sdbus::Variant(sdbus::ObjectPath(text));
            if (type[0] == 'g')
                return sdbus::Variant(sdbus::Signature(text));
            return sdbus::Variant(std::string(text));
        }
        case 'b': {
            int value = 0;
            checked(sd_bus_message_read_basic(m, 'b', &value), "reading an option's value");
            return sdbus::Variant(value != 0);
        }
        case 'y':
            return readBasic<std::uint8_t>(m, 'y');
        case 'n':
            return readBasic<std::int16_t>(m, 'n');
        case 'q':
            return readBasic<std::uint16_t>(m, 'q');
        case 'i':
            return readBasic<std::int32_t>(m, 'i');
        case 'u':
            return readBasic<std::uint32_t>(m, 'u');
        case 'x':
            return readBasic<std::int64_t>(m, 'x');
        case 't':
            return readBasic<std::uint64_t>(m, 't');
        case 'd':
            return readBasic<double>(m, 'd');
        default:
            break;
        }
    }
    checked(sd_bus_message_skip(m, type.c_str()), "skipping an option's value");
    return std::nullopt;
}

} // namespace

Options readOptions(sd_bus_message* m, std::string_view method,
                    const std::vector<OptionSpec>& known) {
    // By key, as sdbus-c++ read them into a map: the first bad key in key order is named.
    std::map<std::string, std::pair<std::string, std::optional<sdbus::Variant>>> read;
    checked(sd_bus_message_enter_container(m, 'a', "{sv}"), "reading options");
    for (;;) {
        int r = checked(sd_bus_message_enter_container(m, 'e', "sv"), "reading an option");
        if (r == 0)
            break;
        const char* key = nullptr;
        checked(sd_bus_message_read_basic(m, 's', &key), "reading an option's key");
        const char* contents = nullptr;
        checked(sd_bus_message_peek_type(m, nullptr, &contents), "reading an option's type");
        std::string type = contents ? contents : "";
        checked(sd_bus_message_enter_container(m, 'v', type.c_str()), "reading an option");
        auto value = readValue(m, type);
        checked(sd_bus_message_exit_container(m), "reading an option");
        checked(sd_bus_message_exit_container(m), "reading an option");
        read.emplace(key, std::make_pair(std::move(type), std::move(value)));
    }
    checked(sd_bus_message_exit_container(m), "reading options");

    Options options;
    for (auto& [key, entry] : read) {
        checkOption(method, key, entry.first, known);
        if (entry.second)
            options.emplace(key, std::move(*entry.second));
    }
    return options;
}

} // namespace stubdomd::dbus
