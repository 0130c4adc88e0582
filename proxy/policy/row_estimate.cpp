// Holds by row estimate: the plan's ModifyTable nodes name what they change and
// sit above the rows they will change ("Outer" child); InitPlans and SubPlans
// (a WITH's own ModifyTable) are nodes of their own in the same tree.
#include "pgmoat/policy/row_estimate.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>

namespace pgmoat::policy {

namespace {

using sql::StatementKind;

bool changes_rows(StatementKind k) {
    return k == StatementKind::update || k == StatementKind::delete_ || k == StatementKind::merge;
}

// Adds the rows under each updating ModifyTable of `node`'s tree to `rows`;
// false when the tree is not a plan as PostgreSQL writes it.
bool add_changed_rows(simdjson::dom::element node, double& rows, int& tables, int depth) {
    if (depth > 200) return false;
    simdjson::dom::object plan;
    if (node.get_object().get(plan)) return false;
    std::string_view type;
    if (plan["Node Type"].get_string().get(type)) return false;
    simdjson::dom::array children;
    bool has_children = !plan["Plans"].get_array().get(children);
    if (type == "ModifyTable") {
        std::string_view operation;
        if (plan["Operation"].get_string().get(operation)) return false;
        if (operation == "Update" || operation == "Delete" || operation == "Merge") {
            ++tables;
            bool found = false;
            if (has_children) {
                for (auto child : children) {
                    std::string_view relationship;
                    if (child["Parent Relationship"].get_string().get(relationship) || relationship != "Outer")
                        continue;
                    double r = 0;
                    if (child["Plan Rows"].get_double().get(r)) {
                        int64_t i = 0;
                        if (child["Plan Rows"].get_int64().get(i)) return false;
                        r = static_cast<double>(i);
                    }
                    rows += r;
                    found = true;
                }
            }
            if (!found) return false;
        }
    }
    if (has_children) {
        for (auto child : children)
            if (!add_changed_rows(child, rows, tables, depth + 1)) return false;
    }
    return true;
}

std::string rows_text(double rows) {
    return fmt::format("{:.0f}", std::round(rows));
}

}  // namespace

std::variant<double, std::string> planned_changed_rows(std::string_view explain_json) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(explain_json);
    simdjson::dom::element doc;
    if (parser.parse(padded).get(doc)) return std::string("the server's plan is not valid JSON");
    simdjson::dom::array plans;
    if (doc.get_array().get(plans)) return std::string("the server's plan is not a JSON array");
    double rows = 0;
    int tables = 0;
    size_t count = 0;
    for (auto entry : plans) {
        ++count;
        simdjson::dom::element plan;
        if (entry["Plan"].get(plan) || !add_changed_rows(plan, rows, tables, 0))
            return std::string("the server's plan does not say which rows it changes");
    }
    if (count == 0 || tables == 0) return std::string("the server's plan changes no table (a rule or a view?)");
    return rows;
}

int rows_over_statement(const Policy& p, const sql::Analysis& a) {
    if (p.holds.rows_over == 0 || p.mode != Mode::enforce || !a.ok()) return -1;
    for (size_t i = 0; i < a.statements.size(); ++i) {
        const auto& st = a.statements[i];
        if (changes_rows(st.kind)) return static_cast<int>(i);
        for (const auto& w : st.writes)
            if (changes_rows(w.kind) && !w.row_lock) return static_cast<int>(i);
    }
    return -1;
}

std::optional<HoldReason> rows_hold_reason(const Policy& p, const sql::Analysis& a, int index,
                                           const std::variant<double, std::string>& estimate) {
    const auto& st = a.statements.at(static_cast<size_t>(index));
    auto what = changes_rows(st.kind) ? sql::name(st.kind) : std::string_view("statement");
    if (const auto* rows = std::get_if<double>(&estimate)) {
        if (*rows <= static_cast<double>(p.holds.rows_over)) return std::nullopt;
        return HoldReason{Rule::hold_rows, p.holds.rows_over_source, index,
                          fmt::format("{} is estimated to change {} rows, over rows_over = {} of policy \"{}\"", what,
                                      rows_text(*rows), p.holds.rows_over, p.name)};
    }
    return HoldReason{Rule::hold_rows, p.holds.rows_over_source, index,
                      fmt::format("{} has no row estimate to check against rows_over = {} of policy \"{}\" ({}); it "
                                  "is held, to be safe",
                                  what, p.holds.rows_over, p.name, std::get<std::string>(estimate))};
}

}  // namespace pgmoat::policy
