// Approval holds in the session: a statement the policy's [holds] names is not
// forwarded; it waits, with everything the client sends after it, until a person
// approves it (it then goes on exactly as an allowed statement does) or denies it,
// or the hold times out (it is then refused exactly as a rejection is, so the
// server fails the transaction or the batch up to Sync as for any error).
#include "pgmoat/audit/json.h"
#include "pgmoat/common/log.h"
#include "pgmoat/common/sqlstate.h"
#include "pgmoat/protocol/messages.h"
#include "pgmoat/session/session.h"

#include <fmt/format.h>

namespace pgmoat::session {

using namespace pgmoat::protocol;

namespace {
std::string minutes_or_seconds(std::chrono::milliseconds d) {
    auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
    if (s < 60) return fmt::format("{} s", s);
    if (s % 60 == 0) return fmt::format("{} min", s / 60);
    return fmt::format("{} min {} s", s / 60, s % 60);
}
}  // namespace

Session::DeferredStatement Session::defer(const Frame& frame, std::string_view sql, std::string_view statement_name,
                                          Origin origin, const std::shared_ptr<const sql::Analysis>& analysis,
                                          const policy::Decision& decision, Clock::time_point started) {
    return DeferredStatement{.frame = std::string(frame.bytes()),
                             .sql = std::string(sql),
                             .statement_name = std::string(statement_name),
                             .origin = origin,
                             .analysis = analysis,
                             .decision = decision,
                             .started = started};
}

bool Session::hold(const Frame& frame, std::string_view sql, std::string_view statement_name, Origin origin,
                   const std::shared_ptr<const sql::Analysis>& analysis, const policy::Decision& decision,
                   Clock::time_point started, std::optional<policy::HoldReason> reason, Outbox& out) {
    if (origin == Origin::function_call) return false;
    if (!reason) reason = policy::hold_reason(*policy_, *analysis);
    if (!reason) return false;
    auto info = make_statement(sql, analysis, decision, static_cast<size_t>(reason->statement))->audit;
    HeldStatement h{.id = 0,
                    .statement = defer(frame, sql, statement_name, origin, analysis, decision, started),
                    .reason = std::move(*reason),
                    .info = std::move(info),
                    .deadline = Clock::now() + policy_->holds.timeout};
    if (!services_.approvals) {
        // Nobody could approve it: refused rather than run unapproved.
        policy::Decision d;
        d.allow = false;
        d.policy = policy_->name;
        d.rule = h.reason.rule;
        d.source = h.reason.source;
        d.sqlstate = sqlstate::insufficient_privilege;
        d.message = fmt::format("pgmoat: {}, and this pgmoat takes no approvals", h.reason.why);
        count(d, analysis.get());
        reject(d, sql, analysis, origin, statement_name, out);
        return true;
    }
    PendingApproval p;
    p.session = services_.session_id;
    p.app = identity_.app;
    p.kind = identity_.kind;
    p.target = identity_.target;
    if (h.info && h.info->text) p.statement = *h.info->text;
    p.rule = policy::name(h.reason.rule);
    p.policy = policy_->name;
    p.why = h.reason.why;
    audit::json::append_time(p.held_at, std::chrono::system_clock::now());
    p.deadline = h.deadline;
    h.id = services_.approvals->hold(std::move(p));
    held_ = std::move(h);
    log::warning(
        "approval {} pending: app \"{}\" ({}) target \"{}\" session {}: {}; APPROVE {} or DENY {} on the "
        "admin console within {}",
        held_->id, identity_.app, identity_.kind, identity_.target, services_.session_id, held_->reason.why, held_->id,
        held_->id, minutes_or_seconds(policy_->holds.timeout));
    record_approval_step("held", {}, held_->reason.why);
    if (policy_->holds.notice) {
        ErrorFields n;
        n.severity = "NOTICE";
        n.sqlstate = sqlstate::successful_completion;
        n.message = fmt::format("pgmoat: statement held for approval {}: {}", held_->id, held_->reason.why);
        n.detail = fmt::format(
            "It runs once a person approves it (APPROVE {} on pgmoat's admin console, or pgmoat "
            "approve {}); denied, or not approved within {}, it fails.",
            held_->id, held_->id, minutes_or_seconds(policy_->holds.timeout));
        size_t before = out.to_client.size();
        write_notice_response(out.to_client, n);
        bytes_to_client_ += out.to_client.size() - before;
    }
    return true;
}

std::chrono::steady_clock::time_point Session::hold_deadline() const {
    return held_ ? held_->deadline : Clock::time_point::max();
}

// A held statement that will not run fails under the rule that held it.
policy::Decision Session::held_refusal(const HeldStatement& h) const {
    policy::Decision d = h.statement.decision;
    d.allow = false;
    d.rule = h.reason.rule;
    d.source = h.reason.source;
    d.policy = policy_->name;
    d.statement = h.reason.statement;
    return d;
}

void Session::approval_decided(bool approved, std::string_view by, std::string_view reason, Outbox& out) {
    if (!held_) return;
    // The step is recorded before the statement's own record.
    record_approval_step(name(approved ? ApprovalOutcome::approved : ApprovalOutcome::denied), by, reason);
    HeldStatement h = std::move(*held_);
    held_.reset();
    log::info("approval {} {} by \"{}\"{}", h.id, approved ? "approved" : "denied", by,
              reason.empty() ? std::string() : fmt::format(": {}", reason));
    if (!approved) {
        policy::Decision d = held_refusal(h);
        d.sqlstate = sqlstate::insufficient_privilege;
        d.message = fmt::format("pgmoat: \"{}\" denied this statement (approval {}){}", by, h.id,
                                reason.empty() ? std::string() : fmt::format(": {}", reason));
        d.detail = h.reason.why + ".";
        d.hint = "ask the approver; the statement did not run";
        count(d, h.statement.analysis.get());
        reject(d, h.statement.sql, h.statement.analysis, h.statement.origin, h.statement.statement_name, out);
        return;
    }
    auto& s = h.statement;
    auto frame = decode_message(s.frame, UINT32_MAX).frame;
    count(s.decision, s.analysis.get());
    approval_ = h.id;
    pass(&frame, s.sql, s.statement_name, s.origin, out, s.analysis, s.decision, s.started);
    approval_ = 0;
}

void Session::hold_timed_out(Outbox& out) {
    if (!held_) return;
    record_approval_step(name(ApprovalOutcome::timed_out), {}, {});
    HeldStatement h = std::move(*held_);
    held_.reset();
    log::warning("approval {} timed out: app \"{}\" target \"{}\": nobody decided within {}", h.id, identity_.app,
                 identity_.target, minutes_or_seconds(policy_->holds.timeout));
    policy::Decision d = held_refusal(h);
    d.sqlstate = sqlstate::query_canceled;  // as statement_timeout
    d.message = fmt::format("pgmoat: nobody approved this statement within {} (approval {}); it did not run",
                            minutes_or_seconds(policy_->holds.timeout), h.id);
    d.detail = h.reason.why + ".";
    d.hint = "ask a person with the admin console to approve it, then send it again";
    count(d, h.statement.analysis.get());
    reject(d, h.statement.sql, h.statement.analysis, h.statement.origin, h.statement.statement_name, out);
}

void Session::hold_abandoned(std::string_view why) {
    if (!held_) return;
    record_approval_step(name(ApprovalOutcome::abandoned), {}, why);
    log::info("approval {} abandoned: {}", held_->id, why);
    held_.reset();
}

void Session::record_approval_step(std::string_view step, std::string_view approver, std::string_view reason) {
    if (!services_.audit || !held_) return;
    audit::Record r;
    r.event = audit::Event::approval;
    r.session = audit_info_;
    r.statement = held_->info;
    r.rule = std::string(policy::name(held_->reason.rule));
    if (!held_->reason.source.file.empty()) r.policy_file = held_->reason.source.file;
    if (held_->reason.source.line > 0) r.policy_line = held_->reason.source.line;
    r.policy_version = services_.policies->version;
    r.approval = held_->id;
    r.approval_step = std::string(step);
    if (!approver.empty()) r.approver = std::string(approver);
    if (!reason.empty()) r.reason = std::string(reason);
    services_.audit->submit(std::move(r));
}

}  // namespace pgmoat::session
