// Names for the analysis vocabulary (stable: they appear in policy files and
// audit records) and small helpers on the result types.
#include "pgmoat/sql/analysis.h"

#include <fmt/format.h>

namespace pgmoat::sql {

bool AccessSet::writes() const {
    return has(Access::insert) || has(Access::update) || has(Access::delete_) || has(Access::truncate);
}

std::string_view name(Access a) {
    switch (a) {
        case Access::read:
            return "read";
        case Access::insert:
            return "insert";
        case Access::update:
            return "update";
        case Access::delete_:
            return "delete";
        case Access::truncate:
            return "truncate";
        case Access::ddl:
            return "ddl";
        case Access::lock:
            return "lock";
    }
    return "unknown";
}

std::string access_names(AccessSet set) {
    std::string out;
    for (Access a :
         {Access::read, Access::insert, Access::update, Access::delete_, Access::truncate, Access::ddl, Access::lock}) {
        if (!set.has(a)) continue;
        if (!out.empty()) out += ',';
        out += name(a);
    }
    return out;
}

namespace {
std::string dotted(const std::string& catalog, const std::string& schema, const std::string& name) {
    std::string out;
    if (!catalog.empty()) out += catalog + '.';
    if (!schema.empty()) out += schema + '.';
    out += name;
    return out;
}
}  // namespace

std::string Relation::qualified_name() const {
    return dotted(catalog, schema, name);
}
bool Relation::system_catalog() const {
    if (schema == "pg_catalog" || schema == "information_schema" || schema == "pg_toast") return true;
    return schema.empty() && name.rfind("pg_", 0) == 0;
}
std::string FunctionCall::qualified_name() const {
    return dotted(catalog, schema, name);
}

std::string_view Literal::text(std::string_view sql) const {
    if (offset < 0 || static_cast<size_t>(offset) > sql.size()) return {};
    return sql.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
}

bool Statement::is_write() const {
    switch (category(kind)) {
        case StatementCategory::dml:
        case StatementCategory::ddl:
        case StatementCategory::dcl:
            return true;
        default:
            break;
    }
    for (const Relation& r : relations)
        if (r.access.writes() || r.access.has(Access::ddl)) return true;
    return false;
}

std::string_view name(AnalysisStatus s) {
    switch (s) {
        case AnalysisStatus::ok:
            return "ok";
        case AnalysisStatus::unparseable:
            return "unparseable";
        case AnalysisStatus::too_large:
            return "too_large";
        case AnalysisStatus::too_deep:
            return "too_deep";
        case AnalysisStatus::session_settings:
            return "session_settings";
    }
    return "unknown";
}

std::string Analysis::normalized() const {
    std::string out;
    for (const Statement& s : statements) {
        if (!out.empty()) out += "; ";
        out += s.normalized;
    }
    return out;
}

size_t Analysis::approximate_bytes() const {
    auto str = [](const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; };
    size_t bytes = sizeof(Analysis) + str(error) + str(error_sqlstate);
    for (const Comment& c : comments) bytes += sizeof(Comment) + str(c.text);
    for (const Statement& s : statements) {
        bytes += sizeof(Statement) + str(s.object_type) + str(s.parameter) + str(s.name) + str(s.normalized);
        for (const Relation& r : s.relations) bytes += sizeof(Relation) + str(r.catalog) + str(r.schema) + str(r.name);
        for (const Column& c : s.columns)
            bytes += sizeof(Column) + str(c.name) + c.candidates.capacity() * sizeof(uint32_t);
        for (const FunctionCall& f : s.functions) {
            bytes += sizeof(FunctionCall) + str(f.catalog) + str(f.schema) + str(f.name) +
                     f.arguments.capacity() * sizeof(Argument);
            for (const Argument& a : f.arguments) bytes += str(a.name);
        }
        bytes += s.literals.capacity() * sizeof(Literal);
        for (const Literal& l : s.literals) bytes += str(l.compared_to) + str(l.cast_type) + str(l.value);
        bytes += s.tautologies.capacity() * sizeof(Tautology);
        bytes += s.writes.capacity() * sizeof(Write);
        bytes += s.set_operation_arms.capacity() * sizeof(SetOperationArm);
        for (const ConvertedQuery& q : s.converted_queries) {
            bytes += sizeof(ConvertedQuery) + q.conversions.capacity() * sizeof(Conversion);
            for (const Conversion& c : q.conversions) bytes += str(c.name);
        }
        bytes += s.unknown_relations.capacity() * sizeof(UnknownRelation);
        for (const DynamicCode& d : s.dynamic_code) bytes += sizeof(DynamicCode) + str(d.language) + str(d.name);
        for (const std::string& u : s.unknown_nodes) bytes += sizeof(std::string) + str(u);
    }
    return bytes;
}

std::string_view name(LiteralKind k) {
    switch (k) {
        case LiteralKind::string:
            return "string";
        case LiteralKind::integer:
            return "integer";
        case LiteralKind::float_:
            return "float";
        case LiteralKind::bit_string:
            return "bit_string";
        case LiteralKind::boolean:
            return "boolean";
        case LiteralKind::null:
            return "null";
    }
    return "unknown";
}

std::string_view name(LiteralContext c) {
    switch (c) {
        case LiteralContext::comparison:
            return "comparison";
        case LiteralContext::predicate:
            return "predicate";
        case LiteralContext::values:
            return "values";
        case LiteralContext::update_set:
            return "update_set";
        case LiteralContext::limit:
            return "limit";
        case LiteralContext::order_by:
            return "order_by";
        case LiteralContext::group_by:
            return "group_by";
        case LiteralContext::select_list:
            return "select_list";
        case LiteralContext::function_argument:
            return "function_argument";
        case LiteralContext::type_cast:
            return "type_cast";
        case LiteralContext::type_modifier:
            return "type_modifier";
        case LiteralContext::set_value:
            return "set_value";
        case LiteralContext::ddl:
            return "ddl";
        case LiteralContext::utility:
            return "utility";
        case LiteralContext::function_option:
            return "function_option";
        case LiteralContext::constant_condition:
            return "constant_condition";
        case LiteralContext::pattern_wildcard:
            return "pattern_wildcard";
        case LiteralContext::catalog_lookup:
            return "catalog_lookup";
        case LiteralContext::other:
            return "other";
    }
    return "unknown";
}

std::string_view name(Clause c) {
    switch (c) {
        case Clause::select_list:
            return "select_list";
        case Clause::from:
            return "from";
        case Clause::where:
            return "where";
        case Clause::having:
            return "having";
        case Clause::join_on:
            return "join_on";
        case Clause::group_by:
            return "group_by";
        case Clause::order_by:
            return "order_by";
        case Clause::window:
            return "window";
        case Clause::limit:
            return "limit";
        case Clause::values:
            return "values";
        case Clause::update_set:
            return "update_set";
        case Clause::returning:
            return "returning";
        case Clause::on_conflict:
            return "on_conflict";
        case Clause::set_value:
            return "set_value";
        case Clause::ddl:
            return "ddl";
        case Clause::utility:
            return "utility";
        case Clause::other:
            return "other";
    }
    return "unknown";
}

std::string_view name(ColumnOrigin o) {
    switch (o) {
        case ColumnOrigin::relation:
            return "relation";
        case ColumnOrigin::derived:
            return "derived";
        case ColumnOrigin::uncertain:
            return "uncertain";
    }
    return "unknown";
}

std::string_view name(DynamicCodeKind k) {
    switch (k) {
        case DynamicCodeKind::do_block:
            return "do_block";
        case DynamicCodeKind::function_body:
            return "function_body";
        case DynamicCodeKind::prepare:
            return "prepare";
        case DynamicCodeKind::execute:
            return "execute";
        case DynamicCodeKind::rule_action:
            return "rule_action";
    }
    return "unknown";
}

std::string_view name(CopyDirection d) {
    return d == CopyDirection::from ? "from" : "to";
}

std::string_view name(CopyEndpoint e) {
    switch (e) {
        case CopyEndpoint::stdin_:
            return "stdin";
        case CopyEndpoint::stdout_:
            return "stdout";
        case CopyEndpoint::file:
            return "file";
        case CopyEndpoint::program:
            return "program";
    }
    return "unknown";
}

std::string_view name(ArgumentKind k) {
    switch (k) {
        case ArgumentKind::literal:
            return "literal";
        case ArgumentKind::parameter:
            return "parameter";
        case ArgumentKind::column:
            return "column";
        case ArgumentKind::other:
            return "other";
    }
    return "unknown";
}

std::string_view name(WritePlace p) {
    switch (p) {
        case WritePlace::statement:
            return "statement";
        case WritePlace::inner:
            return "inner";
        case WritePlace::with:
            return "with";
        case WritePlace::nested:
            return "nested";
    }
    return "unknown";
}

std::string fingerprint_hex(uint64_t fingerprint) {
    return fmt::format("{:016x}", fingerprint);
}

int32_t character_position(std::string_view sql, int32_t byte_offset) {
    if (byte_offset < 0) return 0;
    size_t end = std::min(static_cast<size_t>(byte_offset), sql.size());
    int32_t chars = 0;
    for (size_t i = 0; i < end; ++i)
        if ((static_cast<unsigned char>(sql[i]) & 0xC0) != 0x80) ++chars;
    return chars + 1;
}

}  // namespace pgmoat::sql
