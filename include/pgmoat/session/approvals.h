// The pending approvals of every session: statements an approval hold keeps from
// the server until a person approves or denies them (README "Approval holds").
// Shared by every connection on every thread and by the admin console; a session
// adds its held statement, a person decides it, and exactly one of decision,
// timeout and the session's end takes it out. No I/O: net/ tells the session.
#pragma once

#include "pgmoat/metrics/registry.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgmoat::session {

struct PendingApproval {
    uint64_t id = 0;  // set by Approvals::hold
    uint64_t session = 0;
    std::string app;   // the identity whose statement waits
    std::string kind;  // its kind in pgmoat.toml: app, agent, person
    std::string target;
    std::string statement;  // normalized text, never raw
    std::string rule;       // hold_statements, hold_unrestricted_writes
    std::string policy;
    std::string why;
    std::string held_at;  // RFC 3339
    std::chrono::steady_clock::time_point deadline;
};

// The ends of a hold, as the audit log and metrics name them.
enum class ApprovalOutcome : uint8_t { approved, denied, timed_out, abandoned };
std::string_view name(ApprovalOutcome outcome);

// What the table tells its listener: a statement newly held (no outcome), or the
// end of its hold.
struct ApprovalEvent {
    PendingApproval entry;
    std::optional<ApprovalOutcome> outcome;
    std::string by;      // approved, denied: the deciding identity
    std::string reason;  // approved, denied: the approver's words, if any
};

class Approvals {
  public:
    // registry null: not counted.
    explicit Approvals(metrics::Registry* registry = nullptr);

    // Adds a held statement; returns its id (never 0, never reused).
    uint64_t hold(PendingApproval entry);

    struct Decided {
        enum class Status : uint8_t { ok, not_found, already_decided, own_statement };
        Status status = Status::not_found;
        PendingApproval entry{};                 // ok, own_statement: the held statement
        std::optional<ApprovalOutcome> earlier;  // already_decided: how it ended
    };
    // A person's decision. `by` is the deciding identity: it may not be the one
    // whose statement waits (own_statement; the entry stays pending).
    Decided decide(uint64_t id, std::string_view by, bool approve, std::string_view reason = {});
    // The session's own end of a hold (timeout, client gone, KILL): true when the
    // entry was still pending, false when a decision already took it (and is on
    // its way to the session).
    bool withdraw(uint64_t id, ApprovalOutcome outcome);

    std::vector<PendingApproval> pending() const;  // by id

    // Called, outside the table's lock and on the thread that made the change, for
    // every hold and every end of one (the webhook). Set before any session starts;
    // it must not block.
    void set_listener(std::function<void(const ApprovalEvent&)> listener) { listener_ = std::move(listener); }

  private:
    Decided decide_locked(uint64_t id, std::string_view by, bool approve);
    void ended(uint64_t id, ApprovalOutcome outcome);
    void tell(ApprovalEvent&& event) const {
        if (listener_) listener_(event);
    }

    mutable std::mutex mutex_;
    uint64_t next_id_ = 0;
    std::map<uint64_t, PendingApproval> pending_;
    // The last few ended ones, so a late APPROVE says "already denied" rather than
    // "no such approval".
    std::deque<std::pair<uint64_t, ApprovalOutcome>> recent_;
    metrics::Gauge* pending_gauge_ = nullptr;
    metrics::Family<metrics::Counter>* outcomes_ = nullptr;
    std::function<void(const ApprovalEvent&)> listener_;
};

}  // namespace pgmoat::session
