// analyze(): the checks that fail closed (settings, size, encoding, depth), the
// pre-parse scan, libpg_query, and the walk — on the caller's thread when the
// scan bounds the depth low, on a large-stack thread otherwise.
#include "pgmoat/sql/analyzer.h"

#include "pgmoat/common/ascii.h"
#include "pgmoat/common/sqlstate.h"

#include "hash.h"
#include "large_stack.h"
#include "lexer.h"
#include "parser_errors.h"
#include "pg_query_result.h"
#include "walker.h"

#include <fmt/format.h>

#include <algorithm>

namespace pgmoat::sql {

namespace {

using namespace detail;

// Depth (in the lexer's levels) parsed on the caller's stack. Measured: the
// worst constructs cost libpg_query about 400 bytes per level and the walker
// about 1 kB, so this stays well under 1 MB of an 8 MB stack.
constexpr uint32_t kInlineDepth = 256;

size_t large_stack_bytes(uint32_t max_depth) {
    return (size_t{64} << 20) + size_t{max_depth} * 8 * 1024;
}
uint32_t json_depth_limit(uint32_t max_depth) {
    return 16 * max_depth + 256;
}

Scratch& scratch() {
    thread_local Scratch s;
    return s;
}

// Scratch buffers keep their capacity between calls (so the common case does not
// allocate), but not after a huge statement: one 4 MB query must not pin
// megabytes per I/O thread forever.
template <typename V>
void shrink(V& v, size_t max_bytes) {
    if (v.capacity() * sizeof(typename V::value_type) > max_bytes) V().swap(v);
}
void trim(Scratch& s) {
    constexpr size_t kKeep = 256 * 1024;
    shrink(s.text, kKeep);
    shrink(s.lex.literals, kKeep);
    shrink(s.lex.comments, kKeep);
    shrink(s.raw.relations, kKeep);
    shrink(s.raw.entries, kKeep);
    shrink(s.raw.columns, kKeep);
    shrink(s.raw.ctes, kKeep);
    shrink(s.raw.scopes, kKeep);
    shrink(s.raw.outputs, kKeep);
    shrink(s.raw.lock_targets, kKeep);
    shrink(s.raw.literals, kKeep);
    shrink(s.raw.functions, kKeep);
    shrink(s.raw.tautologies, kKeep);
    shrink(s.starts, kKeep);
    if (s.arena.size() > 64) std::deque<std::string>().swap(s.arena);
}

void fail(Analysis& out, AnalysisStatus status, std::string error, int32_t position) {
    out.status = status;
    out.error = std::move(error);
    out.error_position = position;
    out.error_sqlstate = status == AnalysisStatus::unparseable ? sqlstate::syntax_error : "";
    out.statements.clear();
    out.fingerprint = 0;
}

void parse_and_walk(std::string_view sql, const AnalyzerOptions& options, Scratch& s, Analysis& out) {
    s.text.assign(sql);
    ParseResult parsed(s.text.c_str());
    if (const PgQueryError* e = parsed.error()) {
        fail(out, AnalysisStatus::unparseable, e->message ? e->message : "syntax error", e->cursorpos);
        out.error_sqlstate = parser_error_sqlstate(e->filename ? e->filename : "", out.error);
        return;
    }
    const char* json = parsed.json();
    if (!json) {
        fail(out, AnalysisStatus::unparseable, "libpg_query returned no parse tree", 0);
        return;
    }
    bool too_deep = false;
    if (!walk_parse_tree(sql, json, json_depth_limit(options.max_depth), s, out, too_deep)) {
        if (too_deep) {
            fail(out, AnalysisStatus::too_deep,
                 fmt::format("statement too deep (over {} levels of nesting)", options.max_depth), 0);
        } else {
            fail(out, AnalysisStatus::unparseable, "parse tree not understood", 0);
        }
    }
}

// Comments belong to the statement whose text (from libpg_query's
// stmt_location up to the next one's) holds them.
void attribute_comments(std::string_view sql, const Scratch& s, Analysis& out) {
    const auto& starts = s.starts;
    for (size_t i = 0; i < out.statements.size() && i < starts.size(); ++i) {
        int32_t from = starts[i];
        int32_t to = i + 1 < starts.size() ? starts[i + 1] : static_cast<int32_t>(sql.size()) + 1;
        auto lo = std::lower_bound(out.comments.begin(), out.comments.end(), from,
                                   [](const Comment& c, int32_t o) { return c.offset < o; });
        auto hi =
            std::lower_bound(lo, out.comments.end(), to, [](const Comment& c, int32_t o) { return c.offset < o; });
        Statement& st = out.statements[i];
        st.first_comment = static_cast<uint32_t>(lo - out.comments.begin());
        st.comment_count = static_cast<uint32_t>(hi - lo);
        for (DynamicCode& d : st.dynamic_code)
            if (d.offset < 0) d.offset = st.offset;
    }
}

}  // namespace

uint64_t AnalyzerOptions::cache_key() const {
    uint64_t h = hash_bytes(client_encoding, 0x7c3f1b2a9d4e5f60ULL);
    h = combine(h, max_statement_bytes);
    h = combine(h, max_depth);
    return combine(h, standard_conforming_strings ? 1 : 0);
}

bool AnalyzerOptions::settings_supported() const {
    return standard_conforming_strings &&
           (ascii::iequals(client_encoding, "UTF8") || ascii::iequals(client_encoding, "UTF-8") ||
            ascii::iequals(client_encoding, "UNICODE"));
}

Analysis analyze(std::string_view sql, const AnalyzerOptions& options) {
    Analysis out;
    if (!options.settings_supported()) {
        fail(out, AnalysisStatus::session_settings,
             !options.standard_conforming_strings
                 ? std::string("session settings: standard_conforming_strings is off")
                 : fmt::format("session settings: client_encoding is {}, not UTF8", options.client_encoding),
             0);
        return out;
    }
    if (sql.size() > options.max_statement_bytes) {
        fail(out, AnalysisStatus::too_large,
             fmt::format("statement too large: {} bytes, limit {}", sql.size(), options.max_statement_bytes), 0);
        return out;
    }
    if (int32_t bad = find_invalid_encoding(sql); bad >= 0) {
        fail(out, AnalysisStatus::unparseable,
             sql[static_cast<size_t>(bad)] == '\0' ? std::string("statement contains a NUL byte")
                                                   : std::string("invalid byte sequence for encoding \"UTF8\""),
             character_position(sql, bad));
        return out;
    }

    Scratch& s = scratch();
    lex(sql, options.max_depth, s.lex);
    if (s.lex.too_deep) {
        if (sql.size() > 64 * 1024) trim(s);
        fail(out, AnalysisStatus::too_deep,
             fmt::format("statement too deep (over {} levels of nesting or chained operators)", options.max_depth),
             character_position(sql, s.lex.too_deep_offset));
        return out;
    }
    out.depends_on_settings = s.lex.backslash_in_standard_string || std::any_of(sql.begin(), sql.end(), [](char c) {
                                  return static_cast<unsigned char>(c) > 0x7f;
                              });
    out.comments.reserve(s.lex.comments.size());
    for (const LexComment& c : s.lex.comments) {
        Comment k;
        k.style = c.style;
        k.offset = c.offset;
        k.length = c.length;
        k.text = sql.substr(static_cast<size_t>(c.offset), static_cast<size_t>(c.length));
        k.sqlcommenter = c.style == CommentStyle::block && is_sqlcommenter(k.text);
        k.marginalia = c.style == CommentStyle::block && !k.sqlcommenter && is_marginalia(k.text);
        k.sql_like = looks_like_sql(k.text);
        k.after_literal = c.after_literal;
        k.at_end = c.at_end;
        out.comments.push_back(std::move(k));
    }

    if (s.lex.depth <= kInlineDepth) {
        parse_and_walk(sql, options, s, out);
    } else if (!run_with_stack(large_stack_bytes(options.max_depth), [&] { parse_and_walk(sql, options, s, out); })) {
        fail(out, AnalysisStatus::too_deep, "statement too deep to analyze now (no thread for a large stack)", 0);
    }
    if (sql.size() > 64 * 1024) trim(s);
    if (!out.ok()) return out;

    attribute_comments(sql, s, out);
    uint64_t h = 0x243f6a8885a308d3ULL;
    for (const Statement& st : out.statements) h = combine(h, st.fingerprint);
    out.fingerprint = mix(h, out.statements.size());
    return out;
}

}  // namespace pgmoat::sql
