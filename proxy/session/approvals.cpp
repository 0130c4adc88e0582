// The pending approvals table: one lock, a handful of entries at most; the time a
// person takes to decide dwarfs everything here.
#include "pgmoat/session/approvals.h"

#include <algorithm>

namespace pgmoat::session {

namespace {
constexpr size_t kRecentEnded = 256;
}

std::string_view name(ApprovalOutcome outcome) {
    switch (outcome) {
        case ApprovalOutcome::approved:
            return "approved";
        case ApprovalOutcome::denied:
            return "denied";
        case ApprovalOutcome::timed_out:
            return "timed_out";
        case ApprovalOutcome::abandoned:
            return "abandoned";
    }
    return "unknown";
}

Approvals::Approvals(metrics::Registry* registry) {
    if (!registry) return;
    pending_gauge_ =
        &registry->gauge("pgmoat_approvals_pending", "Statements held, waiting for a person's approval.", {})
             .labels({});
    outcomes_ = &registry->counter("pgmoat_approvals_total",
                                   "Held statements by how their hold ended: approved, denied, timed_out, abandoned "
                                   "(the session ended first).",
                                   {"outcome"});
}

uint64_t Approvals::hold(PendingApproval entry) {
    ApprovalEvent event;
    uint64_t id = 0;
    {
        std::lock_guard lock(mutex_);
        id = entry.id = ++next_id_;
        if (listener_) event.entry = entry;
        pending_.emplace(id, std::move(entry));
        if (pending_gauge_) pending_gauge_->set(static_cast<double>(pending_.size()));
    }
    tell(std::move(event));
    return id;
}

Approvals::Decided Approvals::decide(uint64_t id, std::string_view by, bool approve, std::string_view reason) {
    Decided d = decide_locked(id, by, approve);
    if (d.status == Decided::Status::ok) {
        tell(ApprovalEvent{d.entry, approve ? ApprovalOutcome::approved : ApprovalOutcome::denied, std::string(by),
                           std::string(reason)});
    }
    return d;
}

Approvals::Decided Approvals::decide_locked(uint64_t id, std::string_view by, bool approve) {
    std::lock_guard lock(mutex_);
    Decided d;
    auto it = pending_.find(id);
    if (it == pending_.end()) {
        auto r = std::find_if(recent_.begin(), recent_.end(), [&](const auto& e) { return e.first == id; });
        if (r != recent_.end()) {
            d.status = Decided::Status::already_decided;
            d.earlier = r->second;
        }
        return d;
    }
    d.entry = it->second;
    if (it->second.app == by) {
        d.status = Decided::Status::own_statement;
        return d;
    }
    d.status = Decided::Status::ok;
    pending_.erase(it);
    ended(id, approve ? ApprovalOutcome::approved : ApprovalOutcome::denied);
    return d;
}

bool Approvals::withdraw(uint64_t id, ApprovalOutcome outcome) {
    ApprovalEvent event;
    event.outcome = outcome;
    {
        std::lock_guard lock(mutex_);
        auto node = pending_.extract(id);
        if (node.empty()) return false;
        event.entry = std::move(node.mapped());
        ended(id, outcome);
    }
    tell(std::move(event));
    return true;
}

void Approvals::ended(uint64_t id, ApprovalOutcome outcome) {
    recent_.emplace_back(id, outcome);
    if (recent_.size() > kRecentEnded) recent_.pop_front();
    if (pending_gauge_) pending_gauge_->set(static_cast<double>(pending_.size()));
    if (outcomes_) outcomes_->labels({std::string(name(outcome))}).inc();
}

std::vector<PendingApproval> Approvals::pending() const {
    std::lock_guard lock(mutex_);
    std::vector<PendingApproval> out;
    for (const auto& [id, e] : pending_) out.push_back(e);
    return out;
}

}  // namespace pgmoat::session
