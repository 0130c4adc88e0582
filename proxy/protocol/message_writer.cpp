#include "pgmoat/protocol/message_writer.h"

#include "pgmoat/protocol/message.h"

#include <string>

namespace pgmoat::protocol {

MessageWriter& MessageWriter::begin(char type) {
    if (type) out_.push_back(type);
    length_at_ = out_.size();
    out_.append(4, '\0');
    return *this;
}

MessageWriter& MessageWriter::int32(int32_t v) {
    auto u = static_cast<uint32_t>(v);
    char b[4] = {static_cast<char>(u >> 24), static_cast<char>(u >> 16), static_cast<char>(u >> 8),
                 static_cast<char>(u)};
    out_.append(b, 4);
    return *this;
}

MessageWriter& MessageWriter::int16(int16_t v) {
    auto u = static_cast<uint16_t>(v);
    char b[2] = {static_cast<char>(u >> 8), static_cast<char>(u)};
    out_.append(b, 2);
    return *this;
}

MessageWriter& MessageWriter::byte(uint8_t v) {
    out_.push_back(static_cast<char>(v));
    return *this;
}

MessageWriter& MessageWriter::cstring(std::string_view s) {
    // An embedded zero byte would end the string early and desynchronize the reader
    // on the other side; cut the string there instead.
    auto nul = s.find('\0');
    if (nul != std::string_view::npos) s = s.substr(0, nul);
    out_.append(s);
    out_.push_back('\0');
    return *this;
}

MessageWriter& MessageWriter::bytes(std::string_view s) {
    out_.append(s);
    return *this;
}

void MessageWriter::end() {
    auto len = static_cast<uint32_t>(out_.size() - length_at_);
    out_[length_at_] = static_cast<char>(len >> 24);
    out_[length_at_ + 1] = static_cast<char>(len >> 16);
    out_[length_at_ + 2] = static_cast<char>(len >> 8);
    out_[length_at_ + 3] = static_cast<char>(len);
}

void write_message(std::string& out, char type, std::string_view body) {
    MessageWriter(out).begin(type).bytes(body).end();
}

void write_message_header(std::string& out, char type, size_t body_size) {
    out.push_back(type);
    MessageWriter(out).int32(static_cast<int32_t>(body_size + 4));
}

namespace {
void write_error_fields(std::string& out, char type, const ErrorFields& e) {
    MessageWriter w(out);
    w.begin(type);
    w.byte('S').cstring(e.severity);
    w.byte('V').cstring(e.severity);
    w.byte('C').cstring(e.sqlstate);
    w.byte('M').cstring(e.message);
    if (!e.detail.empty()) w.byte('D').cstring(e.detail);
    if (!e.hint.empty()) w.byte('H').cstring(e.hint);
    if (e.position > 0) w.byte('P').cstring(std::to_string(e.position));
    w.byte(0);
    w.end();
}
}  // namespace

void write_error_response(std::string& out, const ErrorFields& e) {
    write_error_fields(out, backend::ErrorResponse, e);
}

void write_notice_response(std::string& out, const ErrorFields& e) {
    write_error_fields(out, backend::NoticeResponse, e);
}

void write_ready_for_query(std::string& out, char transaction_status) {
    MessageWriter(out).begin(backend::ReadyForQuery).byte(static_cast<uint8_t>(transaction_status)).end();
}

void write_row_description(std::string& out, const std::vector<std::string>& columns) {
    constexpr int32_t kTextOid = 25;
    MessageWriter w(out);
    w.begin(backend::RowDescription).int16(static_cast<int16_t>(columns.size()));
    for (const auto& c : columns) w.cstring(c).int32(0).int16(0).int32(kTextOid).int16(-1).int32(-1).int16(0);
    w.end();
}

void write_data_row(std::string& out, const std::vector<std::optional<std::string>>& values) {
    MessageWriter w(out);
    w.begin(backend::DataRow).int16(static_cast<int16_t>(values.size()));
    for (const auto& v : values) {
        if (!v) {
            w.int32(-1);
            continue;
        }
        w.int32(static_cast<int32_t>(v->size())).bytes(*v);
    }
    w.end();
}

void write_command_complete(std::string& out, std::string_view tag) {
    MessageWriter(out).begin(backend::CommandComplete).cstring(tag).end();
}

void write_empty_query_response(std::string& out) {
    MessageWriter(out).begin(backend::EmptyQueryResponse).end();
}

void write_parameter_status(std::string& out, std::string_view name, std::string_view value) {
    MessageWriter(out).begin(backend::ParameterStatus).cstring(name).cstring(value).end();
}

void write_backend_key_data(std::string& out, int32_t process_id, int32_t secret_key) {
    MessageWriter(out).begin(backend::BackendKeyData).int32(process_id).int32(secret_key).end();
}

void write_authentication(std::string& out, int32_t code, std::string_view payload) {
    MessageWriter(out).begin(backend::Authentication).int32(code).bytes(payload).end();
}

void write_authentication_sasl(std::string& out, const std::vector<std::string>& mechanisms) {
    MessageWriter w(out);
    w.begin(backend::Authentication).int32(auth_request::SASL);
    for (const auto& m : mechanisms) w.cstring(m);
    w.byte(0).end();
}

void write_negotiate_protocol_version(std::string& out, int32_t newest_minor,
                                      const std::vector<std::string>& unrecognized_options) {
    MessageWriter w(out);
    w.begin(backend::NegotiateProtocolVersion)
        .int32(kProtocolVersion3 | newest_minor)
        .int32(static_cast<int32_t>(unrecognized_options.size()));
    for (const auto& o : unrecognized_options) w.cstring(o);
    w.end();
}

void write_startup_message(std::string& out, const std::vector<std::pair<std::string, std::string>>& params) {
    MessageWriter w(out);
    w.begin(0).int32(kProtocolVersion3);
    for (const auto& [k, v] : params) w.cstring(k).cstring(v);
    w.byte(0).end();
}

void write_ssl_request(std::string& out) {
    MessageWriter(out).begin(0).int32(kSSLRequestCode).end();
}

void write_cancel_request(std::string& out, int32_t process_id, int32_t secret_key) {
    MessageWriter(out).begin(0).int32(kCancelRequestCode).int32(process_id).int32(secret_key).end();
}

void write_password_message(std::string& out, std::string_view password) {
    MessageWriter(out).begin(frontend::PasswordMessage).cstring(password).end();
}

void write_sasl_initial_response(std::string& out, std::string_view mechanism, std::string_view data) {
    MessageWriter(out)
        .begin(frontend::PasswordMessage)
        .cstring(mechanism)
        .int32(static_cast<int32_t>(data.size()))
        .bytes(data)
        .end();
}

void write_sasl_response(std::string& out, std::string_view data) {
    write_message(out, frontend::PasswordMessage, data);
}

void write_query(std::string& out, std::string_view sql) {
    MessageWriter(out).begin(frontend::Query).cstring(sql).end();
}

void write_parse(std::string& out, std::string_view name, std::string_view sql) {
    MessageWriter(out).begin(frontend::Parse).cstring(name).cstring(sql).int16(0).end();
}

void write_terminate(std::string& out) {
    MessageWriter(out).begin(frontend::Terminate).end();
}

void write_flush(std::string& out) {
    MessageWriter(out).begin(frontend::Flush).end();
}

}  // namespace pgmoat::protocol
