// Grants: the file, and what a grant widens. A kind (or category) is let through
// as if the policy allowed it (also past require_where, and past holds for it
// unless [holds] kind_grants_lift = false); a rule
// name turns that rule off. The second lock (read_only) is never lifted: the
// upstream session of a read-only identity starts read-only whatever pgmoat allows.
#include "pgmoat/policy/grants.h"

#include "pgmoat/common/config_error.h"
#include "pgmoat/common/toml_reader.h"
#include "pgmoat/common/toml_text.h"
#include "pgmoat/common/utc_time.h"
#include "pgmoat/policy/pattern.h"
#include "pgmoat/sql/statement_kind.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace pgmoat::policy {

namespace {

// Rules a grant can turn off, and how.
struct RuleWidening {
    Rule rule;
    void (*widen)(Policy& p);
};

constexpr RuleWidening kRules[] = {
    {Rule::require_where, [](Policy& p) { p.require_where.reset(), p.require_where_for_row_locks = false; }},
    {Rule::hold_statements, [](Policy& p) { p.holds.kinds.reset(); }},
    {Rule::hold_unrestricted_writes, [](Policy& p) { p.holds.unrestricted_writes = false; }},
    {Rule::hold_rows, [](Policy& p) { p.holds.rows_over = 0; }},
    {Rule::max_rows, [](Policy& p) { p.max_rows = 0; }},
    {Rule::max_rows_affected, [](Policy& p) { p.max_rows_affected = 0; }},
    {Rule::rate_limit, [](Policy& p) { p.statements_per_second = 0; }},
    {Rule::parameters, [](Policy& p) { p.parameter_mode = ParameterMode::off; }},
    {Rule::stacked_statements, [](Policy& p) { p.stacked_statements = false; }},
    {Rule::tautology, [](Policy& p) { p.tautologies = false; }},
    {Rule::comment_truncation, [](Policy& p) { p.comment_truncation = false; }},
    {Rule::set_operation, [](Policy& p) { p.set_operations = false; }},
    {Rule::subquery_conversion, [](Policy& p) { p.subquery_conversions = false; }},
    // Asked by the session (Session::granted): the target's production freeze.
    {Rule::freeze, [](Policy&) {}},
    {Rule::hold_freeze, [](Policy&) {}},
    // The target's production = "no_ddl" (read_only is the second lock: never lifted).
    {Rule::production, [](Policy&) {}},
};

const RuleWidening* find_rule(Rule rule) {
    for (const auto& r : kRules)
        if (r.rule == rule) return &r;
    return nullptr;
}

bool glob(std::string_view pattern, std::string_view text) {
    return glob_match(pattern, text);
}

}  // namespace

bool Grant::applies(std::string_view a, std::string_view t, std::chrono::system_clock::time_point now) const {
    return active(now) && app == a && glob(target, t);
}

std::optional<std::string> Grant::set_allow(std::string_view name) {
    auto named_rule = rule_named(name);
    if (named_rule == Rule::read_only) {
        return "the second lock is not lifted by a grant: a read-only identity's server session starts with "
               "default_transaction_read_only = on whatever pgmoat allows; give the work to an identity that may write";
    }
    if (named_rule && find_rule(*named_rule)) {
        allow = name, rule = *named_rule, kinds.reset();
        return std::nullopt;
    }
    if (auto named_kinds = kinds_named(name); named_kinds.any()) {
        allow = name, rule = Rule::none, kinds = named_kinds;
        return std::nullopt;
    }
    std::string rules;
    for (const auto& r : kRules) rules += (rules.empty() ? "" : ", ") + std::string(policy::name(r.rule));
    return fmt::format(
        "\"{}\" is neither a statement kind (e.g. drop, truncate, delete), a category (ddl, dml, "
        "dcl, ...) nor a rule a grant can lift ({})",
        name, rules);
}

std::optional<std::string> grant_refusal(std::string_view allow) {
    return Grant{}.set_allow(allow);
}

std::vector<Grant> parse_grants(const std::string& text, const std::string& file) {
    std::vector<Grant> out;
    toml::table doc = parse_toml(text, file);
    TomlTable root(doc, file);
    auto tables = root.table_array("grant");
    for (auto& t : tables ? *tables : std::vector<TomlTable>{}) {
        Grant g;
        auto required = [&](std::string_view key) {
            auto v = t.string(key);
            if (!v || v->empty()) t.fail_here(fmt::format("a grant needs {}", key));
            return *v;
        };
        g.id = required("id");
        g.app = required("app");
        if (auto refusal = g.set_allow(required("allow"))) t.fail("allow", *refusal);
        g.target = required("target");
        g.reason = required("reason");
        g.granted_by = t.string("granted_by").value_or("");
        auto time = [&](std::string_view key) {
            auto v = parse_utc(required(key));
            if (!v) t.fail(key, "expected a UTC time such as \"2026-12-24T00:00:00Z\"");
            return *v;
        };
        g.granted_at = time("granted_at");
        g.expires = time("expires");
        t.reject_unknown_keys();
        for (const auto& other : out)
            if (other.id == g.id) t.fail("id", fmt::format("grant \"{}\" is in the file twice", g.id));
        out.push_back(std::move(g));
    }
    root.reject_unknown_keys();
    return out;
}

std::vector<Grant> load_grants(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::error_code ec;
        if (!std::filesystem::exists(path, ec)) return {};
        throw ConfigError(path, 0, 0, "cannot read the grants file");
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return parse_grants(text, path);
}

std::string grants_text(const std::vector<Grant>& grants) {
    std::string out =
        "# Time-boxed elevations, written by `pgmoat grant` and `pgmoat revoke`.\n"
        "# Each widens one app's policy on a target until it expires (UTC).\n";
    for (const auto& g : grants) {
        out += fmt::format(
            "\n[[grant]]\nid = {}\napp = {}\nallow = {}\ntarget = {}\nreason = {}\ngranted_by = {}\n"
            "granted_at = \"{}\"\nexpires = \"{}\"\n",
            toml_string(g.id), toml_string(g.app), toml_string(g.allow), toml_string(g.target), toml_string(g.reason),
            toml_string(g.granted_by), format_utc(g.granted_at), format_utc(g.expires));
    }
    return out;
}

void save_grants(const std::string& path, const std::vector<Grant>& grants) {
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    std::string text = grants_text(grants);
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw ConfigError(path, 0, 0, "cannot write the grants file beside it (" + tmp + ")");
    bool ok =
        std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
    ok = std::fclose(f) == 0 && ok;
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw ConfigError(path, 0, 0, "cannot write the grants file");
    }
}

Policy widen(const Policy& policy, const std::vector<Grant>& grants) {
    Policy p = policy;
    for (const auto& g : grants) {
        if (const auto* r = find_rule(g.rule)) {
            r->widen(p);
            continue;
        }
        const auto& kinds = g.kinds;
        p.allowed_kinds |= kinds;
        p.require_where &= ~kinds;
        if (p.holds.kind_grants_lift) p.holds.kinds &= ~kinds;
        // DDL of a granted kind may touch any relation.
        bool ddl = false;
        for (size_t i = 0; i < kinds.size(); ++i) {
            if (!kinds.test(i)) continue;
            auto c = sql::category(static_cast<sql::StatementKind>(i));  // only named kinds are set
            ddl = ddl || c == sql::StatementCategory::ddl || c == sql::StatementCategory::dcl;
        }
        if (ddl) {
            std::string error;
            p.ddl_deny.clear();
            p.ddl_allow = {*QualifiedPattern::parse("*", error)};
        }
    }
    return p;
}

const Grant* grant_for(const std::vector<Grant>& grants, Rule rule, std::optional<sql::StatementKind> kind) {
    for (const auto& g : grants) {
        if (g.rule != Rule::none && g.rule == rule) return &g;
        if (kind && g.kinds.test(static_cast<size_t>(*kind))) return &g;
    }
    return grants.empty() ? nullptr : &grants.front();
}

}  // namespace pgmoat::policy
