// The most recent rejections of all sessions, for the admin console's SHOW
// REJECTIONS: a small ring shared by every session (the audit log has them all).
#pragma once

#include "pgmoat/session/admin_console.h"

#include <deque>
#include <mutex>
#include <vector>

namespace pgmoat::session {

class RejectionLog {
  public:
    explicit RejectionLog(size_t capacity = 100) : capacity_(capacity) {}
    void add(RejectionRow row);
    std::vector<RejectionRow> recent() const;  // newest first

  private:
    size_t capacity_;
    mutable std::mutex mutex_;
    std::deque<RejectionRow> rows_;
};

}  // namespace pgmoat::session
