#include "pgmoat/policy/loader.h"

#include "pgmoat/common/ascii.h"
#include "pgmoat/common/toml_reader.h"
#include "pgmoat/policy/setting_limits.h"
#include "pgmoat/sql/statement_kind.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace pgmoat::policy {

namespace fs = std::filesystem;

namespace {

// Expands to "+1" per kind, after a 0: no parentheses wanted.
#define PGMOAT_COUNT_KIND(e, n, c) +1  // NOLINT(bugprone-macro-parentheses)
constexpr int kStatementKinds = 0 PGMOAT_SQL_STATEMENT_KINDS(PGMOAT_COUNT_KIND);
#undef PGMOAT_COUNT_KIND

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path, 0, 0, "cannot read policy file");
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

Source source_of(const TomlTable& t, std::string_view key) {
    return Source{t.file(), t.line_of(key)};
}

std::optional<sql::LiteralContext> context_from_name(std::string_view n) {
    for (int i = 0; i <= static_cast<int>(sql::LiteralContext::other); ++i) {
        auto c = static_cast<sql::LiteralContext>(i);
        if (sql::name(c) == n) return c;
    }
    return std::nullopt;
}

std::string known_contexts() {
    std::string out = "null, boolean";
    for (int i = 0; i <= static_cast<int>(sql::LiteralContext::other); ++i) {
        out += ", ";
        out += sql::name(static_cast<sql::LiteralContext>(i));
    }
    return out;
}

std::vector<QualifiedPattern> patterns(TomlTable& t, std::string_view key) {
    std::vector<QualifiedPattern> out;
    auto list = t.strings(key);
    if (!list) return out;
    for (const auto& text : *list) {
        std::string error;
        auto p = QualifiedPattern::parse(text, error);
        if (!p) t.fail(key, fmt::format("\"{}\": {}", text, error));
        out.push_back(std::move(*p));
    }
    return out;
}

// Kind or category names, as in [statements] allow = ["select", "transaction"].
std::bitset<256> kinds(TomlTable& t, std::string_view key) {
    std::bitset<256> out;
    auto names = t.strings(key);
    for (const auto& n : *names) {
        auto named = kinds_named(n);
        out |= named;
        if (named.none()) {
            t.fail(key, fmt::format("\"{}\" is neither a statement kind (e.g. select, create_table, do) nor a "
                                    "category (query, dml, copy, ddl, dcl, transaction, session, utility)",
                                    n));
        }
    }
    return out;
}

}  // namespace

std::bitset<256> kinds_named(std::string_view name) {
    std::bitset<256> out;
    if (auto k = sql::statement_kind_from_name(name)) {
        out.set(static_cast<size_t>(*k));
        return out;
    }
    for (int i = 0; i < kStatementKinds; ++i) {
        auto k = static_cast<sql::StatementKind>(i);
        if (sql::name(sql::category(k)) == name) out.set(static_cast<size_t>(i));
    }
    return out;
}

namespace {

uint64_t parse_fingerprint(TomlTable& t, const std::string& hex) {
    uint64_t v = 0;
    auto r = std::from_chars(hex.data(), hex.data() + hex.size(), v, 16);
    if (hex.size() != 16 || r.ec != std::errc() || r.ptr != hex.data() + hex.size()) {
        t.fail("fingerprint",
               fmt::format("\"{}\" is not a fingerprint (16 hex digits, as pgmoat explain prints)", hex));
    }
    return v;
}

void read_applies_to(TomlTable& t, Policy& p) {
    p.applies_to = {};
    p.applies_to_source = Source{t.file(), t.line()};
    if (auto v = t.strings("apps")) p.applies_to.apps = *v;
    if (auto v = t.strings("targets")) p.applies_to.targets = *v;
    if (auto v = t.strings("application_names")) p.applies_to.application_names = *v;
    if (auto v = t.strings("kinds")) {
        for (const auto& k : *v)
            if (k != "app" && k != "agent" && k != "person")
                t.fail("kinds", fmt::format("\"{}\": expected app, agent or person", k));
        p.applies_to.kinds = *v;
    }
    if (auto v = t.strings("client_addresses")) {
        for (const auto& text : *v) {
            auto c = Cidr::parse(text);
            if (!c)
                t.fail("client_addresses", fmt::format("\"{}\" is not an address range such as \"10.0.0.0/8\"", text));
            p.applies_to.client_addresses.push_back(*c);
        }
    }
    t.reject_unknown_keys();
}

void read_parameters(TomlTable& t, Policy& p) {
    if (auto v = t.string("mode")) {
        if (*v == "require_parameters")
            p.parameter_mode = ParameterMode::require_parameters;
        else if (*v == "approved_structures")
            p.parameter_mode = ParameterMode::approved_structures;
        else if (*v == "shapes")
            p.parameter_mode = ParameterMode::shapes;
        else if (*v == "off")
            p.parameter_mode = ParameterMode::off;
        else
            t.fail("mode", "expected one of require_parameters, approved_structures, shapes, off");
        p.parameters_source = source_of(t, "mode");
    }
    if (auto v = t.strings("exempt")) {
        p.exempt_contexts.reset();
        p.exempt_null = p.exempt_boolean = false;
        for (const auto& n : *v) {
            if (n == "null")
                p.exempt_null = true;
            else if (n == "boolean")
                p.exempt_boolean = true;
            else if (auto c = context_from_name(n))
                p.exempt_contexts.set(static_cast<size_t>(*c));
            else
                t.fail("exempt", fmt::format("\"{}\" is not a literal context; known: {}", n, known_contexts()));
        }
    }
    if (auto v = t.strings("exempt_casts")) {
        p.exempt_casts.clear();
        for (const auto& c : *v) {
            p.exempt_casts.push_back(ascii::lower(c));
        }
    }
    if (auto files = t.strings("shapes")) {
        p.shape_files.clear();
        const fs::path dir = fs::path(t.file()).parent_path();
        for (const auto& f : *files)
            p.shape_files.push_back(fs::path(f).is_absolute() ? f : (dir / f).lexically_normal().string());
        p.shapes_source = source_of(t, "shapes");
        try {
            p.shape_lock = std::make_shared<const shapes::ShapeLock>(shapes::read_lock_files(p.shape_files));
        } catch (const ConfigError& e) {
            if (e.line() > 0) throw;
            t.fail("shapes", e.what());  // a file that cannot be read: point at the line naming it
        }
    }
    if (auto approved = t.table_array("approved")) {
        p.approvals.clear();
        for (TomlTable& a : *approved) {
            Approval ap;
            ap.source = Source{a.file(), a.line()};
            auto text = a.string("text");
            auto fp = a.string("fingerprint");
            auto lits = a.strings("literals");
            auto note = a.string("note");
            if (text && fp) a.fail("fingerprint", "an approval has either text or fingerprint, not both");
            if (text) {
                ap.kind = Approval::Kind::text;
                ap.text = *text;
                if (lits) a.fail("literals", "literals go with a fingerprint approval");
            } else if (fp) {
                ap.fingerprint = parse_fingerprint(a, *fp);
                ap.kind = lits ? Approval::Kind::fingerprint_with_literals : Approval::Kind::fingerprint;
                if (lits) ap.literals = *lits;
                if (note) ap.text = *note;
            } else {
                a.fail_here("an approval needs text = \"…\" or fingerprint = \"…\"");
            }
            a.reject_unknown_keys();
            p.approvals.push_back(std::move(ap));
        }
    }
    t.reject_unknown_keys();
}

void read_signatures(TomlTable& t, Policy& p) {
    auto flag = [&](const char* key, bool& value, Source& source) {
        if (auto v = t.boolean(key)) {
            value = *v;
            source = source_of(t, key);
        }
    };
    flag("stacked_statements", p.stacked_statements, p.stacked_statements_source);
    flag("tautologies", p.tautologies, p.tautologies_source);
    flag("comment_truncation", p.comment_truncation, p.comment_truncation_source);
    flag("set_operations", p.set_operations, p.set_operations_source);
    flag("subquery_conversions", p.subquery_conversions, p.subquery_conversions_source);
    t.reject_unknown_keys();
}

void read_statements(TomlTable& t, Policy& p) {
    if (t.has("allow")) {
        p.allowed_kinds = kinds(t, "allow");
        p.allowed_kinds_source = source_of(t, "allow");
    }
    if (t.has("deny")) {
        p.allowed_kinds &= ~kinds(t, "deny");
        p.allowed_kinds_source = source_of(t, "deny");
    }
    if (t.has("require_where")) {
        p.require_where = kinds(t, "require_where");
        p.require_where_source = source_of(t, "require_where");
    }
    if (auto v = t.boolean("require_where_for_row_locks")) {
        p.require_where_for_row_locks = *v;
        p.require_where_for_row_locks_source = source_of(t, "require_where_for_row_locks");
    }
    if (auto v = t.strings("copy")) {
        p.copy_endpoints.clear();
        for (const auto& n : *v) {
            if (n == "stdin")
                p.copy_endpoints.push_back(sql::CopyEndpoint::stdin_);
            else if (n == "stdout")
                p.copy_endpoints.push_back(sql::CopyEndpoint::stdout_);
            else if (n == "file")
                p.copy_endpoints.push_back(sql::CopyEndpoint::file);
            else if (n == "program")
                p.copy_endpoints.push_back(sql::CopyEndpoint::program);
            else
                t.fail("copy", fmt::format("\"{}\": expected stdin, stdout, file or program", n));
        }
        p.copy_endpoints_source = source_of(t, "copy");
    }
    if (auto v = t.strings("set_parameters")) {
        p.set_parameters.clear();
        for (const auto& s : *v) {
            p.set_parameters.push_back(ascii::lower(s));
        }
        p.set_parameters_source = source_of(t, "set_parameters");
    }
    t.reject_unknown_keys();
}

void read_access(TomlTable& parent, std::string_view key, std::vector<QualifiedPattern>& allow,
                 std::vector<QualifiedPattern>& deny, Source& source) {
    auto t = parent.table(key);
    if (!t) return;
    source = Source{t->file(), t->line()};
    if (t->has("allow")) allow = patterns(*t, "allow");
    if (t->has("deny")) deny = patterns(*t, "deny");
    t->reject_unknown_keys();
}

void read_relations(TomlTable& t, Policy& p) {
    read_access(t, "read", p.read_allow, p.read_deny, p.read_source);
    read_access(t, "write", p.write_allow, p.write_deny, p.write_source);
    read_access(t, "ddl", p.ddl_allow, p.ddl_deny, p.ddl_source);
    if (t.has("catalog_allow")) {
        p.catalog_allow = patterns(t, "catalog_allow");
        p.catalog_source = source_of(t, "catalog_allow");
    }
    t.reject_unknown_keys();
}

void read_columns(TomlTable& t, Policy& p) {
    if (auto v = t.strings("deny")) {
        p.column_deny.clear();
        p.columns_source = source_of(t, "deny");
        for (const auto& text : *v) {
            // "table.column" or "schema.table.column".
            auto dot = text.rfind('.');
            if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) {
                t.fail("deny", fmt::format("\"{}\": expected \"table.column\" or \"schema.table.column\"", text));
            }
            std::string error;
            auto rel = QualifiedPattern::parse(std::string_view(text).substr(0, dot), error);
            if (!rel) t.fail("deny", fmt::format("\"{}\": {}", text, error));
            ColumnPattern c{*rel, text.substr(dot + 1), text};
            ascii::lower_in_place(c.column);
            p.column_deny.push_back(std::move(c));
        }
    }
    t.reject_unknown_keys();
}

void read_functions(TomlTable& t, Policy& p) {
    if (t.has("deny")) {
        p.function_deny = patterns(t, "deny");
        p.functions_source = source_of(t, "deny");
    }
    if (t.has("allow")) p.function_allow = patterns(t, "allow");
    t.reject_unknown_keys();
}

void read_holds(TomlTable& t, Policy& p) {
    if (t.has("statements")) {
        p.holds.kinds = kinds(t, "statements");
        p.holds.kinds_source = source_of(t, "statements");
    }
    if (auto v = t.boolean("unrestricted_writes")) {
        p.holds.unrestricted_writes = *v;
        p.holds.unrestricted_writes_source = source_of(t, "unrestricted_writes");
    }
    if (auto v = t.integer("rows_over", 1, INT64_MAX)) {
        p.holds.rows_over = static_cast<uint64_t>(*v);
        p.holds.rows_over_source = source_of(t, "rows_over");
    }
    if (auto v = t.duration("timeout")) {
        if (v->count() <= 0) t.fail("timeout", "a hold needs a timeout greater than 0, e.g. \"15m\"");
        p.holds.timeout = *v;
    }
    if (auto v = t.boolean("notice")) p.holds.notice = *v;
    if (auto v = t.boolean("kind_grants_lift")) p.holds.kind_grants_lift = *v;
    t.reject_unknown_keys();
}

void read_limits(TomlTable& t, Policy& p) {
    if (auto v = t.integer("max_rows", 0, int64_t(1) << 50)) {
        p.max_rows = static_cast<uint64_t>(*v);
        p.max_rows_source = source_of(t, "max_rows");
    }
    if (auto v = t.integer("max_rows_affected", 0, int64_t(1) << 50)) {
        p.max_rows_affected = static_cast<uint64_t>(*v);
        p.max_rows_affected_source = source_of(t, "max_rows_affected");
    }
    if (auto v = t.integer(statements_per_second_key, 0, 10'000'000)) {
        p.statements_per_second = static_cast<double>(*v);
        p.rate_source = source_of(t, statements_per_second_key);
    }
    for (const auto& setting : bounded_settings()) {
        auto text = t.string_or_integer(setting.parameter);
        if (!text) continue;
        auto base = setting_base_value(setting.parameter, *text);
        if (!base) {
            t.fail(
                setting.parameter,
                fmt::format("\"{}\" is not a value PostgreSQL accepts for {} (a number with a unit such as {})", *text,
                            setting.parameter, setting.unit == SettingUnit::kilobytes ? "\"64MB\"" : "\"30s\""));
        }
        // A child policy's "no limit" lifts what it inherited.
        std::erase_if(p.setting_limits, [&](const SettingLimit& l) { return l.parameter == setting.parameter; });
        if (*base == INT64_MAX) continue;
        p.setting_limits.push_back({std::string(setting.parameter), *text, *base, source_of(t, setting.parameter)});
    }
    // Documentation order, whatever was inherited.
    std::stable_sort(p.setting_limits.begin(), p.setting_limits.end(),
                     [](const SettingLimit& a, const SettingLimit& b) {
                         return find_bounded_setting(a.parameter) < find_bounded_setting(b.parameter);
                     });
    t.reject_unknown_keys();
}

void read_audit(TomlTable& t, Policy& p) {
    if (auto v = t.boolean("raw_statement")) p.audit_raw_statement = *v;
    if (auto v = t.boolean("parameters")) p.audit_parameters = *v;
    t.reject_unknown_keys();
}

struct ParsedFile {
    std::string path;
    std::string content;
    toml::table doc;
    std::string name;
    std::string extends;
    int line = 0;
};

Policy compile(ParsedFile& f, const Policy* parent) {
    Policy p = parent ? *parent : Policy{};
    TomlTable root(f.doc, f.path);
    auto head = root.table("policy");
    p.name = f.name;
    p.source = Source{f.path, head->line()};
    p.is_default = false;  // never inherited
    p.priority = 0;
    if (auto v = head->boolean("default")) p.is_default = *v;
    if (auto v = head->string("mode")) {
        if (*v == "enforce")
            p.mode = Mode::enforce;
        else if (*v == "monitor")
            p.mode = Mode::monitor;
        else
            head->fail("mode", "expected enforce or monitor");
    }
    if (auto v = head->integer("priority", -1000, 1000)) p.priority = static_cast<int>(*v);
    if (auto v = head->boolean("read_only")) {
        p.read_only = *v;
        p.read_only_source = source_of(*head, "read_only");
    }
    head->string("name");
    head->string("extends");
    head->string("description");
    head->reject_unknown_keys();
    if (parent) p.applies_to = {};  // who a policy is for is never inherited
    if (auto t = root.table("applies_to")) read_applies_to(*t, p);
    if (auto t = root.table("parameters")) read_parameters(*t, p);
    if (auto t = root.table("signatures")) read_signatures(*t, p);
    if (auto t = root.table("statements")) read_statements(*t, p);
    if (auto t = root.table("relations")) read_relations(*t, p);
    if (auto t = root.table("columns")) read_columns(*t, p);
    if (auto t = root.table("functions")) read_functions(*t, p);
    if (auto t = root.table("limits")) read_limits(*t, p);
    if (auto t = root.table("holds")) read_holds(*t, p);
    if (auto t = root.table("audit")) read_audit(*t, p);
    root.reject_unknown_keys();
    if (p.parameter_mode == ParameterMode::shapes && (!p.shape_lock || p.shape_files.empty())) {
        throw ConfigError(
            p.parameters_source.file, p.parameters_source.line, 1,
            "mode = \"shapes\" needs the lock files: shapes = [\"shapes/drivers.toml\", \"shapes/<app>.toml\"]");
    }
    if (!p.is_default && p.applies_to.empty()) {
        head->fail_here("a policy that is not the default needs an [applies_to] table saying who it is for");
    }
    return p;
}

ParsedFile parse_file(const std::string& path) {
    ParsedFile f;
    f.path = path;
    f.content = read_file(path);
    f.doc = parse_toml(f.content, path);
    TomlTable root(f.doc, path);
    auto head = root.table("policy");
    if (!head) throw ConfigError(path, 1, 1, "a policy file starts with a [policy] table");
    f.name = head->string("name").value_or(fs::path(path).stem().string());
    f.extends = head->string("extends").value_or("");
    f.line = head->line();
    return f;
}

// The shape lock files count as part of the policy: a change to one is a new version.
std::string version_of(const std::vector<ParsedFile>& files, const std::set<std::string>& locks, uint64_t& number) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
    for (const auto& f : files) {
        std::string name = fs::path(f.path).filename().string();
        EVP_DigestUpdate(ctx, name.data(), name.size() + 1);
        EVP_DigestUpdate(ctx, f.content.data(), f.content.size());
    }
    for (const auto& path : locks) {
        std::string content = read_file(path);
        EVP_DigestUpdate(ctx, path.data(), path.size() + 1);
        EVP_DigestUpdate(ctx, content.data(), content.size());
    }
    unsigned char digest[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, digest, &len);
    EVP_MD_CTX_free(ctx);
    number = 0;
    for (int i = 0; i < 8; ++i) number = (number << 8) | digest[i];
    std::string hex;
    for (int i = 0; i < 6; ++i) hex += fmt::format("{:02x}", digest[i]);
    return hex;
}

}  // namespace

bool AppliesTo::empty() const {
    return apps.empty() && targets.empty() && application_names.empty() && client_addresses.empty() && kinds.empty();
}

bool Policy::applies(const SessionFacts& s) const {
    if (applies_to.empty()) return false;
    auto any_glob = [](const std::vector<std::string>& globs, const std::string& v) {
        return globs.empty() ||
               std::any_of(globs.begin(), globs.end(), [&](const std::string& g) { return glob_match(g, v); });
    };
    if (!any_glob(applies_to.apps, s.app) || !any_glob(applies_to.targets, s.target) ||
        !any_glob(applies_to.application_names, s.application_name) || !any_glob(applies_to.kinds, s.kind)) {
        return false;
    }
    if (!applies_to.client_addresses.empty() &&
        std::none_of(applies_to.client_addresses.begin(), applies_to.client_addresses.end(),
                     [&](const Cidr& c) { return c.contains(s.client_address); })) {
        return false;
    }
    return true;
}

const SettingLimit* Policy::setting_limit(std::string_view parameter) const {
    for (const auto& l : setting_limits)
        if (l.parameter == parameter) return &l;
    return nullptr;
}

std::shared_ptr<const Policy> PolicySet::select(const SessionFacts& s) const {
    for (const auto& p : policies)
        if (!p->is_default && p->applies(s)) return p;
    return default_policy;
}

std::vector<std::string> policy_files_in(const std::string& dir) {
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (e.is_regular_file() && e.path().extension() == ".toml") files.push_back(e.path().string());
    }
    if (ec) throw ConfigError(dir, 0, 0, "cannot read policy directory: " + ec.message());
    std::sort(files.begin(), files.end());
    return files;
}

PolicySet load_policy_files(const std::vector<std::string>& paths) {
    if (paths.empty()) throw ConfigError("policies", 0, 0, "no policy files found");
    std::vector<ParsedFile> files;
    files.reserve(paths.size());
    for (const auto& p : paths) files.push_back(parse_file(p));
    std::map<std::string, size_t> by_name;
    for (size_t i = 0; i < files.size(); ++i) {
        auto [it, fresh] = by_name.emplace(files[i].name, i);
        if (!fresh) {
            throw ConfigError(
                files[i].path, files[i].line, 1,
                fmt::format("a policy named \"{}\" is already defined in {}", files[i].name, files[it->second].path));
        }
    }
    // Compile parents before children; a chain longer than the file count is a cycle.
    std::map<std::string, Policy> compiled;
    std::function<const Policy&(size_t, int)> build = [&](size_t i, int depth) -> const Policy& {
        auto& f = files[i];
        if (auto it = compiled.find(f.name); it != compiled.end()) return it->second;
        if (depth > static_cast<int>(files.size())) {
            throw ConfigError(f.path, f.line, 1, fmt::format("policy \"{}\" extends itself through a cycle", f.name));
        }
        const Policy* parent = nullptr;
        if (!f.extends.empty()) {
            auto pit = by_name.find(f.extends);
            if (pit == by_name.end()) {
                throw ConfigError(f.path, f.line, 1, fmt::format("extends \"{}\": no policy has that name", f.extends));
            }
            parent = &build(pit->second, depth + 1);
        }
        return compiled.emplace(f.name, compile(f, parent)).first->second;
    };
    for (size_t i = 0; i < files.size(); ++i) build(i, 0);

    PolicySet set;
    for (auto& f : files) {
        set.files.push_back(f.path);
        auto p = std::make_shared<const Policy>(compiled.at(f.name));
        if (p->is_default) {
            if (set.default_policy) {
                throw ConfigError(f.path, f.line, 1,
                                  fmt::format("policy \"{}\" and policy \"{}\" are both marked default = true",
                                              set.default_policy->name, p->name));
            }
            set.default_policy = p;
        }
        set.policies.push_back(std::move(p));
    }
    if (!set.default_policy) {
        throw ConfigError(files.front().path, 0, 0,
                          "no policy is marked default = true: apps no policy names would have none "
                          "(the shipped baseline.toml is the default)");
    }
    std::stable_sort(set.policies.begin(), set.policies.end(),
                     [](const auto& a, const auto& b) { return a->priority > b->priority; });
    std::set<std::string> locks;
    for (const auto& p : set.policies) locks.insert(p->shape_files.begin(), p->shape_files.end());
    set.files.insert(set.files.end(), locks.begin(), locks.end());
    set.version = version_of(files, locks, set.version_number);
    return set;
}

// Subdirectories count too: shape lock files live in policies/shapes/.
std::string policy_files_stamp(const std::string& dir) {
    std::string stamp;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        const auto& e = *it;
        if (e.path().extension() != ".toml") continue;
        auto size = e.file_size(ec);
        auto mtime = e.last_write_time(ec).time_since_epoch().count();
        stamp += fmt::format("{}:{}:{};", e.path().lexically_relative(dir).string(), size, mtime);
    }
    return stamp;
}

PolicySet load_policy_dir(const std::string& dir) {
    return load_policy_files(policy_files_in(dir));
}

std::vector<ConfigError> check_policy_files(const std::vector<std::string>& paths) {
    std::vector<ConfigError> errors;
    std::vector<std::string> good;
    for (const auto& p : paths) {
        try {
            parse_file(p);
            good.push_back(p);
        } catch (const ConfigError& e) {
            errors.push_back(e);
        }
    }
    if (errors.empty()) {
        try {
            load_policy_files(good);
        } catch (const ConfigError& e) {
            errors.push_back(e);
        }
    }
    return errors;
}

}  // namespace pgmoat::policy
