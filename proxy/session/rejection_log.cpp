#include "pgmoat/session/rejection_log.h"

namespace pgmoat::session {

void RejectionLog::add(RejectionRow row) {
    std::lock_guard lock(mutex_);
    rows_.push_front(std::move(row));
    if (rows_.size() > capacity_) rows_.pop_back();
}

std::vector<RejectionRow> RejectionLog::recent() const {
    std::lock_guard lock(mutex_);
    return {rows_.begin(), rows_.end()};
}

}  // namespace pgmoat::session
