// Decoded forms of the messages pgmoat inspects, and their readers. A reader
// returns nullopt when the body does not have the message's exact shape (missing
// terminator, trailing bytes, bad count): the caller treats that as a protocol
// violation. Views point into the frame they were read from.
#pragma once

#include "pgmoat/protocol/message_writer.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace pgmoat::protocol {

// ---- startup phase (untyped packets) ----
struct SSLRequest {};
struct GSSENCRequest {};
struct CancelRequest {
    int32_t process_id = 0;
    int32_t secret_key = 0;
};
struct StartupMessage {
    int major = 3;
    int minor = 0;
    std::vector<std::pair<std::string, std::string>> parameters;  // in the order sent
    const std::string* find(std::string_view name) const;
};
struct InvalidStartup {
    std::string error;
};
using StartupPacket = std::variant<SSLRequest, GSSENCRequest, CancelRequest, StartupMessage, InvalidStartup>;
StartupPacket read_startup_packet(std::string_view body);

// ---- frontend ----
struct Query {
    std::string_view sql;
};
struct Parse {
    std::string_view statement;
    std::string_view sql;
    int16_t parameter_type_count = 0;
};
struct Bind {
    std::string_view portal;
    std::string_view statement;
};
struct Execute {
    std::string_view portal;
    int32_t max_rows = 0;
};
struct DescribeOrClose {
    char kind = 0;  // 'S' prepared statement, 'P' portal
    std::string_view name;
};
std::optional<Query> read_query(std::string_view body);
std::optional<Parse> read_parse(std::string_view body);
// Reads only the names at the front of a Bind; the parameter values are relayed as
// they are.
std::optional<Bind> read_bind(std::string_view body);
// The parameter values of a Bind, for audit records that ask for them: text as
// sent, binary values as "\\x" and hex, NULL as nullopt; each cut at
// kAuditedParameterBytes (bind_values.h, which also reads them as they arrive).
std::optional<std::vector<std::optional<std::string>>> read_bind_values(std::string_view body);
// The names at the front of a Bind too large to hold whole: its first bytes.
std::optional<Bind> read_bind_names(std::string_view head);
std::optional<Execute> read_execute(std::string_view body);
std::optional<DescribeOrClose> read_describe_or_close(std::string_view body);

// SASLInitialResponse: the chosen mechanism and the client-first-message.
struct SASLInitialResponse {
    std::string_view mechanism;
    std::string_view data;
};
std::optional<SASLInitialResponse> read_sasl_initial_response(std::string_view body);

// ---- backend ----
struct Authentication {
    int32_t code = 0;
    std::string_view payload;  // salt for MD5, mechanism list or SASL data
};
struct ParameterStatus {
    std::string_view name;
    std::string_view value;
};
struct BackendKeyData {
    int32_t process_id = 0;
    int32_t secret_key = 0;
};
std::optional<Authentication> read_authentication(std::string_view body);
std::optional<ParameterStatus> read_parameter_status(std::string_view body);
std::optional<BackendKeyData> read_backend_key_data(std::string_view body);
std::optional<char> read_ready_for_query(std::string_view body);
std::optional<std::string_view> read_command_complete(std::string_view body);
// The mechanism names listed in an AuthenticationSASL payload.
std::optional<std::vector<std::string_view>> read_sasl_mechanisms(std::string_view payload);

// ErrorResponse / NoticeResponse fields.
std::optional<std::vector<ErrorField>> read_error_fields(std::string_view body);
// The fields complete within the first bytes of one too large to hold whole.
std::vector<ErrorField> read_error_fields_prefix(std::string_view head);
std::string_view find_field(const std::vector<ErrorField>& fields, char type);

}  // namespace pgmoat::protocol
