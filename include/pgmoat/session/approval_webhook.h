// The JSON document pgmoat POSTs to [approvals] webhook for a statement held for
// approval and for the end of its hold (README "Approval holds"). Pure: net/
// only delivers what this builds.
#pragma once

#include "pgmoat/session/approvals.h"

#include <chrono>
#include <string>

namespace pgmoat::session {

// The body for `event`; `now` and `steady_now` turn the hold's deadline into a UTC
// time and the seconds left.
std::string approval_webhook_body(const ApprovalEvent& event, std::chrono::system_clock::time_point now,
                                  std::chrono::steady_clock::time_point steady_now);

}  // namespace pgmoat::session
