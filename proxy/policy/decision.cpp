// The rules, applied in a fixed, documented order (README "Precedence"): the
// first rule a statement breaks decides, so the error names the most specific
// problem (a tautology is reported as such, not as "a literal").
#include "pgmoat/policy/decision.h"
#include "pgmoat/common/ascii.h"
#include "pgmoat/common/sqlstate.h"
#include "pgmoat/policy/read_only_lock.h"

#include "pgmoat/policy/setting_limits.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <optional>

namespace pgmoat::policy {

using namespace pgmoat::sql;

namespace {

std::string display(StatementKind k) {
    std::string out(name(k));
    for (auto& c : out) c = c == '_' ? ' ' : ascii::to_upper(c);
    return out;
}

std::string where(const Source& s) {
    return s.line > 0 ? fmt::format("{}:{}", s.file, s.line) : s.file;
}

bool is_catalog(const Relation& r) {
    return r.system_catalog();
}

bool any_match(const std::vector<QualifiedPattern>& ps, std::string_view schema, std::string_view name, bool deny) {
    return std::any_of(ps.begin(), ps.end(), [&](const QualifiedPattern& p) { return p.matches(schema, name, deny); });
}

std::string list(const std::vector<QualifiedPattern>& ps, size_t max = 8) {
    std::string out;
    for (size_t i = 0; i < ps.size() && i < max; ++i) out += (i ? ", " : "") + ps[i].text;
    if (ps.size() > max) out += ", …";
    return out.empty() ? "nothing" : out;
}

// What a literal is, in words for the message: "string literal in a WHERE comparison".
std::string describe(const Literal& l) {
    std::string kind;
    switch (l.kind) {
        case LiteralKind::string:
            kind = "string literal";
            break;
        case LiteralKind::integer:
            kind = "integer literal";
            break;
        case LiteralKind::float_:
            kind = "numeric literal";
            break;
        case LiteralKind::bit_string:
            kind = "bit-string literal";
            break;
        case LiteralKind::boolean:
            kind = "boolean literal";
            break;
        case LiteralKind::null:
            kind = "NULL";
            break;
    }
    // Where it is written, when that differs from where its value goes.
    auto written = [&]() -> std::string {
        switch (l.clause) {
            case Clause::where:
                return "WHERE";
            case Clause::having:
                return "HAVING";
            case Clause::join_on:
                return "JOIN ON";
            case Clause::order_by:
                return "ORDER BY";
            case Clause::group_by:
                return "GROUP BY";
            case Clause::select_list:
                return "a sub-select's select list";
            case Clause::returning:
                return "RETURNING";
            case Clause::window:
                return "a window";
            case Clause::values:
                return "VALUES";
            case Clause::update_set:
                return "UPDATE SET";
            case Clause::limit:
                return "LIMIT/OFFSET";
            default:
                return std::string(name(l.clause));
        }
    };
    switch (l.context) {
        case LiteralContext::comparison:
            return fmt::format("{} compared in {}", kind, written());
        case LiteralContext::predicate:
            return kind + " in a condition";
        case LiteralContext::values:
            return l.clause == Clause::select_list ? kind + " inserted through INSERT … SELECT" : kind + " in VALUES";
        case LiteralContext::update_set:
            return kind + " in UPDATE SET";
        case LiteralContext::limit:
            return kind + " in LIMIT/OFFSET";
        case LiteralContext::order_by:
            return kind + " in ORDER BY";
        case LiteralContext::group_by:
            return kind + " in GROUP BY";
        case LiteralContext::select_list:
            return kind + " in the select list";
        case LiteralContext::function_argument:
            return kind + " as a function argument";
        case LiteralContext::type_cast:
            return fmt::format("{} cast to {}", kind, l.cast_type);
        case LiteralContext::other:
            return fmt::format("{} in {}", kind, written());
        default:
            return fmt::format("{} ({})", kind, name(l.context));
    }
}

// "… WHERE email = $1": the text before the literal, cut at a word boundary.
std::string parameter_hint(std::string_view sql, const Statement& st, const Literal& l) {
    size_t stmt_start = static_cast<size_t>(std::max(st.offset, 0));
    size_t at = static_cast<size_t>(l.offset);
    size_t from = at > stmt_start + 40 ? at - 40 : stmt_start;
    while (from > stmt_start && from < at && !std::isspace(static_cast<unsigned char>(sql[from - 1]))) ++from;
    std::string before(sql.substr(from, at - from));
    for (auto& c : before)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    std::string prefix = from > stmt_start ? "… " : "";
    return fmt::format("pass the value as a parameter: {}{}${}", prefix, before, st.param_count + 1);
}

class Judge {
  public:
    Judge(const Policy& p, const Analysis& a, std::string_view sql, Protocol protocol)
        : p_(p), a_(a), sql_(sql), protocol_(protocol) {}

    Decision run() {
        if (!a_.ok()) return analysis_failed();
        if (protocol_ == Protocol::simple_query && p_.stacked_statements && a_.statements.size() > 1 &&
            std::any_of(a_.statements.begin(), a_.statements.end(), [](const Statement& st) {
                // Several SETs or transaction commands in one Query (ORMs send their
                // connection set-up that way) carry no data: stacking is about the
                // statement that rides along with them.
                return st.kind != StatementKind::set && st.kind != StatementKind::reset &&
                       st.kind != StatementKind::show && category(st.kind) != StatementCategory::transaction;
            })) {
            return reject(Rule::stacked_statements, p_.stacked_statements_source, 1, sqlstate::insufficient_privilege,
                          fmt::format("pgmoat: {} statements in one query; one statement per query is allowed",
                                      a_.statements.size()),
                          "send each statement on its own, with its values as parameters", a_.statements[1].offset);
        }
        for (size_t i = 0; i < a_.statements.size(); ++i) {
            Decision d = statement(static_cast<int>(i), a_.statements[i]);
            if (!d.allow) return d;
        }
        Decision ok;
        ok.policy = p_.name;
        return ok;
    }

  private:
    Decision reject(Rule rule, const Source& source, int index, std::string sqlstate, std::string message,
                    std::string hint, int32_t offset) {
        Decision d;
        d.allow = false;
        d.rule = rule;
        d.policy = p_.name;
        d.source = source;
        d.statement = index;
        d.sqlstate = std::move(sqlstate);
        d.message = std::move(message);
        d.detail = fmt::format("Rejected by rule \"{}\" of policy \"{}\" ({}).", name(rule), p_.name, where(source));
        d.hint = std::move(hint);
        d.position = offset >= 0 ? character_position(sql_, offset) : 0;
        return d;
    }

    Decision analysis_failed() {
        Source src{p_.source.file, 0};
        switch (a_.status) {
            case AnalysisStatus::unparseable: {
                // PostgreSQL's own code for the error its parser raises (mostly 42601).
                Decision d = reject(Rule::unparseable, src, 0,
                                    a_.error_sqlstate.empty() ? sqlstate::syntax_error : a_.error_sqlstate,
                                    "pgmoat: " + a_.error,
                                    "fix the syntax; pgmoat checks every statement with PostgreSQL's own parser and "
                                    "does not send text it cannot parse",
                                    -1);
                d.position = a_.error_position;
                return d;
            }
            case AnalysisStatus::too_large:
                return reject(Rule::too_large, src, 0, sqlstate::program_limit_exceeded, "pgmoat: " + a_.error,
                              "send smaller statements: pass large values as parameters or use COPY", -1);
            case AnalysisStatus::too_deep:
                return reject(Rule::too_deep, src, 0, sqlstate::statement_too_complex, "pgmoat: " + a_.error,
                              "simplify the statement's nesting", -1);
            case AnalysisStatus::session_settings:
            default:
                return reject(Rule::session_settings, src, 0, sqlstate::insufficient_privilege, "pgmoat: " + a_.error,
                              "keep standard_conforming_strings on and client_encoding UTF8", -1);
        }
    }

    bool approved(const Statement& st) const {
        std::string_view whole = sql_;
        while (!whole.empty() && (std::isspace(static_cast<unsigned char>(whole.back())) || whole.back() == ';'))
            whole.remove_suffix(1);
        while (!whole.empty() && std::isspace(static_cast<unsigned char>(whole.front()))) whole.remove_prefix(1);
        for (const auto& ap : p_.approvals) {
            switch (ap.kind) {
                case Approval::Kind::text:
                    if (ap.text == whole) return true;
                    break;
                case Approval::Kind::fingerprint:
                    if (ap.fingerprint == st.fingerprint) return true;
                    break;
                case Approval::Kind::fingerprint_with_literals: {
                    if (ap.fingerprint != st.fingerprint || ap.literals.size() != st.literals.size()) break;
                    bool same = true;
                    for (size_t i = 0; i < st.literals.size() && same; ++i)
                        same = st.literals[i].text(sql_) == ap.literals[i];
                    if (same) return true;
                    break;
                }
            }
        }
        return false;
    }

    // The value pgmoat pins anyway: SET standard_conforming_strings = on, SET
    // client_encoding to UTF8 (Rails and libpq send these on every connection).
    bool sets_what_pgmoat_enforces(const Statement& st) const {
        if (st.kind != StatementKind::set || st.literals.size() != 1) return false;
        std::string v(st.literals[0].text(sql_));
        v.erase(std::remove(v.begin(), v.end(), '\''), v.end());
        ascii::lower_in_place(v);
        if (st.parameter == "standard_conforming_strings") return v == "on" || v == "true";
        if (st.parameter == "client_encoding") return v == "utf8" || v == "unicode" || v == "utf-8";
        return false;
    }

    // set_config('name', $1, is_local) is SET by another name: allowed for the
    // parameters SET may change (Django sets TimeZone so), denied otherwise. The
    // name's literal is then syntax, not a value: `name_offset` tells which.
    // set_config(name, value, is_local) changes only a parameter this policy lets
    // SET change, named by a constant: a string literal, possibly cast to text.
    // A name in a parameter, a column or an expression fails closed. name_literal
    // receives the name's index in st.literals.
    bool allowed_set_config(const Statement& st, const FunctionCall& f, int32_t* name_literal = nullptr) const {
        if (f.name != "set_config" || f.attribute_notation || !f.catalog.empty() ||
            (!f.schema.empty() && f.schema != "pg_catalog"))
            return false;
        std::string name;
        if (!constant_argument(st, f, 0, name, name_literal)) return false;
        ascii::lower_in_place(name);
        return std::any_of(p_.set_parameters.begin(), p_.set_parameters.end(),
                           [&](const std::string& g) { return glob_match(g, name); });
    }

    // The string constant a call's positional argument `index` is ('x' or
    // 'x'::text), as PostgreSQL reads it. False for anything else, and for calls
    // in named notation (which PostgreSQL matches by name, not position).
    static bool constant_argument(const Statement& st, const FunctionCall& f, size_t index, std::string& value,
                                  int32_t* literal = nullptr) {
        if (index >= f.arguments.size()) return false;
        for (const auto& a : f.arguments)
            if (!a.name.empty()) return false;
        const Argument& a = f.arguments[index];
        if (a.kind != ArgumentKind::literal || a.literal < 0 || static_cast<size_t>(a.literal) >= st.literals.size())
            return false;
        const Literal& l = st.literals[static_cast<size_t>(a.literal)];
        if (l.kind == LiteralKind::null || l.kind == LiteralKind::boolean) return false;
        if (!l.cast_type.empty() && l.cast_type != "text" && l.cast_type != "pg_catalog.text") return false;
        value = l.value;
        if (literal) *literal = a.literal;
        return true;
    }

    // Literals that name something rather than carry a value: set_config's
    // parameter name (allowed above) and the sequence of nextval('seq'), which
    // the relation rule has judged as a relation.
    std::vector<int32_t> names_in_syntax(const Statement& st) const {
        std::vector<int32_t> out;
        for (const auto& f : st.functions) {
            int32_t at = -1;
            if (allowed_set_config(st, f, &at)) out.push_back(at);
            if (f.relation >= 0 && !f.arguments.empty() && f.arguments[0].literal >= 0)
                out.push_back(f.arguments[0].literal);
        }
        return out;
    }

    // reg* input functions read an all-digit string as an OID: '12345'::regclass
    // is the number 12345, a value, not the name of something.
    static bool oid_number(const Literal& l) {
        std::string_view t = l.cast_type;
        if (t.substr(0, 11) == "pg_catalog.") t.remove_prefix(11);
        if (t.substr(0, 3) != "reg") return false;
        if (l.kind == LiteralKind::integer || l.kind == LiteralKind::float_) return true;
        return !l.value.empty() && l.value.find_first_not_of("0123456789") == std::string::npos;
    }

    bool exempt(const Literal& l) const {
        // NULL stays NULL whatever it is cast to; TRUE/FALSE only as booleans
        // (true::int is 1, a number like any other).
        if (l.kind == LiteralKind::null && p_.exempt_null) return true;
        if (l.kind == LiteralKind::boolean && p_.exempt_boolean &&
            (l.cast_type.empty() || l.cast_type == "bool" || l.cast_type == "pg_catalog.bool"))
            return true;
        if (!p_.exempt_contexts.test(static_cast<size_t>(l.context))) return false;
        if (l.context != LiteralContext::type_cast || p_.exempt_casts.empty()) return true;
        // '7 days'::interval is written in code; 2::int in WHERE id = 2::int is a value.
        if (oid_number(l)) return false;
        return std::any_of(p_.exempt_casts.begin(), p_.exempt_casts.end(),
                           [&](const std::string& g) { return glob_match(g, l.cast_type); });
    }

    bool kind_allowed(StatementKind k) const { return p_.allowed_kinds.test(static_cast<size_t>(k)); }

    std::string allowed_kinds_list() const {
        std::string out;
        for (size_t i = 0; i < p_.allowed_kinds.size(); ++i) {
            if (!p_.allowed_kinds.test(i)) continue;
            out += (out.empty() ? "" : ", ") + std::string(name(static_cast<StatementKind>(i)));
        }
        return out.empty() ? "none" : out;
    }

    Decision statement(int index, const Statement& st) {
        const Source& kinds = p_.allowed_kinds_source;
        if (!st.unknown_nodes.empty()) {
            return reject(
                Rule::unknown_syntax, p_.source, index, sqlstate::insufficient_privilege,
                fmt::format("pgmoat: statement uses syntax pgmoat cannot check ({})", st.unknown_nodes.front()),
                "rewrite the statement with common syntax, or ask the pgmoat maintainers to support it", st.offset);
        }
        if (!kind_allowed(st.kind)) {
            return reject(Rule::statement_kind, kinds, index, sqlstate::insufficient_privilege,
                          fmt::format("pgmoat: {} statements are not allowed", display(st.kind)),
                          fmt::format("this policy allows: {}", allowed_kinds_list()), st.offset);
        }
        if (st.inner_kind != StatementKind::none && !kind_allowed(st.inner_kind)) {
            return reject(Rule::statement_kind, kinds, index, sqlstate::insufficient_privilege,
                          fmt::format("pgmoat: {} statements are not allowed (inside {})", display(st.inner_kind),
                                      display(st.kind)),
                          fmt::format("this policy allows: {}", allowed_kinds_list()), st.offset);
        }
        if ((st.kind == StatementKind::set || st.kind == StatementKind::reset) && !sets_what_pgmoat_enforces(st) &&
            std::none_of(p_.set_parameters.begin(), p_.set_parameters.end(),
                         [&](const std::string& g) { return glob_match(g, st.parameter); })) {
            std::string allowed;
            for (const auto& s : p_.set_parameters) allowed += (allowed.empty() ? "" : ", ") + s;
            return reject(
                Rule::set_parameter, p_.set_parameters_source, index, sqlstate::insufficient_privilege,
                fmt::format("pgmoat: {} {} is not allowed", display(st.kind), st.parameter),
                fmt::format("parameters this policy lets an app change: {}", allowed.empty() ? "none" : allowed),
                st.offset);
        }
        if (st.copy && std::find(p_.copy_endpoints.begin(), p_.copy_endpoints.end(), st.copy->endpoint) ==
                           p_.copy_endpoints.end()) {
            return reject(Rule::copy, p_.copy_endpoints_source, index, sqlstate::insufficient_privilege,
                          fmt::format("pgmoat: COPY {} {} is not allowed", name(st.copy->direction),
                                      st.copy->endpoint == CopyEndpoint::program  ? "PROGRAM"
                                      : st.copy->endpoint == CopyEndpoint::file   ? "a server file"
                                      : st.copy->endpoint == CopyEndpoint::stdin_ ? "STDIN"
                                                                                  : "STDOUT"),
                          "use COPY … FROM STDIN or COPY … TO STDOUT through the client", st.offset);
        }
        for (const auto& w : st.writes) {
            Decision d = write_kind(index, st, w);
            if (!d.allow) return d;
        }
        for (const auto& r : st.relations) {
            Decision d = relation(index, r);
            if (!d.allow) return d;
        }
        // nextval($1): a sequence written that nobody can name before it runs;
        // only a policy that lets the app write every relation allows it.
        for (const auto& u : st.unknown_relations) {
            if (u.access.writes() && !everything(p_.write_allow, p_.write_deny)) {
                return reject(Rule::relation, p_.write_source, index, sqlstate::insufficient_privilege,
                              "pgmoat: writing a sequence named by a value, not a constant, is not allowed",
                              "name the sequence as a constant: nextval('orders_id_seq')", u.offset);
            }
        }
        for (const auto& c : st.columns) {
            Decision d = column(index, st, c);
            if (!d.allow) return d;
        }
        for (const auto& f : st.functions) {
            if (any_match(p_.function_deny, f.schema, f.name, true) &&
                !any_match(p_.function_allow, f.schema, f.name, false) && !allowed_set_config(st, f)) {
                return reject(Rule::function, p_.functions_source, index, sqlstate::insufficient_privilege,
                              fmt::format("pgmoat: function {} is not allowed", f.qualified_name()),
                              fmt::format("remove the call; this policy denies: {}", list(p_.function_deny)), f.offset);
            }
        }
        // After the function rule, so that a set_config() it denies is reported as such.
        if (Decision d = setting_limits(index, st); !d.allow) return d;
        if (p_.read_only) {
            if (auto breach = read_only_breach(st, sql_)) {
                return reject(Rule::read_only, p_.read_only_source, index, sqlstate::insufficient_privilege,
                              fmt::format("pgmoat: {} is not allowed: this identity is read-only", breach->what),
                              "this session is read-only on the server too (default_transaction_read_only = on); "
                              "writes need another identity or a grant",
                              breach->offset);
            }
        }
        // mode = "shapes": a shape in the lock is reviewed code, as an approval is.
        const bool shapes_mode = p_.parameter_mode == ParameterMode::shapes && p_.shape_lock;
        const shapes::Match shape = shapes_mode ? shapes::match(*p_.shape_lock, st, sql_) : shapes::Match{};
        bool is_approved = approved(st) || (shapes_mode && shape.verdict == shapes::Verdict::known);
        // JOIN … ON true (LATERAL joins) is an idiom, not an injection; ON 1=1 is not.
        // `AND 1=1` (Prisma) lets no row through that the other terms would not;
        // `WHERE 1=1` alone selects what no WHERE selects, so only in a
        // statement that writes or locks nothing. Probes (`AND 1=2`) and
        // constants that read something (`AND length(version()) > 1`) stay.
        auto taut = std::find_if(st.tautologies.begin(), st.tautologies.end(), [&](const Tautology& t) {
            if (t.literal_true && t.clause == Clause::where && (t.conjunct || (t.whole && st.writes.empty())))
                return false;
            if (t.clause != Clause::join_on || t.offset < 0) return true;
            return !ascii::iequals(sql_.substr(static_cast<size_t>(t.offset), 4), "true");
        });
        if (p_.tautologies && taut != st.tautologies.end() && !is_approved) {
            const auto& t = *taut;
            return reject(Rule::tautology, p_.tautologies_source, index, sqlstate::insufficient_privilege,
                          fmt::format("pgmoat: condition that is always the same (like 1=1) in {}: the shape of SQL "
                                      "injection",
                                      t.clause == Clause::having    ? "HAVING"
                                      : t.clause == Clause::join_on ? "JOIN ON"
                                                                    : "WHERE"),
                          "compare columns with parameters ($1) instead of building the condition from text", t.offset);
        }
        // After the tautology rule: `WHERE id = $1 OR 1=1` is reported as what it is.
        for (const auto& w : st.writes) {
            Decision d = write_where(index, st, w);
            if (!d.allow) return d;
        }
        if (p_.comment_truncation && !is_approved) {
            for (uint32_t i = st.first_comment; i < st.first_comment + st.comment_count && i < a_.comments.size();
                 ++i) {
                const auto& c = a_.comments[i];
                // A comment ending the statement cuts off whatever followed the
                // text injected before it: flagged right after a literal, or when
                // it holds SQL (a quote, an operator, a clause keyword), whatever
                // token it follows. ORM tags (sqlcommenter, marginalia) are not.
                if (!c.at_end || c.sqlcommenter || c.marginalia) continue;
                const bool line_sql = c.style == CommentStyle::line && c.sql_like;
                if (c.after_literal || line_sql) {
                    return reject(Rule::comment_truncation, p_.comment_truncation_source, index,
                                  sqlstate::insufficient_privilege,
                                  fmt::format("pgmoat: comment {} at the end of the statement: the shape of SQL "
                                              "injection that cuts off the rest of a query",
                                              c.after_literal ? "right after a literal" : "holding SQL"),
                                  "remove the trailing comment and pass values as parameters", c.offset);
                }
            }
        }
        // Transaction control and session statements (BEGIN, SET TIME ZONE, SHOW)
        // carry no data values; everything else must have an approved structure.
        bool needs_structure = shapes::needs_shape(st);
        if (p_.parameter_mode == ParameterMode::approved_structures && needs_structure && !is_approved) {
            std::string fp = fingerprint_hex(st.fingerprint);
            return reject(
                Rule::approved_structures, p_.parameters_source, index, sqlstate::insufficient_privilege,
                fmt::format("pgmoat: statement structure {} is not approved for this app", fp),
                fmt::format("if this statement is intended, approve its structure in {}: [[parameters.approved]] "
                            "fingerprint = \"{}\"  # {}",
                            p_.source.file, fp, st.normalized.substr(0, 120)),
                st.offset);
        }
        if (shapes_mode && needs_structure && !is_approved) return shape_rejection(index, st, shape);
        if (p_.parameter_mode == ParameterMode::require_parameters && !is_approved) {
            const std::vector<int32_t> syntax = names_in_syntax(st);
            for (size_t i = 0; i < st.literals.size(); ++i) {
                const Literal& l = st.literals[i];
                if (std::find(syntax.begin(), syntax.end(), static_cast<int32_t>(i)) != syntax.end()) continue;
                if (l.bare_word) continue;  // keywords the grammar turns into constants
                if (exempt(l)) continue;
                return reject(Rule::parameters, p_.parameters_source, index, sqlstate::insufficient_privilege,
                              fmt::format("pgmoat: {}: values must be sent as bind parameters", describe(l)),
                              parameter_hint(sql_, st, l) +
                                  " (if the value is fixed in the app's code, a DBA can approve the statement)",
                              l.offset);
            }
        }
        // Last: a statement with a literal is reported for the literal first.
        if (Decision d = literal_free_injection(index, st, is_approved); !d.allow) return d;
        Decision ok;
        ok.policy = p_.name;
        return ok;
    }

    // Injections that carry no literal: an appended set operation reading other
    // rows, and a secret read by a sub-select that an error message would show.
    Decision literal_free_injection(int index, const Statement& st, bool is_approved) {
        if (is_approved) return {};
        if (p_.set_operations) {
            for (const auto& arm : st.set_operation_arms) {
                if (!arm.reads_relation || arm.parameters || arm.recursive) continue;
                return reject(Rule::set_operation, p_.set_operations_source, index, sqlstate::insufficient_privilege,
                              "pgmoat: UNION/INTERSECT/EXCEPT arm that reads a table without a bind parameter: "
                              "the shape of SQL injection that appends a query to read other rows",
                              "select each arm's rows by values passed as parameters ($1), or run the queries "
                              "separately (if the statement is fixed in the app's code, a DBA can approve it)",
                              arm.offset);
            }
        }
        if (p_.subquery_conversions) {
            for (const auto& q : st.converted_queries) {
                if (!q.reads_relation) continue;
                auto leak = std::find_if(q.conversions.begin(), q.conversions.end(),
                                         [](const Conversion& c) { return c.may_quote_value; });
                if (leak == q.conversions.end()) continue;
                std::string how = leak->cast ? fmt::format("cast to {}", leak->name.empty() ? "a type" : leak->name)
                                             : fmt::format("passed to {}()", leak->name);
                return reject(Rule::subquery_conversion, p_.subquery_conversions_source, index,
                              sqlstate::insufficient_privilege,
                              fmt::format("pgmoat: value of a sub-select {}: the shape of SQL injection that reads "
                                          "data through an error message",
                                          how),
                              "convert the column inside the sub-select, or read the value with a query of its "
                              "own (if the statement is fixed in the app's code, a DBA can approve it)",
                              q.offset);
            }
        }
        return {};
    }

    // A statement whose shape nobody reviewed, or a locked constant carrying
    // another value: the error says how the shape gets reviewed (the command, the
    // file), the app's own lock being the last file listed.
    Decision shape_rejection(int index, const Statement& st, const shapes::Match& m) {
        const std::string fp = fingerprint_hex(st.fingerprint);
        const std::string& lock = p_.shape_files.back();
        std::string text = st.normalized.size() > 300 ? st.normalized.substr(0, 300) + "…" : st.normalized;
        if (m.verdict == shapes::Verdict::constant_changed) {
            return reject(Rule::shape_constant, p_.shapes_source, index, sqlstate::insufficient_privilege,
                          fmt::format("pgmoat: ${} of statement shape {} is locked as the constant {} and carries "
                                      "another value: a value spliced into the SQL text ({})",
                                      m.position, fp, m.expected, text),
                          fmt::format("pass the value as a bind parameter; if the code's constant changed on purpose, "
                                      "run the app's tests through pgmoat in monitor mode and review the change with "
                                      "`pgmoat shapes diff {} AUDIT_FILE`, then `pgmoat learn --lock {} AUDIT_FILE`",
                                      lock, lock),
                          m.offset);
        }
        return reject(Rule::new_shape, p_.shapes_source, index, sqlstate::insufficient_privilege,
                      fmt::format("pgmoat: new statement shape {}, not in the app's shape lock: {}", fp, text),
                      fmt::format("a new statement is reviewed before it runs: run the app's tests through pgmoat in "
                                  "monitor mode, `pgmoat shapes diff {} AUDIT_FILE` shows it, and `pgmoat shapes "
                                  "approve {} AUDIT_FILE --fingerprint {}` adds it to {} for review in version "
                                  "control (values belong in bind parameters)",
                                  lock, lock, fp, lock),
                      st.offset);
    }

    // Where a write sits, for messages: "" for the statement itself.
    std::string place(const Statement& st, const Write& w) const {
        if (w.merge_action) return " (a MERGE action)";
        switch (w.place) {
            case WritePlace::statement:
                return "";
            case WritePlace::inner:
                return fmt::format(" (inside {})", display(st.kind));
            case WritePlace::with:
                return " (inside WITH)";
            case WritePlace::nested:
                return " (inside another statement)";
        }
        return "";
    }

    // WITH d AS (DELETE FROM users RETURNING *) SELECT …: the statement of its
    // kind, hidden; so are MERGE's actions.
    Decision write_kind(int index, const Statement& st, const Write& w) {
        if (!w.row_lock && (w.place == WritePlace::with || w.place == WritePlace::nested || w.merge_action) &&
            !kind_allowed(w.kind)) {
            return reject(Rule::statement_kind, p_.allowed_kinds_source, index, sqlstate::insufficient_privilege,
                          fmt::format("pgmoat: {} statements are not allowed{}", display(w.kind), place(st, w)),
                          fmt::format("this policy allows: {}", allowed_kinds_list()), w.offset);
        }
        return {};
    }

    // Rows updated, deleted or locked, wherever the statement doing it is
    // written: require_where asks that they be selected by values.
    Decision write_where(int index, const Statement& st, const Write& w) {
        if (w.row_lock) {
            if (p_.require_where_for_row_locks && !w.restricts) {
                std::string rel = w.relation >= 0 ? st.relations[static_cast<size_t>(w.relation)].qualified_name() : "";
                return reject(Rule::require_where, p_.require_where_for_row_locks_source, index,
                              sqlstate::insufficient_privilege,
                              fmt::format("pgmoat: SELECT … FOR UPDATE/SHARE of every row of {} is not allowed{}", rel,
                                          place(st, w)),
                              "lock only the rows you need: a WHERE that compares their columns with values ($1), "
                              "or a LIMIT",
                              w.offset);
            }
            return {};
        }
        if (p_.require_where.test(static_cast<size_t>(w.kind)) && !w.restricts) {
            return reject(
                Rule::require_where, p_.require_where_source, index, sqlstate::insufficient_privilege,
                fmt::format("pgmoat: {} {} is not allowed{}", display(w.kind),
                            w.has_where ? "whose WHERE does not select rows by value" : "without WHERE", place(st, w)),
                "add a WHERE clause that compares the rows' columns with values ($1), e.g. WHERE id = $1; a "
                "condition true for every row (id IS NOT NULL, id = id, an unrestricted sub-select) does "
                "not count",
                w.offset);
        }
        return {};
    }

    // A bounded server setting (README "Limits on the server session") may be
    // lowered, never raised: by SET, SET LOCAL, ALTER ROLE/DATABASE/SYSTEM ...
    // SET or set_config(). SET ... TO DEFAULT and RESET return to the pinned
    // value; a value pgmoat cannot read as the server does, or one that is not
    // a constant, fails closed.
    Decision setting_limits(int index, const Statement& st) {
        if (p_.setting_limits.empty()) return {};
        if (st.kind != StatementKind::reset && st.kind != StatementKind::show) {
            if (const SettingLimit* limit = p_.setting_limit(st.parameter)) {
                std::vector<const Literal*> values;
                for (const auto& l : st.literals)
                    if (l.clause == Clause::set_value) values.push_back(&l);
                if (values.size() > 1) return beyond_limit(index, *limit, "a list of values", values[0]->offset);
                if (values.size() == 1) {
                    if (Decision d = within_limit(index, *limit, values[0]->value, values[0]->offset); !d.allow)
                        return d;
                }
            }
        }
        for (const auto& f : st.functions) {
            if (f.name != "set_config" || f.attribute_notation || (!f.schema.empty() && f.schema != "pg_catalog"))
                continue;
            std::string parameter, value;
            if (!constant_argument(st, f, 0, parameter)) {
                return reject(Rule::setting_limit, p_.setting_limits.front().source, index,
                              sqlstate::insufficient_privilege,
                              "pgmoat: set_config() with a parameter name that is not a constant could raise a "
                              "limit this policy sets",
                              "name the parameter as a constant: set_config('application_name', $1, false)", f.offset);
            }
            ascii::lower_in_place(parameter);
            const SettingLimit* limit = p_.setting_limit(parameter);
            if (!limit) continue;
            if (!constant_argument(st, f, 1, value))
                return beyond_limit(index, *limit, "a value that is not a constant", f.offset);
            if (Decision d = within_limit(index, *limit, value, f.offset); !d.allow) return d;
        }
        return {};
    }

    Decision within_limit(int index, const SettingLimit& limit, const std::string& text, int32_t offset) {
        std::optional<int64_t> base = setting_base_value(limit.parameter, text);
        if (!base)
            return beyond_limit(index, limit, fmt::format("'{}', which pgmoat cannot read as PostgreSQL does,", text),
                                offset);
        if (*base > limit.base_value) {
            return beyond_limit(
                index, limit, fmt::format("'{}'{}", text, *base == INT64_MAX ? ", which means no limit," : ""), offset);
        }
        return {};
    }

    Decision beyond_limit(int index, const SettingLimit& limit, const std::string& what, int32_t offset) {
        return reject(
            Rule::setting_limit, limit.source, index, sqlstate::insufficient_privilege,
            fmt::format("pgmoat: setting {} to {} is not allowed: this policy limits it to {}", limit.parameter, what,
                        limit.value),
            fmt::format("use a value up to {}; SET {} TO DEFAULT returns to it", limit.value, limit.parameter), offset);
    }

    // A pattern list that lets every relation through.
    static bool everything(const std::vector<QualifiedPattern>& allow, const std::vector<QualifiedPattern>& deny) {
        auto stars = [](const std::string& t) { return !t.empty() && t.find_first_not_of('*') == std::string::npos; };
        return deny.empty() && std::any_of(allow.begin(), allow.end(), [&](const QualifiedPattern& p) {
                   return (p.schema.empty() || stars(p.schema)) && stars(p.name);
               });
    }

    Decision relation(int index, const Relation& r) {
        if (is_catalog(r)) {
            if (r.access.writes() || r.access.has(Access::ddl) ||
                !any_match(p_.catalog_allow, r.schema.empty() ? "pg_catalog" : r.schema, r.name, false)) {
                return reject(Rule::catalog, p_.catalog_source, index, sqlstate::insufficient_privilege,
                              fmt::format("pgmoat: access to system catalog {} is not allowed", r.qualified_name()),
                              fmt::format("system catalogs are closed except for reads of: {}", list(p_.catalog_allow)),
                              r.offset);
            }
            return {};
        }
        struct Group {
            bool used;
            const std::vector<QualifiedPattern>& allow;
            const std::vector<QualifiedPattern>& deny;
            const Source& source;
            const char* verb;
        };
        bool writes = r.access.writes() || r.access.has(Access::lock);
        Group groups[] = {{r.access.has(Access::read), p_.read_allow, p_.read_deny, p_.read_source, "reading"},
                          {writes, p_.write_allow, p_.write_deny, p_.write_source, "writing to"},
                          {r.access.has(Access::ddl), p_.ddl_allow, p_.ddl_deny, p_.ddl_source, "DDL on"}};
        for (const auto& g : groups) {
            if (!g.used) continue;
            if (any_match(g.deny, r.schema, r.name, true) || !any_match(g.allow, r.schema, r.name, false)) {
                return reject(Rule::relation, g.source, index, sqlstate::insufficient_privilege,
                              fmt::format("pgmoat: {} {} is not allowed", g.verb, r.qualified_name()),
                              fmt::format("this policy allows {} {}{}", g.verb, list(g.allow),
                                          g.deny.empty() ? "" : ", except " + list(g.deny)),
                              r.offset);
            }
        }
        return {};
    }

    Decision column(int index, const Statement& st, const Column& c) {
        if (p_.column_deny.empty() || c.origin == ColumnOrigin::derived) return {};
        std::vector<uint32_t> owners;
        if (c.origin == ColumnOrigin::relation && c.relation >= 0) {
            owners.push_back(static_cast<uint32_t>(c.relation));
        } else if (!c.candidates.empty()) {
            owners = c.candidates;
        } else {
            for (uint32_t i = 0; i < st.relations.size(); ++i) owners.push_back(i);
        }
        for (uint32_t ri : owners) {
            if (ri >= st.relations.size()) continue;
            const Relation& r = st.relations[ri];
            for (const auto& pat : p_.column_deny) {
                if (!pat.relation.matches(r.schema, r.name, true)) continue;
                if (c.all_columns) {
                    return reject(Rule::column, p_.columns_source, index, sqlstate::insufficient_privilege,
                                  fmt::format("pgmoat: {} every column of {}, which includes the denied column {}",
                                              c.written ? "writing" : "reading", r.qualified_name(), pat.column),
                                  fmt::format("name the columns you need (no *, whole-row reference, positional "
                                              "INSERT or COPY without a column list), without {}",
                                              pat.text),
                                  c.offset);
                }
                if (glob_match(pat.column, c.name)) {
                    return reject(Rule::column, p_.columns_source, index, sqlstate::insufficient_privilege,
                                  fmt::format("pgmoat: column {}.{} is not allowed", r.qualified_name(), c.name),
                                  fmt::format("remove {} from the statement; this policy denies: {}", c.name, pat.text),
                                  c.offset);
                }
            }
        }
        return {};
    }

    const Policy& p_;
    const Analysis& a_;
    std::string_view sql_;
    Protocol protocol_;
};

}  // namespace

Decision decide(const Policy& policy, const Analysis& analysis, std::string_view sql, Protocol protocol) {
    Decision d = Judge(policy, analysis, sql, protocol).run();
    if (!d.allow && policy.mode == Mode::monitor) {
        d.allow = true;
        d.would_reject = true;
    }
    return d;
}

}  // namespace pgmoat::policy
