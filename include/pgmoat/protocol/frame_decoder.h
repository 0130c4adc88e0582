// Incremental, bounded framing of the byte stream into messages. The decoder looks
// at the front of whatever bytes have arrived and says: a whole frame is there, more
// bytes are needed, or the bytes are not a valid frame. It never allocates and never
// trusts a length field it has not checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pgmoat::protocol {

struct Frame {
    char type = 0;          // 0 for untyped startup-phase packets
    std::string_view body;  // the message contents after the length field
    size_t size = 0;        // bytes of the whole frame, header included
    // The body is the frame's tail, so the header is what comes before it. (The type
    // byte cannot tell: a typed message may carry type 0, which is invalid but framed.)
    size_t header_size() const { return size - body.size(); }
    std::string_view bytes() const { return {body.data() - header_size(), size}; }
};

enum class DecodeStatus { frame, need_more, error };

struct DecodeResult {
    DecodeStatus status = DecodeStatus::need_more;
    Frame frame;  // valid when status == frame
    // When need_more: the total frame size if the header has arrived (else 0), so a
    // caller can choose to stream a large message instead of buffering it whole.
    size_t frame_size = 0;
    char type = 0;      // the type byte, when at least one byte has arrived
    std::string error;  // when status == error, what is wrong, for the 08P01 message
};

// Typed messages: a type byte, then a 32-bit length that counts itself and the body.
DecodeResult decode_message(std::string_view input, uint32_t max_body_bytes);

// Startup-phase packets (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest):
// a 32-bit length counting itself, then the body, at most kMaxStartupPacketBytes.
DecodeResult decode_startup_packet(std::string_view input);

}  // namespace pgmoat::protocol
