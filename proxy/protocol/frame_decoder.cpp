#include "pgmoat/protocol/frame_decoder.h"

#include "pgmoat/protocol/message.h"

#include <fmt/format.h>

namespace pgmoat::protocol {

namespace {
int64_t read_length(std::string_view in, size_t at) {
    auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(in[at + i])); };
    // The field is a signed Int32 on the wire; keep the sign so negatives are caught.
    return static_cast<int32_t>((b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3));
}

DecodeResult error(std::string message) {
    DecodeResult r;
    r.status = DecodeStatus::error;
    r.error = std::move(message);
    return r;
}
}  // namespace

DecodeResult decode_message(std::string_view in, uint32_t max_body_bytes) {
    DecodeResult r;
    if (in.empty()) return r;
    r.type = in[0];
    if (in.size() < 5) return r;
    int64_t len = read_length(in, 1);
    if (len < 4) {
        return error(fmt::format("invalid message length {} for message type '{}'", len,
                                 r.type >= 32 && r.type < 127 ? r.type : '?'));
    }
    if (static_cast<uint64_t>(len) - 4 > max_body_bytes) {
        return error(fmt::format("message of {} bytes exceeds the maximum of {} bytes", len, max_body_bytes));
    }
    size_t total = static_cast<size_t>(len) + 1;
    r.frame_size = total;
    if (in.size() < total) return r;
    r.status = DecodeStatus::frame;
    r.frame.type = r.type;
    r.frame.body = in.substr(5, total - 5);
    r.frame.size = total;
    return r;
}

DecodeResult decode_startup_packet(std::string_view in) {
    DecodeResult r;
    if (in.size() < 4) return r;
    int64_t len = read_length(in, 0);
    // The smallest valid packet is a bare code (SSLRequest): length plus 4 bytes.
    if (len < 8) return error(fmt::format("invalid length of startup packet: {}", len));
    if (len > kMaxStartupPacketBytes) {
        return error(
            fmt::format("startup packet of {} bytes exceeds the maximum of {} bytes", len, kMaxStartupPacketBytes));
    }
    size_t total = static_cast<size_t>(len);
    r.frame_size = total;
    if (in.size() < total) return r;
    r.status = DecodeStatus::frame;
    r.frame.type = 0;
    r.frame.body = in.substr(4, total - 4);
    r.frame.size = total;
    return r;
}

}  // namespace pgmoat::protocol
