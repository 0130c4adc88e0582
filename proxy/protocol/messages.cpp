#include "pgmoat/protocol/messages.h"

#include "pgmoat/protocol/bind_values.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_reader.h"

#include <fmt/format.h>

namespace pgmoat::protocol {

const std::string* StartupMessage::find(std::string_view name) const {
    for (const auto& [k, v] : parameters)
        if (k == name) return &v;
    return nullptr;
}

StartupPacket read_startup_packet(std::string_view body) {
    MessageReader r(body);
    int32_t code = r.int32();
    if (!r.ok()) return InvalidStartup{"startup packet too short"};
    if (code == kSSLRequestCode || code == kGSSENCRequestCode) {
        if (!r.at_end()) return InvalidStartup{"invalid length of startup packet"};
        if (code == kSSLRequestCode) return SSLRequest{};
        return GSSENCRequest{};
    }
    if (code == kCancelRequestCode) {
        CancelRequest c;
        c.process_id = r.int32();
        c.secret_key = r.int32();
        if (!r.ok() || !r.at_end()) return InvalidStartup{"invalid length of cancel request packet"};
        return c;
    }
    StartupMessage m;
    m.major = (code >> 16) & 0xffff;
    m.minor = code & 0xffff;
    if (m.major != 3) {
        return InvalidStartup{
            fmt::format("unsupported frontend protocol {}.{}: server supports 3.0", m.major, m.minor)};
    }
    // Name/value pairs, then one terminating zero byte.
    while (true) {
        std::string_view name = r.cstring();
        if (!r.ok()) return InvalidStartup{"invalid startup packet layout: expected terminator as last byte"};
        if (name.empty()) break;
        std::string_view value = r.cstring();
        if (!r.ok()) return InvalidStartup{"invalid startup packet layout: expected terminator as last byte"};
        m.parameters.emplace_back(std::string(name), std::string(value));
    }
    if (!r.at_end()) return InvalidStartup{"invalid startup packet layout: expected terminator as last byte"};
    return m;
}

std::optional<Query> read_query(std::string_view body) {
    MessageReader r(body);
    Query q{r.cstring()};
    if (!r.ok() || !r.at_end()) return std::nullopt;
    return q;
}

std::optional<Parse> read_parse(std::string_view body) {
    MessageReader r(body);
    Parse p;
    p.statement = r.cstring();
    p.sql = r.cstring();
    p.parameter_type_count = r.int16();
    if (!r.ok() || p.parameter_type_count < 0) return std::nullopt;
    r.bytes(static_cast<size_t>(p.parameter_type_count) * 4);
    if (!r.ok() || !r.at_end()) return std::nullopt;
    return p;
}

std::optional<Bind> read_bind(std::string_view body) {
    MessageReader r(body);
    Bind b;
    b.portal = r.cstring();
    b.statement = r.cstring();
    // Check the rest of the layout so a malformed Bind is refused here, not upstream.
    int16_t nformats = r.int16();
    if (!r.ok() || nformats < 0) return std::nullopt;
    r.bytes(static_cast<size_t>(nformats) * 2);
    int16_t nparams = r.int16();
    if (!r.ok() || nparams < 0) return std::nullopt;
    for (int i = 0; i < nparams && r.ok(); ++i) {
        int32_t len = r.int32();
        if (len < -1) return std::nullopt;
        if (len > 0) r.bytes(static_cast<size_t>(len));
    }
    int16_t nresult = r.int16();
    if (!r.ok() || nresult < 0) return std::nullopt;
    r.bytes(static_cast<size_t>(nresult) * 2);
    if (!r.ok() || !r.at_end()) return std::nullopt;
    return b;
}

std::optional<std::vector<std::optional<std::string>>> read_bind_values(std::string_view body) {
    BindValueReader reader;
    reader.feed(body);
    if (!reader.ok() || !reader.complete()) return std::nullopt;
    return reader.take();
}

std::optional<Bind> read_bind_names(std::string_view head) {
    MessageReader r(head);
    Bind b;
    b.portal = r.cstring();
    b.statement = r.cstring();
    if (!r.ok()) return std::nullopt;
    return b;
}

std::optional<Execute> read_execute(std::string_view body) {
    MessageReader r(body);
    Execute e;
    e.portal = r.cstring();
    e.max_rows = r.int32();
    if (!r.ok() || !r.at_end()) return std::nullopt;
    return e;
}

std::optional<DescribeOrClose> read_describe_or_close(std::string_view body) {
    MessageReader r(body);
    DescribeOrClose d;
    d.kind = static_cast<char>(r.byte());
    d.name = r.cstring();
    if (!r.ok() || !r.at_end() || (d.kind != 'S' && d.kind != 'P')) return std::nullopt;
    return d;
}

std::optional<SASLInitialResponse> read_sasl_initial_response(std::string_view body) {
    MessageReader r(body);
    SASLInitialResponse s;
    s.mechanism = r.cstring();
    int32_t len = r.int32();
    if (!r.ok()) return std::nullopt;
    if (len == -1) {
        s.data = {};
    } else if (len < 0) {
        return std::nullopt;
    } else {
        s.data = r.bytes(static_cast<size_t>(len));
    }
    if (!r.ok() || !r.at_end()) return std::nullopt;
    return s;
}

std::optional<Authentication> read_authentication(std::string_view body) {
    MessageReader r(body);
    Authentication a;
    a.code = r.int32();
    a.payload = r.rest();
    if (!r.ok()) return std::nullopt;
    return a;
}

std::optional<ParameterStatus> read_parameter_status(std::string_view body) {
    MessageReader r(body);
    ParameterStatus p;
    p.name = r.cstring();
    p.value = r.cstring();
    if (!r.ok() || !r.at_end()) return std::nullopt;
    return p;
}

std::optional<BackendKeyData> read_backend_key_data(std::string_view body) {
    MessageReader r(body);
    BackendKeyData k;
    k.process_id = r.int32();
    k.secret_key = r.int32();
    if (!r.ok() || !r.at_end()) return std::nullopt;
    return k;
}

std::optional<char> read_ready_for_query(std::string_view body) {
    if (body.size() != 1) return std::nullopt;
    char s = body[0];
    if (s != 'I' && s != 'T' && s != 'E') return std::nullopt;
    return s;
}

std::optional<std::string_view> read_command_complete(std::string_view body) {
    MessageReader r(body);
    auto tag = r.cstring();
    if (!r.ok() || !r.at_end()) return std::nullopt;
    return tag;
}

std::optional<std::vector<std::string_view>> read_sasl_mechanisms(std::string_view payload) {
    MessageReader r(payload);
    std::vector<std::string_view> out;
    while (true) {
        auto m = r.cstring();
        if (!r.ok()) return std::nullopt;
        if (m.empty()) break;
        out.push_back(m);
    }
    if (!r.at_end()) return std::nullopt;
    return out;
}

std::optional<std::vector<ErrorField>> read_error_fields(std::string_view body) {
    MessageReader r(body);
    std::vector<ErrorField> out;
    while (true) {
        uint8_t type = r.byte();
        if (!r.ok()) return std::nullopt;
        if (type == 0) break;
        auto value = r.cstring();
        if (!r.ok()) return std::nullopt;
        out.push_back({static_cast<char>(type), std::string(value)});
    }
    if (!r.at_end()) return std::nullopt;
    return out;
}

std::vector<ErrorField> read_error_fields_prefix(std::string_view head) {
    MessageReader r(head);
    std::vector<ErrorField> out;
    while (true) {
        uint8_t type = r.byte();
        if (!r.ok() || type == 0) break;
        auto value = r.cstring();
        if (!r.ok()) break;
        out.push_back({static_cast<char>(type), std::string(value)});
    }
    return out;
}

std::string_view find_field(const std::vector<ErrorField>& fields, char type) {
    for (const auto& f : fields)
        if (f.type == type) return f.value;
    return {};
}

}  // namespace pgmoat::protocol
