// Building protocol messages into an output byte string. begin() writes the type
// byte and a length placeholder, end() patches the length: no message is ever
// written with a wrong length.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgmoat::protocol {

class MessageWriter {
  public:
    explicit MessageWriter(std::string& out) : out_(out) {}

    // type 0 starts an untyped startup-phase packet.
    MessageWriter& begin(char type);
    MessageWriter& int32(int32_t v);
    MessageWriter& int16(int16_t v);
    MessageWriter& byte(uint8_t v);
    MessageWriter& cstring(std::string_view s);
    MessageWriter& bytes(std::string_view s);
    void end();

  private:
    std::string& out_;
    size_t length_at_ = 0;  // offset of the length field of the open message
};

// Any message around a body built elsewhere (a client's message passed on with
// a changed name, say): the type byte, the length, the body.
void write_message(std::string& out, char type, std::string_view body);
// Its type byte and length only, for a body of body_size bytes the caller writes
// (or streams) after it. body_size is at most the 1 GB message limit.
void write_message_header(std::string& out, char type, size_t body_size);

// One field of an ErrorResponse or NoticeResponse, keyed by its field type byte
// ('S' severity, 'V' non-localized severity, 'C' SQLSTATE, 'M' message, 'D' detail,
// 'H' hint, 'P' position, ...).
struct ErrorField {
    char type;
    std::string value;
};

// What pgmoat says when it raises an error itself.
struct ErrorFields {
    std::string severity = "ERROR";  // ERROR, FATAL
    std::string sqlstate;
    std::string message;
    std::string detail;
    std::string hint;
    int position = 0;  // 1-based character position in the statement text, 0 = none
};

// Messages pgmoat writes to clients.
void write_error_response(std::string& out, const ErrorFields& e);
void write_notice_response(std::string& out, const ErrorFields& e);
void write_ready_for_query(std::string& out, char transaction_status);
void write_parameter_status(std::string& out, std::string_view name, std::string_view value);
void write_backend_key_data(std::string& out, int32_t process_id, int32_t secret_key);
void write_authentication(std::string& out, int32_t code, std::string_view payload = {});
void write_authentication_sasl(std::string& out, const std::vector<std::string>& mechanisms);
void write_negotiate_protocol_version(std::string& out, int32_t newest_minor,
                                      const std::vector<std::string>& unrecognized_options);
// A result pgmoat answers itself (the admin console): text columns, text values
// (nullopt: NULL), then CommandComplete with its tag.
void write_row_description(std::string& out, const std::vector<std::string>& columns);
void write_data_row(std::string& out, const std::vector<std::optional<std::string>>& values);
void write_command_complete(std::string& out, std::string_view tag);
void write_empty_query_response(std::string& out);

// Messages pgmoat writes to upstream servers.
void write_startup_message(std::string& out, const std::vector<std::pair<std::string, std::string>>& params);
void write_ssl_request(std::string& out);
void write_cancel_request(std::string& out, int32_t process_id, int32_t secret_key);
void write_password_message(std::string& out, std::string_view password);
void write_sasl_initial_response(std::string& out, std::string_view mechanism, std::string_view data);
void write_sasl_response(std::string& out, std::string_view data);
void write_query(std::string& out, std::string_view sql);
void write_parse(std::string& out, std::string_view name, std::string_view sql);
void write_terminate(std::string& out);
void write_flush(std::string& out);

}  // namespace pgmoat::protocol
