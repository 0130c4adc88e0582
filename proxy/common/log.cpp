// Operational log on stderr. Each line is written with a single write(2) so lines
// from different threads never interleave.
#include "pgmoat/common/log.h"

#include "pgmoat/common/json_writer.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

namespace pgmoat::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::atomic<int> g_format{static_cast<int>(Format::text)};

const char* name(Level level) {
    switch (level) {
        case Level::debug:
            return "DEBUG";
        case Level::info:
            return "INFO";
        case Level::warning:
            return "WARNING";
        case Level::error:
            return "ERROR";
    }
    return "?";
}
}  // namespace

void set_level(Level level) {
    g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}
Level level() {
    return static_cast<Level>(g_level.load(std::memory_order_relaxed));
}
bool enabled(Level l) {
    return static_cast<int>(l) >= g_level.load(std::memory_order_relaxed);
}

void set_format(Format format) {
    g_format.store(static_cast<int>(format), std::memory_order_relaxed);
}

bool parse_format(std::string_view text, Format& out) {
    if (text == "text")
        out = Format::text;
    else if (text == "json")
        out = Format::json;
    else
        return false;
    return true;
}

std::string format_line(Format format, Level l, std::string_view stamp, std::string_view message) {
    std::string out;
    if (format == Format::json) {
        std::string level(name(l));
        for (auto& c : level) c = static_cast<char>(c - 'A' + 'a');
        JsonWriter(out)
            .begin_object()
            .key("time")
            .value(stamp)
            .key("level")
            .value(level)
            .key("message")
            .value(message)
            .end_object();
    } else {
        out = fmt::format("{} pgmoat {}: ", stamp, name(l));
        // Keep one event on one line even if a message carries a newline.
        for (char c : message) out.push_back(c == '\n' ? ' ' : c);
    }
    out.push_back('\n');
    return out;
}

bool parse_level(std::string_view text, Level& out) {
    if (text == "debug")
        out = Level::debug;
    else if (text == "info")
        out = Level::info;
    else if (text == "warning")
        out = Level::warning;
    else if (text == "error")
        out = Level::error;
    else
        return false;
    return true;
}

void write(Level l, std::string_view line) {
    using namespace std::chrono;
    auto now = system_clock::now();
    auto secs = system_clock::to_time_t(now);
    auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string out = format_line(static_cast<Format>(g_format.load(std::memory_order_relaxed)), l,
                                  fmt::format("{}.{:03}Z", stamp, millis), line);
    size_t off = 0;
    while (off < out.size()) {
        ssize_t n = ::write(STDERR_FILENO, out.data() + off, out.size() - off);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
    }
}

}  // namespace pgmoat::log
