// Judging one analyzed text against one policy: allow, or reject with the error a
// developer (or an AI coding agent) can fix the code from. Pure and
// deterministic: same policy, same analysis, same decision.
#pragma once

#include "pgmoat/policy/policy.h"
#include "pgmoat/policy/rule.h"
#include "pgmoat/sql/analysis.h"

#include <string>
#include <string_view>

namespace pgmoat::policy {

// How the text reached pgmoat: several statements are only possible in a simple
// Query; a Parse holds at most one.
enum class Protocol { simple_query, extended };

struct Decision {
    bool allow = true;
    // Monitor mode: allowed, but it would have been rejected under enforce.
    bool would_reject = false;
    // The rule that decided (Rule::none when allowed by every rule), its policy
    // and where it is written.
    Rule rule = Rule::none;
    std::string policy;
    Source source;
    int statement = -1;  // index of the offending statement

    // The ErrorResponse for a rejection.
    std::string sqlstate;
    std::string message;  // starts with "pgmoat: "
    std::string detail;
    std::string hint;
    int position = 0;  // 1-based character position in the text, 0: none

    bool rejected() const { return !allow || would_reject; }
};

Decision decide(const Policy& policy, const sql::Analysis& analysis, std::string_view sql, Protocol protocol);

}  // namespace pgmoat::policy
