// pgmoat's operational log: one line per event on stderr, with a level. Never pass
// credentials, passwords or SCRAM messages to it.
#pragma once

#include <fmt/core.h>

#include <string>
#include <string_view>

namespace pgmoat::log {

enum class Level { debug = 0, info = 1, warning = 2, error = 3 };
// text: `2026-11-24T10:00:00.123Z pgmoat INFO: message`; json: one object per line,
// {"time":"2026-11-24T10:00:00.123Z","level":"info","message":"..."}, for log
// pipelines. Field names are stable.
enum class Format { text, json };

void set_level(Level level);
Level level();
// Parses "debug", "info", "warning", "error"; returns false on anything else.
bool parse_level(std::string_view text, Level& out);
bool enabled(Level level);
void set_format(Format format);
// Parses "text", "json"; returns false on anything else.
bool parse_format(std::string_view text, Format& out);
// One log line, newline included, as write() sends it; `stamp` is the time in
// RFC 3339 UTC with milliseconds.
std::string format_line(Format format, Level level, std::string_view stamp, std::string_view message);
void write(Level level, std::string_view line);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(Level::debug)) write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(Level::info)) write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warning(fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(Level::warning)) write(Level::warning, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(Level::error)) write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace pgmoat::log
