// The server settings a policy bounds (statement_timeout, work_mem, ...) and
// PostgreSQL's own reading of their values, so that pgmoat and the server agree
// on what "30s" or '0x10' means before pgmoat lets a SET through.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace pgmoat::policy {

enum class SettingUnit : uint8_t { milliseconds, kilobytes };

struct BoundedSetting {
    std::string_view parameter;  // as PostgreSQL matches it: lower case
    SettingUnit unit;
    int64_t min;  // PostgreSQL's own range: a value outside it is refused by the server
    int64_t max;
    // The value that means "no limit" (0 for the timeouts, -1 for temp_file_limit).
    std::optional<int64_t> unlimited;
};

// Every setting a policy's [limits] may bound, in documentation order.
const std::vector<BoundedSetting>& bounded_settings();
const BoundedSetting* find_bounded_setting(std::string_view parameter);

// The value in the setting's base unit (ms or kB) as PostgreSQL's parse_int reads
// it: an integer (decimal, 0x hex or 0 octal) or a fraction, optional white
// space, an optional unit (us, ms, s, min, h, d; B, kB, MB, GB, TB; case
// matters), rounded. "No limit" reads as INT64_MAX. nullopt: PostgreSQL would
// refuse the value, or the parameter is not bounded.
std::optional<int64_t> setting_base_value(std::string_view parameter, std::string_view text);

}  // namespace pgmoat::policy
