// Operational log on stderr. Each line is written with a single write(2) so lines
// from different threads never interleave.
#include "pgmoat/common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

namespace pgmoat::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};

const char* name(Level level) {
    switch (level) {
        case Level::debug: return "DEBUG";
        case Level::info: return "INFO";
        case Level::warning: return "WARNING";
        case Level::error: return "ERROR";
    }
    return "?";
}
}  // namespace

void set_level(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }
Level level() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }
bool enabled(Level l) { return static_cast<int>(l) >= g_level.load(std::memory_order_relaxed); }

bool parse_level(std::string_view text, Level& out) {
    if (text == "debug") out = Level::debug;
    else if (text == "info") out = Level::info;
    else if (text == "warning") out = Level::warning;
    else if (text == "error") out = Level::error;
    else return false;
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
    std::string out = fmt::format("{}.{:03}Z pgmoat {}: ", stamp, millis, name(l));
    // Keep one event on one line even if a message carries a newline.
    for (char c : line) out.push_back(c == '\n' ? ' ' : c);
    out.push_back('\n');
    size_t off = 0;
    while (off < out.size()) {
        ssize_t n = ::write(STDERR_FILENO, out.data() + off, out.size() - off);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
    }
}

}  // namespace pgmoat::log
