// "YYYY-MM-DDTHH:MM:SSZ" both ways.
#include "pgmoat/common/utc_time.h"

#include <fmt/format.h>

#include <charconv>

namespace pgmoat {

std::optional<std::chrono::system_clock::time_point> parse_utc(std::string_view t) {
    if (t.size() != 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' || t[19] != 'Z')
        return std::nullopt;
    auto number = [&](size_t at, size_t len) -> std::optional<int> {
        int v = 0;
        auto [end, ec] = std::from_chars(t.data() + at, t.data() + at + len, v);
        if (ec != std::errc() || end != t.data() + at + len) return std::nullopt;
        return v;
    };
    auto y = number(0, 4), mo = number(5, 2), d = number(8, 2), h = number(11, 2), mi = number(14, 2),
         s = number(17, 2);
    if (!y || !mo || !d || !h || !mi || !s || *mo < 1 || *mo > 12 || *h > 23 || *mi > 59 || *s > 59)
        return std::nullopt;
    std::chrono::year_month_day ymd{std::chrono::year{*y}, std::chrono::month{static_cast<unsigned>(*mo)},
                                    std::chrono::day{static_cast<unsigned>(*d)}};
    if (!ymd.ok()) return std::nullopt;
    return std::chrono::sys_days{ymd} + std::chrono::hours{*h} + std::chrono::minutes{*mi} + std::chrono::seconds{*s};
}

std::string format_utc(std::chrono::system_clock::time_point t) {
    auto secs = std::chrono::floor<std::chrono::seconds>(t);
    auto days = std::chrono::floor<std::chrono::days>(secs);
    std::chrono::year_month_day ymd{days};
    std::chrono::hh_mm_ss hms{secs - days};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                       hms.minutes().count(), hms.seconds().count());
}

}  // namespace pgmoat
