// One JSON object per event: everything an approver needs to decide without
// opening the console (who, what, where, why, until when) and the commands that
// decide it.
#include "pgmoat/session/approval_webhook.h"

#include "pgmoat/audit/json.h"
#include "pgmoat/common/json_writer.h"

#include <algorithm>

namespace pgmoat::session {

std::string approval_webhook_body(const ApprovalEvent& event, std::chrono::system_clock::time_point now,
                                  std::chrono::steady_clock::time_point steady_now) {
    const auto& e = event.entry;
    auto id = std::to_string(e.id);
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.key("event").value(event.outcome ? "approval_ended" : "approval_pending");
    w.key("approval").value(static_cast<int64_t>(e.id));
    if (event.outcome) {
        w.key("outcome").value(name(*event.outcome));
        if (!event.by.empty()) w.key("by").value(event.by);
        if (!event.reason.empty()) w.key("reason").value(event.reason);
    }
    w.key("app").value(e.app);
    w.key("kind").value(e.kind);
    w.key("target").value(e.target);
    w.key("session").value(static_cast<int64_t>(e.session));
    w.key("rule").value(e.rule);
    w.key("policy").value(e.policy);
    w.key("statement").value(e.statement);
    w.key("why").value(e.why);
    w.key("held_at").value(e.held_at);
    if (!event.outcome) {
        auto left = std::max(e.deadline - steady_now, std::chrono::steady_clock::duration::zero());
        std::string deadline;
        audit::json::append_time(deadline, now + std::chrono::duration_cast<std::chrono::system_clock::duration>(left));
        w.key("deadline").value(deadline);
        w.key("seconds_left")
            .value(static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(left).count()));
        w.key("approve").value("pgmoat approve " + id);
        w.key("deny").value("pgmoat deny " + id + " --reason TEXT");
        w.key("console").value("APPROVE " + id + " / DENY " + id + " [reason] on the admin console (database pgmoat)");
    }
    w.end_object();
    out += '\n';
    return out;
}

}  // namespace pgmoat::session
