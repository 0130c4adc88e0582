// The rules a statement can break, in the order pgmoat checks them, and the one
// table of their names: the DETAIL of an error, the `rule` label of the metrics,
// the audit record's `rule` field and README's rule table all use these names.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace pgmoat::policy {

// In check order: the first rule a statement breaks decides. A test keeps
// README's table ("The rules, in the order they are checked") in this order.
enum class Rule : unsigned char {
    none,  // allowed by every rule
    // What the analyzer could not read.
    unparseable,
    too_large,
    too_deep,
    session_settings,
    // The policy's judgement of the text (policy::decide).
    stacked_statements,
    unknown_syntax,
    statement_kind,
    set_parameter,
    copy,
    catalog,
    relation,
    column,
    function,
    setting_limit,
    read_only,
    tautology,
    require_where,
    comment_truncation,
    approved_structures,
    new_shape,
    shape_constant,
    parameters,
    set_operation,
    subquery_conversion,
    // The session's own checks before and while a statement runs.
    audit_log,
    rate_limit,
    max_rows_affected,
    freeze,
    production,
    session_state,
    // Not rejections: the statement waits for a person's approval.
    hold_statements,
    hold_unrestricted_writes,
    hold_rows,
    hold_freeze,
    grant_expired,
    max_rows,
    // Messages that are not SQL text.
    function_call,
    unknown_portal,
};

inline constexpr std::array<std::string_view, static_cast<size_t>(Rule::unknown_portal) + 1> rule_names = {
    "",
    "unparseable",
    "too_large",
    "too_deep",
    "session_settings",
    "stacked_statements",
    "unknown_syntax",
    "statement_kind",
    "set_parameter",
    "copy",
    "catalog",
    "relation",
    "column",
    "function",
    "setting_limit",
    "read_only",
    "tautology",
    "require_where",
    "comment_truncation",
    "approved_structures",
    "new_shape",
    "shape_constant",
    "parameters",
    "set_operation",
    "subquery_conversion",
    "audit_log",
    "rate_limit",
    "max_rows_affected",
    "freeze",
    "production",
    "session_state",
    "hold_statements",
    "hold_unrestricted_writes",
    "hold_rows",
    "hold_freeze",
    "grant_expired",
    "max_rows",
    "function_call",
    "unknown_portal",
};

// The rule's name ("" for Rule::none); a NUL-terminated literal.
constexpr std::string_view name(Rule r) {
    return rule_names[static_cast<size_t>(r)];
}

// The rule called `text`; nullopt for a name that is no rule's (and for "").
// For reading names from files once, never for comparing rules while deciding.
constexpr std::optional<Rule> rule_named(std::string_view text) {
    for (size_t i = 1; i < rule_names.size(); ++i)
        if (rule_names[i] == text) return static_cast<Rule>(i);
    return std::nullopt;
}

}  // namespace pgmoat::policy
