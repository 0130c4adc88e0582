#include "pgmoat/session/startup_options.h"

#include <fmt/format.h>

#include <cctype>

namespace pgmoat::session {

namespace {
bool is_space(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
}

// pg_split_opts: words at unescaped white space; a backslash makes the next byte
// literal (white space or a backslash) and is itself dropped.
std::vector<std::string> split(std::string_view s) {
    std::vector<std::string> words;
    size_t i = 0;
    while (true) {
        while (i < s.size() && is_space(s[i])) ++i;
        if (i == s.size()) return words;
        std::string word;
        bool escaped = false;
        for (; i < s.size(); ++i) {
            if (is_space(s[i]) && !escaped) break;
            if (!escaped && s[i] == '\\') {
                escaped = true;
            } else {
                escaped = false;
                word.push_back(s[i]);
            }
        }
        words.push_back(std::move(word));
    }
}

// ParseLongOption: "name=value", dashes in the name read as underscores.
bool add_setting(std::string_view text, StartupOptions& out) {
    auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) return false;
    std::string name(text.substr(0, eq));
    for (char& c : name)
        if (c == '-') c = '_';
    out.settings.emplace_back(std::move(name), std::string(text.substr(eq + 1)));
    return true;
}
}  // namespace

StartupOptions parse_startup_options(std::string_view options) {
    StartupOptions out;
    auto words = split(options);
    for (size_t i = 0; i < words.size(); ++i) {
        std::string_view w = words[i];
        if (w.size() < 2 || w[0] != '-') {
            out.error = fmt::format("invalid command-line argument for server process: {}", w);
            return out;
        }
        if (w[1] == '-') {
            if (!add_setting(w.substr(2), out)) {
                out.error = fmt::format("--{} requires a value", w.substr(2));
                return out;
            }
            continue;
        }
        if (w[1] == 'c') {
            // The value follows at once (-cname=value) or as the next word.
            std::string_view setting = w.size() > 2 ? w.substr(2) : std::string_view();
            if (setting.empty()) {
                if (i + 1 == words.size()) {
                    out.error = "-c requires a value";
                    return out;
                }
                setting = words[++i];
            }
            if (!add_setting(setting, out)) {
                out.error = fmt::format("-c {} requires a value", setting);
                return out;
            }
            continue;
        }
        out.error = fmt::format("the server switch \"-{}\"", w[1]);
        out.unsupported = true;
        return out;
    }
    return out;
}

}  // namespace pgmoat::session
