// Parsing the console's GRANT strictly: words are SQL-like (bare, "quoted" names,
// 'string' with '' for a quote), the reason must be a string, and anything
// unknown, repeated or missing is an error that names it.
#include "pgmoat/session/admin_grant.h"

#include "pgmoat/policy/grants.h"

#include <fmt/format.h>

#include <optional>
#include <vector>

namespace pgmoat::session {

namespace {

struct Token {
    std::string text;
    bool string = false;  // 'quoted'
    bool quoted = false;  // 'string' or "name": never a keyword
};

bool space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

// The tokens, or the error; a trailing ';' ends the command.
std::variant<std::vector<Token>, ConsoleGrantError> tokens(std::string_view text) {
    std::vector<Token> out;
    size_t i = 0;
    while (true) {
        while (i < text.size() && space(text[i])) ++i;
        if (i == text.size()) break;
        char c = text[i];
        if (c == ';') {
            ++i;
            while (i < text.size() && space(text[i])) ++i;
            if (i != text.size()) return ConsoleGrantError{"GRANT takes one command: text follows the ';'", {}};
            break;
        }
        Token t;
        if (c == '\'' || c == '"') {
            t.quoted = true;
            t.string = c == '\'';
            bool closed = false;
            for (++i; i < text.size(); ++i) {
                if (text[i] != c) {
                    t.text += text[i];
                } else if (i + 1 < text.size() && text[i + 1] == c) {
                    t.text += c;
                    ++i;
                } else {
                    closed = true;
                    ++i;
                    break;
                }
            }
            if (!closed)
                return ConsoleGrantError{fmt::format("unterminated {} in GRANT", t.string ? "string" : "quoted name"),
                                         "a quote inside is written twice: 'Bob''s migration'"};
        } else {
            while (i < text.size() && !space(text[i]) && text[i] != ';' && text[i] != '\'' && text[i] != '"')
                t.text += text[i++];
        }
        out.push_back(std::move(t));
    }
    return out;
}

}  // namespace

std::variant<ConsoleGrant, ConsoleGrantError> parse_console_grant(std::string_view text) {
    std::string hint = fmt::format("the syntax is {}, e.g. GRANT drop TO agent ON prod FOR 30m REASON 'ticket 42'",
                                   kConsoleGrantSyntax);
    auto lexed = tokens(text);
    if (auto* e = std::get_if<ConsoleGrantError>(&lexed)) return *e;
    auto& t = std::get<std::vector<Token>>(lexed);
    if (t.empty() || t[0].quoted || upper(t[0].text) != "GRANT") return ConsoleGrantError{"not a GRANT", hint};
    if (t.size() < 2)
        return ConsoleGrantError{"GRANT needs what it allows: a statement kind, a category or a rule", hint};
    ConsoleGrant g;
    if (t[1].string) return ConsoleGrantError{"what GRANT allows is a name, not a 'string'", hint};
    // Kinds and rules are lower-case names; DROP reads as drop, as SQL folds it.
    g.allow = t[1].text;
    for (auto& c : g.allow)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    // Each clause once: its keyword and one value.
    struct Clause {
        std::string_view keyword;
        std::optional<Token> value;
    } clauses[] = {{"TO", {}}, {"ON", {}}, {"FOR", {}}, {"REASON", {}}};
    for (size_t i = 2; i < t.size(); i += 2) {
        Clause* clause = nullptr;
        for (auto& c : clauses)
            if (!t[i].quoted && upper(t[i].text) == c.keyword) clause = &c;
        if (!clause)
            return ConsoleGrantError{
                fmt::format("unexpected \"{}\" in GRANT: expected TO, ON, FOR or REASON", t[i].text), hint};
        if (clause->value) return ConsoleGrantError{fmt::format("GRANT has {} twice", clause->keyword), hint};
        if (i + 1 == t.size()) return ConsoleGrantError{fmt::format("GRANT's {} needs a value", clause->keyword), hint};
        clause->value = t[i + 1];
    }
    for (const auto& c : clauses)
        if (!c.value)
            return ConsoleGrantError{
                fmt::format("GRANT needs {}", c.keyword == "TO"    ? "TO <app>: the identity it widens"
                                              : c.keyword == "ON"  ? "ON <target> (* for every target)"
                                              : c.keyword == "FOR" ? "FOR <duration>, such as 30m, 2h or 1d"
                                                                   : "REASON '<text>': why, for the audit log"),
                hint};
    const auto& [to, on, length, reason] = clauses;
    if (to.value->string || on.value->string || length.value->string)
        return ConsoleGrantError{"TO, ON and FOR take names, not 'strings'", hint};
    if (!reason.value->string || reason.value->text.empty())
        return ConsoleGrantError{"REASON takes a non-empty 'string'", hint};
    g.app = to.value->text;
    g.target = on.value->text;
    g.reason = reason.value->text;
    auto seconds = policy::parse_grant_length(length.value->text);
    if (!seconds)
        return ConsoleGrantError{
            fmt::format("FOR \"{}\": expected a duration such as 30m, 2h or 1d (at most 7d)", length.value->text),
            hint};
    g.length = *seconds;
    if (g.app.empty() || g.target.empty()) return ConsoleGrantError{"TO and ON need a name", hint};
    return g;
}

}  // namespace pgmoat::session
