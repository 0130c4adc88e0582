#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/protocol/messages.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace pgmoat::protocol;

namespace {
// Feeds bytes to the decoder the way a socket would deliver them, in chunks, and
// returns the frames in order (type + body), as a session would see them.
std::vector<std::pair<char, std::string>> feed_in_chunks(const std::string& stream, size_t chunk) {
    std::vector<std::pair<char, std::string>> frames;
    std::string buffer;
    for (size_t off = 0; off < stream.size(); off += chunk) {
        buffer.append(stream.substr(off, chunk));
        while (true) {
            auto r = decode_message(buffer, 1 << 20);
            REQUIRE(r.status != DecodeStatus::error);
            if (r.status == DecodeStatus::need_more) break;
            frames.emplace_back(r.frame.type, std::string(r.frame.body));
            buffer.erase(0, r.frame.size);
        }
    }
    CHECK(buffer.empty());
    return frames;
}

std::string length_prefixed(char type, int32_t length, const std::string& body = {}) {
    std::string s(1, type);
    auto u = static_cast<uint32_t>(length);
    s += static_cast<char>(u >> 24);
    s += static_cast<char>(u >> 16);
    s += static_cast<char>(u >> 8);
    s += static_cast<char>(u);
    return s + body;
}
}  // namespace

TEST_CASE("a pipeline split at every byte boundary decodes to the same messages") {
    std::string stream;
    write_parse(stream, "s1", "SELECT $1::int");
    write_query(stream, "SELECT 1");
    write_terminate(stream);  // an empty body
    write_query(stream, std::string(3000, 'x'));
    for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
        auto frames = feed_in_chunks(stream, chunk);
        REQUIRE(frames.size() == 4);
        CHECK(frames[0].first == 'P');
        CHECK(frames[1].first == 'Q');
        CHECK(frames[1].second == std::string("SELECT 1\0", 9));
        CHECK(frames[2].first == 'X');
        CHECK(frames[2].second.empty());
        CHECK(frames[3].second.size() == 3001);
    }
}

TEST_CASE("many messages in one read come out one by one") {
    std::string stream;
    for (int i = 0; i < 1000; ++i) write_query(stream, "SELECT " + std::to_string(i));
    auto frames = feed_in_chunks(stream, stream.size());
    REQUIRE(frames.size() == 1000);
    CHECK(frames[999].second == std::string("SELECT 999\0", 11));
}

TEST_CASE("a partial header asks for more and reports the frame size once known") {
    std::string q;
    write_query(q, "SELECT 1");
    auto r = decode_message(q.substr(0, 3), 1000);
    CHECK(r.status == DecodeStatus::need_more);
    CHECK(r.frame_size == 0);
    CHECK(r.type == 'Q');
    r = decode_message(q.substr(0, 6), 1000);
    CHECK(r.status == DecodeStatus::need_more);
    CHECK(r.frame_size == q.size());
}

TEST_CASE("every invalid length is an error, never a frame") {
    for (int32_t len : {-1, -2147483647 - 1, 0, 1, 2, 3}) {
        CAPTURE(len);
        auto r = decode_message(length_prefixed('Q', len), 1 << 20);
        CHECK(r.status == DecodeStatus::error);
        CHECK(r.error.find("invalid message length") != std::string::npos);
    }
    auto over = decode_message(length_prefixed('Q', 2147483647), 1 << 20);
    CHECK(over.status == DecodeStatus::error);
    CHECK(over.error.find("exceeds the maximum") != std::string::npos);
    // Exactly at the maximum is allowed, one byte over is not.
    CHECK(decode_message(length_prefixed('d', 4 + 100), 100).status == DecodeStatus::need_more);
    CHECK(decode_message(length_prefixed('d', 4 + 101), 100).status == DecodeStatus::error);
    // Length 4 is an empty body: valid.
    CHECK(decode_message(length_prefixed('S', 4), 100).status == DecodeStatus::frame);
}

TEST_CASE("startup packets are capped at 10000 bytes and must hold at least a code") {
    std::string ssl;
    write_ssl_request(ssl);
    auto r = decode_startup_packet(ssl);
    REQUIRE(r.status == DecodeStatus::frame);
    CHECK(std::holds_alternative<SSLRequest>(read_startup_packet(r.frame.body)));

    for (int32_t len : {-1, 0, 4, 7, 10001, 2147483647}) {
        CAPTURE(len);
        std::string p = length_prefixed('x', len).substr(1);
        CHECK(decode_startup_packet(p).status == DecodeStatus::error);
    }
    std::string p = length_prefixed('x', 10000).substr(1);
    CHECK(decode_startup_packet(p).status == DecodeStatus::need_more);
}

TEST_CASE("startup message parameters are read in order; a missing terminator is invalid") {
    std::string s;
    write_startup_message(s, {{"user", "app"}, {"database", "dev"}, {"application_name", "x"}});
    auto r = decode_startup_packet(s);
    REQUIRE(r.status == DecodeStatus::frame);
    auto packet = read_startup_packet(r.frame.body);
    auto* m = std::get_if<StartupMessage>(&packet);
    REQUIRE(m);
    CHECK(m->minor == 0);
    REQUIRE(m->parameters.size() == 3);
    CHECK(*m->find("database") == "dev");

    std::string body(r.frame.body);
    body.pop_back();  // drop the final terminator
    CHECK(std::holds_alternative<InvalidStartup>(read_startup_packet(body)));
    body.pop_back();  // now the last value is unterminated too
    CHECK(std::holds_alternative<InvalidStartup>(read_startup_packet(body)));
}

TEST_CASE("a cancel request with trailing bytes is invalid") {
    std::string c;
    write_cancel_request(c, 42, 7);
    auto r = decode_startup_packet(c);
    REQUIRE(r.status == DecodeStatus::frame);
    auto ok = read_startup_packet(r.frame.body);
    REQUIRE(std::holds_alternative<CancelRequest>(ok));
    CHECK(std::get<CancelRequest>(ok).process_id == 42);
    std::string body(r.frame.body);
    body += "x";
    CHECK(std::holds_alternative<InvalidStartup>(read_startup_packet(body)));
}

TEST_CASE("message readers refuse bodies with the wrong shape") {
    CHECK_FALSE(read_query(std::string_view("SELECT 1", 8)));                // no terminator
    CHECK_FALSE(read_query(std::string_view("SELECT 1\0x", 10)));            // trailing byte
    CHECK_FALSE(read_parse(std::string_view("s\0SELECT 1\0\0\x01", 13)));    // 1 type promised, none sent
    CHECK_FALSE(read_parse(std::string_view("s\0SELECT 1\0\xff\xff", 13)));  // negative count
    CHECK(read_parse(std::string_view("s\0SELECT 1\0\0\0", 13)));
    CHECK_FALSE(read_execute(std::string_view("\0\0\0", 3)));
    CHECK_FALSE(read_describe_or_close(std::string_view("X\0", 2)));
    CHECK(read_describe_or_close(std::string_view("S\0", 2)));
    // Bind: portal, statement, 0 formats, 1 param of length 5 but only 2 bytes sent.
    CHECK_FALSE(
        read_bind(std::string_view("\0\0\0\0\0\x01\0\0\0\x05"
                                   "ab\0\0",
                                   14)));
    CHECK(
        read_bind(std::string_view("\0\0\0\0\0\x01\0\0\0\x02"
                                   "ab\0\0",
                                   14)));
    CHECK_FALSE(read_bind(std::string_view("\0\0\0\0\0\x01\xff\xff\xff\xfe\0\0", 12)));  // length -2
}

TEST_CASE("error fields round trip and a missing terminator is refused") {
    std::string out;
    ErrorFields e;
    e.sqlstate = "42501";
    e.message = "pgmoat: rejected";
    e.hint = "use $1";
    e.position = 12;
    write_error_response(out, e);
    auto r = decode_message(out, 1 << 20);
    REQUIRE(r.status == DecodeStatus::frame);
    auto fields = read_error_fields(r.frame.body);
    REQUIRE(fields);
    CHECK(find_field(*fields, 'C') == "42501");
    CHECK(find_field(*fields, 'P') == "12");
    CHECK(find_field(*fields, 'D').empty());
    std::string body(r.frame.body);
    body.pop_back();
    CHECK_FALSE(read_error_fields(body));
}

TEST_CASE("a typed message whose type byte is 0 is framed whole, header included") {
    // Type 0 is no valid message, but the framing must still hand back exactly the
    // bytes of the frame: the session refuses it by type, naming the byte.
    std::string m = length_prefixed('\0', 6) + "ab";
    auto r = decode_message(m, 1000);
    REQUIRE(r.status == DecodeStatus::frame);
    CHECK(r.frame.header_size() == 5);
    CHECK(r.frame.body == "ab");
    CHECK(r.frame.bytes() == m);
}
