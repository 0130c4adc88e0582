// Approval holds: which statements a policy's [holds] table keeps from the server
// until a person approves them (README "Approval holds"). Pure: the session asks,
// holds and waits; this only says whether and why.
#pragma once

#include "pgmoat/policy/policy.h"
#include "pgmoat/policy/rule.h"
#include "pgmoat/sql/analysis.h"

#include <optional>
#include <string>

namespace pgmoat::policy {

struct HoldReason {
    Rule rule = Rule::none;  // hold_statements, hold_unrestricted_writes or hold_freeze
    Source source;
    int statement = 0;  // which statement of the text
    std::string why;    // for the approver: "DROP statements are held for approval"
};

// Why a statement must wait for approval; nullopt when it need not (or the
// policy holds nothing, or is in monitor mode: monitor never makes anyone wait).
std::optional<HoldReason> hold_reason(const Policy& policy, const sql::Analysis& analysis);

}  // namespace pgmoat::policy
