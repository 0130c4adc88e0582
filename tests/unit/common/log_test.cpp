#include "pgmoat/common/log.h"

#include <doctest/doctest.h>

using namespace pgmoat;

TEST_CASE("text log lines: time, level, message on one line") {
    CHECK(log::format_line(log::Format::text, log::Level::warning, "2026-11-24T10:00:00.123Z", "a\nb") ==
          "2026-11-24T10:00:00.123Z pgmoat WARNING: a b\n");
}

TEST_CASE("json log lines: one object per line with stable fields, whatever the message holds") {
    CHECK(log::format_line(log::Format::json, log::Level::info, "2026-11-24T10:00:00.123Z",
                           "session 7: app \"x\"\nrefused\t\x01") ==
          "{\"time\":\"2026-11-24T10:00:00.123Z\",\"level\":\"info\",\"message\":\"session 7: app "
          "\\\"x\\\"\\nrefused\\t\\u0001\"}\n");
    CHECK(log::format_line(log::Format::json, log::Level::error, "t", "\xff") ==
          "{\"time\":\"t\",\"level\":\"error\",\"message\":\"\\ufffd\"}\n");
    log::Format f;
    CHECK(log::parse_format("json", f));
    CHECK(f == log::Format::json);
    CHECK_FALSE(log::parse_format("JSON", f));
}
