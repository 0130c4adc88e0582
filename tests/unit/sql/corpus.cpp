// Reads corpus files and checks a case's facts against a fresh analysis. Facts
// are compared as a DBA would read them: relation names with their access,
// columns by owner, literals by kind, context and exact text.
#include "corpus.h"

#include "pgmoat/sql/analyzer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace pgmoat::sql::testing {

namespace {

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
    size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    return s.substr(i);
}

std::vector<std::string> split(const std::string& s, const std::string& sep) {
    std::vector<std::string> out;
    if (trim(s) == "none" || trim(s).empty()) return out;
    size_t start = 0;
    while (true) {
        size_t at = s.find(sep, start);
        out.push_back(trim(s.substr(start, at == std::string::npos ? std::string::npos : at - start)));
        if (at == std::string::npos) break;
        start = at + sep.size();
    }
    return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
    std::string out;
    for (const auto& s : v) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

std::string plus_access(AccessSet a) {
    std::string s = access_names(a);
    std::replace(s.begin(), s.end(), ',', '+');
    return s;
}

// Order inside "a+b" and "[a|b]" does not matter: sort both for comparison.
std::string canonical(const std::string& d) {
    auto sorted_parts = [](const std::string& s, char sep) {
        std::vector<std::string> parts;
        size_t start = 0;
        while (true) {
            size_t at = s.find(sep, start);
            parts.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
            if (at == std::string::npos) break;
            start = at + 1;
        }
        std::sort(parts.begin(), parts.end());
        return join(parts, std::string(1, sep));
    };
    if (size_t eq = d.rfind('='); eq != std::string::npos && d.find('[') == std::string::npos)
        return d.substr(0, eq + 1) + sorted_parts(d.substr(eq + 1), '+');
    size_t open = d.find('[');
    size_t close = d.rfind(']');
    if (open != std::string::npos && close != std::string::npos && close > open)
        return d.substr(0, open + 1) + sorted_parts(d.substr(open + 1, close - open - 1), '|') + d.substr(close);
    return d;
}

std::string describe(const Statement& st, const Column& c) {
    std::string name = c.all_columns ? "*" : c.name;
    std::string out;
    switch (c.origin) {
        case ColumnOrigin::relation:
            out = st.relations[static_cast<size_t>(c.relation)].qualified_name() + "." + name;
            break;
        case ColumnOrigin::derived:
            out = "~" + name;
            break;
        case ColumnOrigin::uncertain: {
            out = "?" + name;
            if (!c.candidates.empty()) {
                std::vector<std::string> names;
                for (uint32_t r : c.candidates) names.push_back(st.relations[r].qualified_name());
                out += "[" + join(names, "|") + "]";
            }
            break;
        }
    }
    if (c.written) out += "!";
    return out;
}

std::string describe(std::string_view sql, const Literal& l) {
    std::string out(name(l.kind));
    if (l.bare_word) out += "*";
    out += " ";
    out += name(l.context);
    out += " ";
    out += name(l.clause);
    out += " ";
    // A literal can span lines (continuations): show newlines as \n.
    for (char ch : l.text(sql)) {
        if (ch == '\n') {
            out += "\\n";
        } else {
            out += ch;
        }
    }
    return out;
}

// "delete where restricts", "update@with", "lock public.jobs restricts",
// "update@merge": kind, where it is when not the statement itself, flags.
std::string describe(const Statement& st, const Write& w) {
    std::string out = w.row_lock ? "lock" : std::string(name(w.kind));
    if (w.row_lock && w.relation >= 0) out += " " + st.relations[static_cast<size_t>(w.relation)].qualified_name();
    if (w.merge_action) {
        out += "@merge";
    } else if (w.place != WritePlace::statement) {
        out += "@" + std::string(name(w.place));
    }
    if (w.has_where) out += " where";
    if (w.restricts) out += " restricts";
    return out;
}

// "set_config('search_path', $1, false)": each argument as what it is.
std::string describe(const Statement& st, const FunctionCall& f) {
    std::string out = f.qualified_name() + "(";
    for (size_t i = 0; i < f.arguments.size(); ++i) {
        const Argument& a = f.arguments[i];
        if (i) out += ", ";
        if (!a.name.empty()) out += a.name + " => ";
        switch (a.kind) {
            case ArgumentKind::literal:
                if (a.literal >= 0 && static_cast<size_t>(a.literal) < st.literals.size()) {
                    const Literal& l = st.literals[static_cast<size_t>(a.literal)];
                    out += l.kind == LiteralKind::null ? "NULL" : "'" + l.value + "'";
                    if (!l.cast_type.empty()) out += "::" + l.cast_type;
                } else {
                    out += "literal?";
                }
                break;
            case ArgumentKind::parameter:
                out += "$" + std::to_string(a.parameter);
                break;
            case ArgumentKind::column:
                out += "column";
                break;
            case ArgumentKind::other:
                out += "other";
                break;
        }
    }
    return out + ")";
}

std::string describe(const Comment& c) {
    std::string out = c.style == CommentStyle::block ? "block" : "line";
    if (c.sqlcommenter) out += " sqlcommenter";
    if (c.marginalia) out += " marginalia";
    if (c.sql_like) out += " sql_like";
    if (c.after_literal) out += " after_literal";
    if (c.at_end) out += " at_end";
    return out + " " + c.text;
}

bool flag(const Statement& st, const std::string& f, bool& known) {
    known = true;
    if (f == "has_where") return st.has_where;
    if (f == "has_limit") return st.has_limit;
    if (f == "data_modifying_cte") return st.data_modifying_cte;
    if (f == "select_into") return st.select_into;
    if (f == "changes_parse_settings") return st.changes_parse_settings;
    if (f == "explain_analyze") return st.explain_analyze;
    if (f == "set_local") return st.set_local;
    if (f == "union") return st.set_operations.union_ > 0;
    if (f == "intersect") return st.set_operations.intersect > 0;
    if (f == "except") return st.set_operations.except > 0;
    if (f == "writes") return st.is_write();
    known = false;
    return false;
}

struct Checker {
    const CorpusCase& c;
    const Analysis& a;
    std::vector<std::string> errors;

    void fail(const std::string& fact, const std::string& expected, const std::string& actual) {
        errors.push_back(fact + ": expected [" + expected + "] got [" + actual + "]");
    }
    void eq(const std::string& fact, const std::string& expected, const std::string& actual) {
        if (expected != actual) fail(fact, expected, actual);
    }
    void same_set(const std::string& fact, const std::vector<std::string>& expected,
                  const std::vector<std::string>& actual) {
        std::set<std::string> e, g;
        for (const auto& x : expected) e.insert(canonical(x));
        for (const auto& x : actual) g.insert(canonical(x));
        if (e != g) fail(fact, join({e.begin(), e.end()}, ", "), join({g.begin(), g.end()}, ", "));
    }
    // n bytes of the text at offset (as much as an expectation has, so a prefix can match).
    std::string text_at(int32_t offset, size_t n) const {
        if (offset < 0 || static_cast<size_t>(offset) > c.sql.size()) return "?";
        return c.sql.substr(static_cast<size_t>(offset), n);
    }
    void same_list(const std::string& fact, const std::vector<std::string>& expected,
                   const std::vector<std::string>& actual, const std::string& sep = ", ") {
        if (expected != actual) fail(fact, join(expected, sep), join(actual, sep));
    }

    void statement_facts(const Statement& st, const std::vector<std::pair<std::string, std::string>>& facts) {
        std::vector<std::string> literals;
        bool literals_listed = false;
        bool unknown_listed = false;
        for (const auto& [key, value] : facts) {
            if (key == "kind") {
                eq(key, value, std::string(name(st.kind)));
            } else if (key == "inner_kind") {
                eq(key, value, std::string(name(st.inner_kind)));
            } else if (key == "category") {
                eq(key, value, std::string(name(category(st.kind))));
            } else if (key == "object_type") {
                eq(key, value, st.object_type);
            } else if (key == "parameter") {
                eq(key, value, st.parameter);
            } else if (key == "name") {
                eq(key, value, st.name);
            } else if (key == "params") {
                eq(key, value, std::to_string(st.param_count));
            } else if (key == "relations") {
                std::vector<std::string> got;
                for (const Relation& r : st.relations) got.push_back(r.qualified_name() + "=" + plus_access(r.access));
                same_set(key, split(value, ", "), got);
            } else if (key == "columns") {
                std::vector<std::string> got;
                for (const Column& col : st.columns) got.push_back(describe(st, col));
                same_set(key, split(value, ", "), got);
            } else if (key == "functions" || key == "attribute_calls") {
                // Calls written as calls, or field selections that may be calls.
                const bool attribute = key == "attribute_calls";
                std::vector<std::string> got;
                for (const FunctionCall& f : st.functions) {
                    if (f.attribute_notation != attribute) continue;
                    got.push_back(f.qualified_name() + (f.sql_syntax ? "[sql]" : ""));
                }
                same_list(key, split(value, ", "), got);
            } else if (key == "attribute_call_at") {
                std::vector<std::string> expected = split(value, " | ");
                std::vector<std::string> got;
                for (const FunctionCall& f : st.functions) {
                    if (!f.attribute_notation) continue;
                    size_t n = got.size() < expected.size() ? expected[got.size()].size() : 12;
                    got.push_back(text_at(f.offset, n));
                }
                same_list(key, expected, got, " | ");
            } else if (key == "cte_writes") {
                std::vector<std::string> got;
                for (const Write& w : st.writes)
                    if (w.place == WritePlace::with && !w.merge_action && !w.row_lock)
                        got.push_back(std::string(name(w.kind)) + (w.has_where ? " where" : ""));
                same_list(key, split(value, ", "), got);
            } else if (key == "cte_write_at" || key == "write_at") {
                std::vector<std::string> expected = split(value, " | ");
                std::vector<std::string> got;
                for (const Write& w : st.writes) {
                    if (key == "cte_write_at" && (w.place != WritePlace::with || w.merge_action || w.row_lock))
                        continue;
                    size_t n = got.size() < expected.size() ? expected[got.size()].size() : 12;
                    got.push_back(text_at(w.offset, n));
                }
                same_list(key, expected, got, " | ");
            } else if (key == "writes") {
                std::vector<std::string> got;
                for (const Write& w : st.writes) got.push_back(describe(st, w));
                same_list(key, split(value, ", "), got);
            } else if (key == "arguments") {
                std::vector<std::string> got;
                for (const FunctionCall& f : st.functions)
                    if (!f.attribute_notation) got.push_back(describe(st, f));
                same_list(key, split(value, "; "), got, "; ");
            } else if (key == "values") {
                std::vector<std::string> got;
                for (const Literal& l : st.literals) got.push_back(l.value);
                same_list(key, split(value, " | "), got, " | ");
            } else if (key == "unknown_relations") {
                std::vector<std::string> got;
                for (const UnknownRelation& u : st.unknown_relations) got.push_back(plus_access(u.access));
                same_list(key, split(value, ", "), got);
            } else if (key == "literal") {
                literals_listed = true;
                literals.push_back(value);
            } else if (key == "literals") {
                literals_listed = true;
                if (value != "none") errors.push_back("literals: only 'none' is allowed");
            } else if (key == "literal_count") {
                eq(key, value, std::to_string(st.literals.size()));
            } else if (key == "casts") {
                std::vector<std::string> got;
                for (const Literal& l : st.literals)
                    if (!l.cast_type.empty()) got.push_back(l.cast_type);
                same_list(key, split(value, ", "), got);
            } else if (key == "tautologies") {
                std::vector<std::string> expected = split(value, " | ");
                std::vector<std::string> got;
                for (size_t i = 0; i < st.tautologies.size(); ++i) {
                    int32_t off = st.tautologies[i].offset;
                    std::string text = off >= 0 ? c.sql.substr(static_cast<size_t>(off)) : "?";
                    // Report as much as the expectation has, so a prefix can match.
                    size_t n = i < expected.size() ? expected[i].size() : 12;
                    got.push_back(text.substr(0, n));
                }
                same_list(key, expected, got, " | ");
            } else if (key == "dynamic") {
                std::vector<std::string> got;
                for (const DynamicCode& d : st.dynamic_code)
                    got.push_back(std::string(name(d.kind)) + ":" + d.language + ":" + d.name);
                same_list(key, split(value, ", "), got);
            } else if (key == "copy") {
                std::string got = "none";
                if (st.copy) {
                    got = std::string(name(st.copy->direction)) + " " + std::string(name(st.copy->endpoint)) +
                          (st.copy->query ? " query" : "");
                }
                eq(key, value, got);
            } else if (key == "flags" || key == "not") {
                for (const std::string& f : split(value, " ")) {
                    bool known;
                    bool v = flag(st, f, known);
                    if (!known) {
                        errors.push_back("unknown flag " + f);
                    } else if (v != (key == "flags")) {
                        fail(f, key == "flags" ? "true" : "false", v ? "true" : "false");
                    }
                }
            } else if (key == "set_ops") {
                eq(key, value,
                   "union=" + std::to_string(st.set_operations.union_) +
                       " intersect=" + std::to_string(st.set_operations.intersect) +
                       " except=" + std::to_string(st.set_operations.except));
            } else if (key == "normalized") {
                std::string got;
                for (char ch : st.normalized) got += ch == '\n' ? std::string("\\n") : std::string(1, ch);
                eq(key, value, got);
            } else if (key == "text") {
                eq(key, value, c.sql.substr(static_cast<size_t>(st.offset), static_cast<size_t>(st.length)));
            } else if (key == "statement_comments") {
                eq(key, value, std::to_string(st.comment_count));
            } else if (key == "unknown") {
                unknown_listed = true;
                same_list(key, split(value, ", "), st.unknown_nodes);
            } else if (key == "fingerprint") {
                // Checked across cases by the caller.
            } else {
                errors.push_back("unknown fact '" + key + "'");
            }
        }
        if (literals_listed) {
            std::vector<std::string> got;
            for (const Literal& l : st.literals) got.push_back(describe(c.sql, l));
            same_list("literals", literals, got, " ; ");
        }
        if (!unknown_listed && !st.unknown_nodes.empty()) fail("unknown", "", join(st.unknown_nodes, ", "));
    }
};

}  // namespace

std::vector<CorpusCase> read_corpus(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot open");
    std::vector<CorpusCase> out;
    std::string line;
    int n = 0;
    auto bad = [&](const std::string& why) { throw std::runtime_error(path + ":" + std::to_string(n) + ": " + why); };
    while (std::getline(in, line)) {
        ++n;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        if (t.rfind("sql<<", 0) == 0) {
            CorpusCase c;
            c.file = path;
            c.line = n;
            std::string body;
            bool closed = false;
            while (std::getline(in, line)) {
                ++n;
                if (!line.empty() && line.back() == '\r') line.pop_back();
                if (line == ">>") {
                    closed = true;
                    break;
                }
                if (!body.empty()) body += '\n';
                body += line;
            }
            if (!closed) bad("sql<< without >>");
            c.sql = body;
            out.push_back(std::move(c));
            continue;
        }
        size_t colon = line.find(':');
        if (colon == std::string::npos) bad("expected 'key: value'");
        std::string key = trim(line.substr(0, colon));
        std::string value = line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
        if (key == "sql") {
            CorpusCase c;
            c.file = path;
            c.line = n;
            c.sql = value;
            out.push_back(std::move(c));
            continue;
        }
        if (out.empty()) bad("a fact before any sql");
        out.back().facts.emplace_back(key, value);
    }
    return out;
}

std::vector<std::string> corpus_files(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().extension() == ".corpus") out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> check_case(const CorpusCase& c) {
    Analysis a = analyze(c.sql);
    Checker k{c, a, {}};
    // Facts about the whole text, then per statement ("stmt: N" switches).
    std::map<size_t, std::vector<std::pair<std::string, std::string>>> per_statement;
    std::vector<std::string> comments;
    bool comments_listed = false;
    bool status_listed = false;
    size_t current = 1;
    for (const auto& [key, value] : c.facts) {
        if (key == "stmt") {
            current = static_cast<size_t>(std::stoul(value));
        } else if (key == "status") {
            status_listed = true;
            k.eq(key, value, std::string(name(a.status)));
        } else if (key == "error") {
            if (a.error.find(value) == std::string::npos) k.fail(key, "..." + value + "...", a.error);
        } else if (key == "error_position") {
            k.eq(key, value, std::to_string(a.error_position));
        } else if (key == "statements") {
            k.eq(key, value, std::to_string(a.statements.size()));
        } else if (key == "comment") {
            comments_listed = true;
            comments.push_back(value);
        } else if (key == "comments") {
            comments_listed = true;
            if (value != "none") k.errors.push_back("comments: only 'none' is allowed");
        } else if (key == "whole_normalized") {
            k.eq(key, value, a.normalized());
        } else {
            per_statement[current].emplace_back(key, value);
        }
    }
    if (!status_listed && !a.ok()) k.fail("status", "ok", std::string(name(a.status)) + ": " + a.error);
    if (comments_listed) {
        std::vector<std::string> got;
        for (const Comment& cm : a.comments) got.push_back(describe(cm));
        k.same_list("comments", comments, got, " ; ");
    }
    for (const auto& [index, facts] : per_statement) {
        if (index == 0 || index > a.statements.size()) {
            if (!facts.empty() && a.ok()) k.errors.push_back("no statement " + std::to_string(index));
            continue;
        }
        k.statement_facts(a.statements[index - 1], facts);
    }
    return k.errors;
}

}  // namespace pgmoat::sql::testing
