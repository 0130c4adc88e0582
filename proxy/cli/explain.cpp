// `pgmoat explain --app NAME "SQL"`: what pgmoat would decide for a statement
// from that app, which rule decided, and the analysis facts behind it.
#include "commands.h"

#include "pgmoat/common/json_writer.h"
#include "pgmoat/config/config.h"
#include "pgmoat/policy/decision.h"
#include "pgmoat/policy/loader.h"
#include "pgmoat/sql/analyzer.h"

#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <iterator>

namespace pgmoat::cli {

namespace {

void explain_usage() {
    std::fprintf(stderr,
                 "usage: pgmoat explain --app NAME [--target T] [--application-name N] [--client-address A]\n"
                 "                      [--extended] [--json] [-c pgmoat.toml | --policies DIR] SQL|-\n");
}

std::string columns_of(const sql::Statement& st, const sql::Column& c) {
    std::string owner = c.origin == sql::ColumnOrigin::relation && c.relation >= 0 &&
                                static_cast<size_t>(c.relation) < st.relations.size()
                            ? st.relations[static_cast<size_t>(c.relation)].qualified_name() + "."
                            : std::string(c.origin == sql::ColumnOrigin::derived ? "(derived) " : "(uncertain) ");
    return owner + (c.all_columns ? "*" : c.name) + (c.written ? " [written]" : "");
}

void print_text(const policy::Decision& d, const sql::Analysis& a, std::string_view sql) {
    if (d.allow && !d.would_reject) {
        std::printf("decision: allow (policy \"%s\")\n", d.policy.c_str());
    } else {
        std::printf("decision: %s (policy \"%s\")\n", d.would_reject ? "would reject (monitor mode)" : "reject",
                    d.policy.c_str());
        std::printf("rule:     %s  (%s:%d)\n", std::string(name(d.rule)).c_str(), d.source.file.c_str(), d.source.line);
        std::printf("error:    ERROR %s: %s\n", d.sqlstate.c_str(), d.message.c_str());
        if (!d.hint.empty()) std::printf("hint:     %s\n", d.hint.c_str());
        if (d.position > 0) std::printf("position: %d\n", d.position);
    }
    if (!a.ok()) {
        std::printf("\nanalysis: %s: %s\n", std::string(sql::name(a.status)).c_str(), a.error.c_str());
        return;
    }
    for (size_t i = 0; i < a.statements.size(); ++i) {
        const auto& st = a.statements[i];
        std::printf("\nstatement %zu: %s", i + 1, std::string(sql::name(st.kind)).c_str());
        if (st.inner_kind != sql::StatementKind::none)
            std::printf(" (of %s)", std::string(sql::name(st.inner_kind)).c_str());
        if (!st.object_type.empty()) std::printf(" [%s]", st.object_type.c_str());
        std::printf("\n  fingerprint: %s\n  normalized:  %s\n", sql::fingerprint_hex(st.fingerprint).c_str(),
                    st.normalized.c_str());
        if (!st.parameter.empty()) std::printf("  parameter:   %s\n", st.parameter.c_str());
        if (st.param_count) std::printf("  parameters:  $1..$%d\n", st.param_count);
        for (const auto& r : st.relations)
            std::printf("  relation:    %s (%s)\n", r.qualified_name().c_str(), sql::access_names(r.access).c_str());
        for (const auto& c : st.columns) std::printf("  column:      %s\n", columns_of(st, c).c_str());
        for (const auto& f : st.functions) std::printf("  function:    %s\n", f.qualified_name().c_str());
        for (const auto& l : st.literals) {
            std::printf("  literal:     %.*s  (%s, %s, in %s)\n", static_cast<int>(l.text(sql).size()),
                        l.text(sql).data(), std::string(sql::name(l.kind)).c_str(),
                        std::string(sql::name(l.context)).c_str(), std::string(sql::name(l.clause)).c_str());
        }
        for (const auto& t : st.tautologies)
            std::printf("  tautology:   at character %d%s%s\n", sql::character_position(sql, t.offset),
                        t.literal_true ? " (literally true)" : "",
                        t.conjunct ? " (ANDed at the top)"
                        : t.whole  ? " (the whole condition)"
                                   : "");
        for (const auto& arm : st.set_operation_arms)
            std::printf("  set arm:     at character %d%s%s%s\n", sql::character_position(sql, arm.offset),
                        arm.reads_relation ? " reads a relation" : "", arm.parameters ? ", with parameters" : "",
                        arm.recursive ? ", recursive" : "");
        for (const auto& q : st.converted_queries) {
            std::string chain;
            for (const auto& c : q.conversions)
                chain += (chain.empty() ? "" : " -> ") + (c.cast ? "::" + c.name : c.name + "()") +
                         (c.may_quote_value ? "*" : "");
            std::printf("  converted:   sub-select at character %d%s through %s\n",
                        sql::character_position(sql, q.offset), q.reads_relation ? " reading a relation" : "",
                        chain.c_str());
        }
        for (const auto& dc : st.dynamic_code)
            std::printf("  dynamic:     %s %s\n", std::string(sql::name(dc.kind)).c_str(), dc.name.c_str());
        if (st.copy) {
            std::printf("  copy:        %s %s\n", std::string(sql::name(st.copy->direction)).c_str(),
                        std::string(sql::name(st.copy->endpoint)).c_str());
        }
        if (st.kind == sql::StatementKind::update || st.kind == sql::StatementKind::delete_)
            std::printf("  where:       %s\n", st.has_where ? "yes" : "no");
        for (const auto& w : st.writes) {
            std::string target = w.relation >= 0 ? st.relations[static_cast<size_t>(w.relation)].qualified_name() : "?";
            std::printf("  write:       %s %s%s%s: %s\n", w.row_lock ? "lock" : std::string(sql::name(w.kind)).c_str(),
                        target.c_str(), w.place == sql::WritePlace::statement ? "" : " inside ",
                        w.place == sql::WritePlace::statement ? "" : std::string(sql::name(w.place)).c_str(),
                        w.restricts ? "rows selected by value" : "rows not selected by value");
        }
        for (const auto& u : st.unknown_relations)
            std::printf("  unknown relation: %s at character %d\n", sql::access_names(u.access).c_str(),
                        sql::character_position(sql, u.offset));
    }
}

void print_json(const policy::Decision& d, const sql::Analysis& a, std::string_view sql) {
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.key("decision").value(d.would_reject ? "would_reject" : d.allow ? "allow" : "reject");
    w.key("policy").value(d.policy);
    if (d.rule != policy::Rule::none) {
        w.key("rule").value(name(d.rule));
        w.key("policy_file").value(d.source.file);
        w.key("policy_line").value(static_cast<int64_t>(d.source.line));
        w.key("error").begin_object();
        w.key("sqlstate").value(d.sqlstate).key("message").value(d.message).key("detail").value(d.detail);
        w.key("hint").value(d.hint).key("position").value(static_cast<int64_t>(d.position));
        w.end_object();
    }
    w.key("analysis").begin_object();
    w.key("status").value(sql::name(a.status));
    if (!a.ok()) w.key("error").value(a.error);
    w.key("statements").begin_array();
    for (const auto& st : a.statements) {
        w.begin_object();
        w.key("kind").value(sql::name(st.kind));
        if (st.inner_kind != sql::StatementKind::none) w.key("inner_kind").value(sql::name(st.inner_kind));
        if (!st.object_type.empty()) w.key("object_type").value(st.object_type);
        w.key("fingerprint").value(sql::fingerprint_hex(st.fingerprint));
        w.key("normalized").value(st.normalized);
        if (!st.parameter.empty()) w.key("parameter").value(st.parameter);
        w.key("param_count").value(static_cast<int64_t>(st.param_count));
        w.key("relations").begin_array();
        for (const auto& r : st.relations) {
            w.begin_object()
                .key("name")
                .value(r.qualified_name())
                .key("access")
                .value(sql::access_names(r.access))
                .end_object();
        }
        w.end_array();
        w.key("columns").begin_array();
        for (const auto& c : st.columns) w.value(columns_of(st, c));
        w.end_array();
        w.key("functions").begin_array();
        for (const auto& f : st.functions) w.value(f.qualified_name());
        w.end_array();
        w.key("literals").begin_array();
        for (const auto& l : st.literals) {
            w.begin_object().key("text").value(l.text(sql)).key("kind").value(sql::name(l.kind));
            w.key("context").value(sql::name(l.context)).key("clause").value(sql::name(l.clause));
            if (!l.cast_type.empty()) w.key("cast_type").value(l.cast_type);
            w.key("position").value(static_cast<int64_t>(sql::character_position(sql, l.offset))).end_object();
        }
        w.end_array();
        w.key("tautologies").value(static_cast<int64_t>(st.tautologies.size()));
        w.key("has_where").value(st.has_where);
        w.key("writes").begin_array();
        for (const auto& wr : st.writes) {
            w.begin_object().key("kind").value(wr.row_lock ? std::string_view("lock") : sql::name(wr.kind));
            if (wr.relation >= 0)
                w.key("relation").value(st.relations[static_cast<size_t>(wr.relation)].qualified_name());
            w.key("place").value(sql::name(wr.place)).key("has_where").value(wr.has_where);
            w.key("restricts").value(wr.restricts).end_object();
        }
        w.end_array();
        w.end_object();
    }
    w.end_array();
    w.end_object();
    w.end_object();
    std::printf("%s\n", out.c_str());
}

}  // namespace

int explain(const Args& args) {
    policy::SessionFacts facts;
    std::string config_path, dir, sql_text;
    bool json = false, extended = false, have_sql = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
            return args[++i];
        };
        if (a == "--app")
            facts.app = next();
        else if (a == "--target")
            facts.target = next();
        else if (a == "--application-name")
            facts.application_name = next();
        else if (a == "--client-address")
            facts.client_address = next();
        else if (a == "-c" || a == "--config")
            config_path = next();
        else if (a == "--policies")
            dir = next();
        else if (a == "--json")
            json = true;
        else if (a == "--extended")
            extended = true;
        else if (!have_sql && (a == "-" || a.empty() || a[0] != '-')) {
            sql_text = a;
            have_sql = true;
        } else {
            explain_usage();
            return 2;
        }
    }
    if (facts.app.empty() || !have_sql) {
        explain_usage();
        return 2;
    }
    if (sql_text == "-") sql_text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (dir.empty()) dir = config_path.empty() ? "policies" : config::load_config(config_path).policies.dir;
    if (!config_path.empty()) {
        // The identity's kind ([apps.X] kind) selects policies too.
        auto cfg = config::load_config(config_path);
        if (const config::App* app = cfg.find_app(facts.app)) facts.kind = app->kind;
    }
    auto set = policy::load_policy_dir(dir);
    auto chosen = set.select(facts);
    auto analysis = sql::analyze(sql_text);
    auto decision = policy::decide(*chosen, analysis, sql_text,
                                   extended ? policy::Protocol::extended : policy::Protocol::simple_query);
    if (json)
        print_json(decision, analysis, sql_text);
    else
        print_text(decision, analysis, sql_text);
    return decision.allow ? 0 : 3;
}

}  // namespace pgmoat::cli
