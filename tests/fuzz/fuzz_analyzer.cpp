// Analyzer target: sql::analyze on arbitrary text, then the baseline's decision.
// The first byte holds options:
//   bit 0  standard_conforming_strings off (must fail closed)
//   bit 1  client_encoding a non-UTF8 one (must fail closed)
//   bit 2  small limits (max_depth 16, 256 bytes)
//   bit 3  judge as a Parse (extended protocol) instead of a simple Query
// Invariants: status ok means as many statements as PostgreSQL's parser finds
// (none only for text without statements); every offset and length lies within
// the text; error positions are within the text; a failed analysis has no
// statements and an error; the fingerprint is deterministic; decide() does not
// allow what did not analyze, nor stacked statements that carry data.
#include "fuzz_common.h"

#include <pg_query.h>

using namespace pgmoat;

namespace {

int32_t chars(std::string_view s) {
    return sql::character_position(s, static_cast<int32_t>(s.size()));
}

void check_offset(int32_t offset, std::string_view text, const char* what) {
    FUZZ_CHECK(offset >= -1 && offset <= static_cast<int32_t>(text.size()), "%s offset %d outside text of %zu bytes",
               what, offset, text.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    if (size < 1) return 0;
    uint8_t flags = bytes[0];
    std::string_view text(reinterpret_cast<const char*>(bytes) + 1, size - 1);
    sql::AnalyzerOptions options;
    options.standard_conforming_strings = !(flags & 1);
    if (flags & 2) options.client_encoding = "SJIS";
    if (flags & 4) {
        options.max_depth = 16;
        options.max_statement_bytes = 256;
    }
    sql::Analysis a = sql::analyze(text, options);

    if (!options.settings_supported()) {
        FUZZ_CHECK(a.status == sql::AnalysisStatus::session_settings, "analysis under unsupported settings");
    }
    if (!a.ok()) {
        FUZZ_CHECK(a.statements.empty() && !a.error.empty(), "failed analysis with statements or without error");
        FUZZ_CHECK(a.error_position >= 0 && a.error_position <= chars(text) + 1, "error position %d outside text",
                   a.error_position);
    } else {
        FUZZ_CHECK(text.find('\0') == std::string_view::npos, "text with a NUL byte analyzed as ok");
        // As many statements as PostgreSQL's own parser finds.
        std::string copy(text);
        PgQuerySplitResult split = pg_query_split_with_parser(copy.c_str());
        if (!split.error) {
            FUZZ_CHECK(static_cast<size_t>(split.n_stmts) == a.statements.size(),
                       "analyzer reports %zu statements, the parser %d", a.statements.size(), split.n_stmts);
        }
        pg_query_free_split_result(split);
        for (const auto& st : a.statements) {
            FUZZ_CHECK(st.offset >= 0 && st.length >= 0 &&
                           static_cast<size_t>(st.offset) + static_cast<size_t>(st.length) <= text.size(),
                       "statement [%d,+%d) outside text of %zu bytes", st.offset, st.length, text.size());
            for (const auto& r : st.relations) check_offset(r.offset, text, "relation");
            for (const auto& c : st.columns) {
                check_offset(c.offset, text, "column");
                FUZZ_CHECK(c.relation < static_cast<int32_t>(st.relations.size()), "column of relation %d of %zu",
                           c.relation, st.relations.size());
                for (auto cand : c.candidates) FUZZ_CHECK(cand < st.relations.size(), "candidate out of range");
            }
            for (const auto& f : st.functions) {
                check_offset(f.offset, text, "function");
                FUZZ_CHECK(f.relation < static_cast<int32_t>(st.relations.size()), "call's relation out of range");
                for (const auto& arg : f.arguments) {
                    check_offset(arg.offset, text, "argument");
                    FUZZ_CHECK(arg.literal < static_cast<int32_t>(st.literals.size()), "argument literal out of range");
                    // A literal argument's literal is inside it (N'..' starts one byte early).
                    FUZZ_CHECK(arg.kind != sql::ArgumentKind::literal || arg.literal < 0 || arg.offset < 0 ||
                                   st.literals[static_cast<size_t>(arg.literal)].offset >= arg.offset - 1,
                               "argument literal before its argument");
                }
            }
            for (const auto& w : st.writes) {
                check_offset(w.offset, text, "write");
                FUZZ_CHECK(w.relation < static_cast<int32_t>(st.relations.size()), "write's relation out of range");
                FUZZ_CHECK(w.kind != sql::StatementKind::insert || !w.restricts, "an INSERT that selects rows");
            }
            for (const auto& u : st.unknown_relations) check_offset(u.offset, text, "unknown relation");
            for (const auto& l : st.literals) check_offset(l.offset, text, "literal");
            for (const auto& t : st.tautologies) check_offset(t.offset, text, "tautology");
            for (const auto& d : st.dynamic_code) check_offset(d.offset, text, "dynamic code");
            FUZZ_CHECK(st.first_comment + st.comment_count <= a.comments.size(), "comment range out of bounds");
            FUZZ_CHECK(st.normalized.find('\0') == std::string::npos, "NUL in normalized text");
        }
        for (const auto& c : a.comments) {
            FUZZ_CHECK(c.offset >= 0 && c.length >= 0 &&
                           static_cast<size_t>(c.offset) + static_cast<size_t>(c.length) <= text.size(),
                       "comment outside text");
        }
        (void)a.normalized();
        (void)a.approximate_bytes();
        // Deterministic: a second analysis has the same structure.
        if ((text.size() & 7) == 0) {
            sql::Analysis again = sql::analyze(text, options);
            FUZZ_CHECK(again.fingerprint == a.fingerprint && again.statements.size() == a.statements.size(),
                       "analysis is not deterministic");
        }
    }

    // The baseline judges whatever came out; nothing that failed analysis is allowed.
    auto set = fuzz::policies();
    auto d = policy::decide(*set->default_policy, a, text,
                            (flags & 8) ? policy::Protocol::extended : policy::Protocol::simple_query);
    if (!a.ok()) FUZZ_CHECK(!d.allow, "baseline allowed text that did not analyze");
    if (!d.allow)
        FUZZ_CHECK(d.rule != policy::Rule::none && d.sqlstate.size() == 5 && !d.message.empty(),
                   "rejection without rule");
    // Stacked statements pass only when none of them carries data: SET, RESET, SHOW
    // and transaction control (what ORMs send to set up a connection).
    if (a.ok() && a.statements.size() > 1 && !(flags & 8) && d.allow) {
        for (const auto& st : a.statements) {
            FUZZ_CHECK(st.kind == sql::StatementKind::set || st.kind == sql::StatementKind::reset ||
                           st.kind == sql::StatementKind::show ||
                           sql::category(st.kind) == sql::StatementCategory::transaction,
                       "stacked statements allowed with a %.*s among them", static_cast<int>(sql::name(st.kind).size()),
                       sql::name(st.kind).data());
        }
    }
    if (d.position > 0) FUZZ_CHECK(d.position <= chars(text) + 1, "rejection position %d outside text", d.position);
    return 0;
}
