#include "pgmoat/protocol/bind_values.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/protocol/messages.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat::protocol;

namespace {
// A Bind body (after type and length) with per-parameter format codes.
std::string bind_body(const std::vector<std::optional<std::string>>& values, const std::vector<int16_t>& formats) {
    std::string out;
    MessageWriter w(out);
    w.begin(frontend::Bind).cstring("portal").cstring("stmt").int16(static_cast<int16_t>(formats.size()));
    for (auto f : formats) w.int16(f);
    w.int16(static_cast<int16_t>(values.size()));
    for (const auto& v : values) {
        if (!v) {
            w.int32(-1);
            continue;
        }
        w.int32(static_cast<int32_t>(v->size())).bytes(*v);
    }
    w.int16(0).end();
    return out.substr(5);
}
}  // namespace

TEST_CASE("Bind values read the same however the body is split") {
    std::string body =
        bind_body({std::string("text"), std::nullopt, std::string("\x00\x01", 2), std::string()}, {0, 0, 1, 0});
    std::vector<std::optional<std::string>> expected = {"text", std::nullopt, "\\x0001", ""};
    for (size_t cut = 0; cut <= body.size(); ++cut) {
        BindValueReader r;
        r.feed(std::string_view(body).substr(0, cut));
        CHECK(r.complete() == (cut == body.size() || cut >= body.size() - 2));
        r.feed(std::string_view(body).substr(cut));
        REQUIRE(r.ok());
        REQUIRE(r.complete());
        CHECK(r.take() == expected);
    }
}

TEST_CASE("Bind values: one format code applies to all, none means text") {
    auto all_binary = read_bind_values(bind_body({std::string("a"), std::string("b")}, {1}));
    REQUIRE(all_binary);
    CHECK(*all_binary == std::vector<std::optional<std::string>>{"\\x61", "\\x62"});
    auto text = read_bind_values(bind_body({std::string("a")}, {}));
    REQUIRE(text);
    CHECK(*text == std::vector<std::optional<std::string>>{"a"});
}

TEST_CASE("a value longer than the audit's share is cut there and says how long it was") {
    std::string value(5000, 'x');
    auto v = read_bind_values(bind_body({value, std::string("tail")}, {}));
    REQUIRE(v);
    CHECK((*v)[0] == std::string(kAuditedParameterBytes, 'x') + "… (5000 bytes)");
    CHECK((*v)[1] == "tail");
    auto exact = read_bind_values(bind_body({std::string(kAuditedParameterBytes, 'y')}, {}));
    REQUIRE(exact);
    CHECK((*exact)[0] == std::string(kAuditedParameterBytes, 'y'));
}

TEST_CASE("a Bind with a negative count or length is not read") {
    std::string body = bind_body({std::string("a")}, {});
    std::string negative_length = body;
    negative_length[body.find("stmt") + 5 + 2 + 2] = '\xff';  // first byte of the length
    BindValueReader r;
    r.feed(negative_length);
    CHECK_FALSE(r.ok());
    CHECK_FALSE(read_bind_values(std::string("p\0s\0\xff\xff", 6)));
    // Truncated: not complete, so no values.
    CHECK_FALSE(read_bind_values(body.substr(0, body.size() - 4)));
}

TEST_CASE("the names at the front of a Bind, from its first bytes only") {
    auto names = read_bind_names(std::string_view("portal\0stmt\0\0\x01\0", 15));
    REQUIRE(names);
    CHECK(names->portal == "portal");
    CHECK(names->statement == "stmt");
    CHECK_FALSE(read_bind_names(std::string_view("portal\0stm", 10)));
}

TEST_CASE("the fields of an error too large to hold: those complete in its head") {
    std::string head("SERROR\0C22023\0Mvery long messa", 30);
    auto fields = read_error_fields_prefix(head);
    REQUIRE(fields.size() == 2);
    CHECK(find_field(fields, 'C') == "22023");
    CHECK(find_field(fields, 'M').empty());
}
