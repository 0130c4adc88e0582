// PostgreSQL 15's parse_int() and convert_to_base_unit() (guc.c) for the settings
// a policy bounds. The reading must be the server's, byte for byte: a value pgmoat
// read as smaller than the server does would let a SET raise a limit.
#include "pgmoat/policy/setting_limits.h"

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <string>

namespace pgmoat::policy {

namespace {

struct UnitConversion {
    std::string_view unit;
    double multiplier;  // to the base unit
};

// guc.c's tables for base units kB and ms, largest unit first: a fraction of one
// unit is rounded to a whole number of the next smaller one, as PostgreSQL does.
constexpr UnitConversion kKilobyteUnits[] = {
    {"TB", 1024.0 * 1024.0 * 1024.0}, {"GB", 1024.0 * 1024.0}, {"MB", 1024.0}, {"kB", 1.0}, {"B", 1.0 / 1024.0}};
constexpr UnitConversion kMillisecondUnits[] = {{"d", 1000.0 * 60 * 60 * 24},
                                                {"h", 1000.0 * 60 * 60},
                                                {"min", 1000.0 * 60},
                                                {"s", 1000.0},
                                                {"ms", 1.0},
                                                {"us", 1.0 / 1000}};

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

template <size_t N>
std::optional<double> to_base_unit(double value, std::string_view rest, const UnitConversion (&table)[N]) {
    constexpr size_t kMaxUnitLength = 3;  // guc.c's MAX_UNIT_LEN
    size_t n = 0;
    while (n < rest.size() && n < kMaxUnitLength && !is_space(rest[n])) ++n;
    std::string_view unit = rest.substr(0, n);
    size_t after = n;
    while (after < rest.size() && is_space(rest[after])) ++after;
    if (after != rest.size()) return std::nullopt;  // unit too long, or garbage after it
    for (size_t i = 0; i < N; ++i) {
        if (table[i].unit != unit) continue;
        double base = value * table[i].multiplier;
        // The smallest unit in the table has no smaller one to round to; the B
        // and us rows are the last of their base unit in guc.c too.
        if (i + 1 < N) base = std::rint(base / table[i + 1].multiplier) * table[i + 1].multiplier;
        return base;
    }
    return std::nullopt;
}

}  // namespace

const std::vector<BoundedSetting>& bounded_settings() {
    static const std::vector<BoundedSetting> settings = {
        {"statement_timeout", SettingUnit::milliseconds, 0, INT_MAX, 0},
        {"idle_in_transaction_session_timeout", SettingUnit::milliseconds, 0, INT_MAX, 0},
        {"lock_timeout", SettingUnit::milliseconds, 0, INT_MAX, 0},
        {"work_mem", SettingUnit::kilobytes, 64, INT_MAX, std::nullopt},
        {"temp_file_limit", SettingUnit::kilobytes, -1, INT_MAX, -1},
    };
    return settings;
}

const BoundedSetting* find_bounded_setting(std::string_view parameter) {
    for (const auto& s : bounded_settings())
        if (s.parameter == parameter) return &s;
    return nullptr;
}

std::optional<int64_t> setting_base_value(std::string_view parameter, std::string_view text) {
    const BoundedSetting* setting = find_bounded_setting(parameter);
    if (!setting || text.find('\0') != std::string_view::npos) return std::nullopt;
    std::string value(text);  // strtol and strtod need a terminator
    const char* begin = value.c_str();
    char* end = nullptr;
    // As parse_int: an integer in C's notation (octal and hex too), re-read as a
    // float when it stops at a decimal point or exponent or overflows.
    errno = 0;
    double number = static_cast<double>(std::strtol(begin, &end, 0));
    if (*end == '.' || *end == 'e' || *end == 'E' || errno == ERANGE) {
        errno = 0;
        number = std::strtod(begin, &end);
    }
    if (end == begin || errno == ERANGE || std::isnan(number)) return std::nullopt;
    std::string_view rest(end);
    while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
    if (!rest.empty()) {
        auto base = setting->unit == SettingUnit::kilobytes ? to_base_unit(number, rest, kKilobyteUnits)
                                                            : to_base_unit(number, rest, kMillisecondUnits);
        if (!base) return std::nullopt;
        number = *base;
    }
    number = std::rint(number);
    if (!(number >= INT_MIN && number <= INT_MAX)) return std::nullopt;
    auto result = static_cast<int64_t>(number);
    if (result < setting->min || result > setting->max) return std::nullopt;
    if (setting->unlimited && result == *setting->unlimited) return INT64_MAX;
    return result;
}

}  // namespace pgmoat::policy
