// Times as pgmoat's files write them: "YYYY-MM-DDTHH:MM:SSZ", UTC only (a freeze
// window or a grant's expiry is no place for a local time zone).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace pgmoat {

std::optional<std::chrono::system_clock::time_point> parse_utc(std::string_view text);
std::string format_utc(std::chrono::system_clock::time_point t);  // to the second

}  // namespace pgmoat
