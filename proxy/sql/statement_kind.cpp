// Names and families of statement kinds, from the one table in statement_kind.h.
#include "pgmoat/sql/statement_kind.h"

#include <array>

namespace pgmoat::sql {

namespace {

struct KindInfo {
    std::string_view name;
    StatementCategory category;
};

constexpr std::array kKinds = {
#define PGMOAT_SQL_KIND_INFO(e, n, c) KindInfo{n, StatementCategory::c},
    PGMOAT_SQL_STATEMENT_KINDS(PGMOAT_SQL_KIND_INFO)
#undef PGMOAT_SQL_KIND_INFO
};

}  // namespace

std::string_view name(StatementKind kind) {
    size_t i = static_cast<size_t>(kind);
    return i < kKinds.size() ? kKinds[i].name : std::string_view("other");
}

StatementCategory category(StatementKind kind) {
    size_t i = static_cast<size_t>(kind);
    return i < kKinds.size() ? kKinds[i].category : StatementCategory::other;
}

std::string_view name(StatementCategory c) {
    switch (c) {
        case StatementCategory::query:
            return "query";
        case StatementCategory::dml:
            return "dml";
        case StatementCategory::copy:
            return "copy";
        case StatementCategory::ddl:
            return "ddl";
        case StatementCategory::dcl:
            return "dcl";
        case StatementCategory::transaction:
            return "transaction";
        case StatementCategory::session:
            return "session";
        case StatementCategory::utility:
            return "utility";
        case StatementCategory::other:
            return "other";
    }
    return "other";
}

std::optional<StatementKind> statement_kind_from_name(std::string_view n) {
    for (size_t i = 0; i < kKinds.size(); ++i)
        if (kKinds[i].name == n) return static_cast<StatementKind>(i);
    return std::nullopt;
}

}  // namespace pgmoat::sql
