// The general message writer: a body built elsewhere goes out with its type byte
// and a length that counts itself, as a PostgreSQL peer reads it.
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/message.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat::protocol;
using namespace std::string_literals;

TEST_CASE("write_message: type byte, big-endian length counting itself, then the body as given") {
    std::string out = "before";
    write_message(out, frontend::Close, "Sname\0"s);
    CHECK(out == "beforeC\0\0\0\x0aSname\0"s);
    std::string empty;
    write_message(empty, frontend::Sync, {});
    CHECK(empty == "S\0\0\0\x04"s);
    // A body with zero bytes inside and bytes >= 0x80 goes through untouched.
    std::string body = "a\0\xff\x80z"s;
    std::string bytes;
    write_message(bytes, frontend::Bind, body);
    auto r = decode_message(bytes, 1 << 20);
    REQUIRE(r.status == DecodeStatus::frame);
    CHECK(r.frame.type == frontend::Bind);
    CHECK(r.frame.body == body);
    CHECK(r.frame.size == bytes.size());
}

TEST_CASE("write_message_header: the header alone, for a body streamed after it") {
    std::string header;
    write_message_header(header, frontend::Bind, 0x01020304 - 4);
    CHECK(header == "B\x01\x02\x03\x04"s);
    // PostgreSQL's largest message (1 GB - 1): bytes >= 0x80 are written as they are.
    header.clear();
    write_message_header(header, frontend::Bind, 0x3fffffff - 4);
    CHECK(header == "B\x3f\xff\xff\xff"s);
    // Header then body reads as the same message write_message makes.
    std::string streamed, whole;
    write_message_header(streamed, frontend::Parse, 5);
    streamed += "s\0q\0\0"s;
    write_message(whole, frontend::Parse, "s\0q\0\0"s);
    CHECK(streamed == whole);
}
