// Who is connected now, for the admin console's SHOW SESSIONS, and the targets an
// operator has paused (PAUSE/RESUME). Shared by every connection on every thread;
// a connection touches its own entry only when its state changes, under a lock of
// its own, so sessions do not contend with each other.
#pragma once

#include "pgmoat/session/admin_console.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace pgmoat::session {

class SessionDirectory {
  public:
    // One session's line, kept up to date by its connection.
    class Entry {
      public:
        explicit Entry(SessionRow row) : row_(std::move(row)) {}
        void set_state(std::string_view state, std::string_view statement_kind);
        SessionRow row() const;

      private:
        mutable std::mutex mutex_;
        SessionRow row_;
    };

    // Listed until remove(row.id).
    std::shared_ptr<Entry> add(SessionRow row);
    void remove(uint64_t id);
    std::vector<SessionRow> list() const;  // by session id

  private:
    mutable std::mutex mutex_;
    std::map<uint64_t, std::shared_ptr<Entry>> entries_;
};

// PAUSE: new statements of a paused target's sessions wait at their next
// statement boundary until RESUME.
class TargetPauses {
  public:
    void set(std::string_view target, bool paused);
    bool paused(std::string_view target) const {
        // Read at every statement boundary: nothing paused costs one load.
        return any_.load(std::memory_order_acquire) && lookup(target);
    }

  private:
    bool lookup(std::string_view target) const;
    std::atomic<bool> any_{false};
    mutable std::mutex mutex_;
    std::set<std::string, std::less<>> targets_;
};

}  // namespace pgmoat::session
