#include "pgmoat/session/session_directory.h"

namespace pgmoat::session {

void SessionDirectory::Entry::set_state(std::string_view state, std::string_view statement_kind) {
    std::lock_guard lock(mutex_);
    row_.state = state;
    row_.statement_kind = statement_kind;
}

SessionRow SessionDirectory::Entry::row() const {
    std::lock_guard lock(mutex_);
    return row_;
}

std::shared_ptr<SessionDirectory::Entry> SessionDirectory::add(SessionRow row) {
    uint64_t id = row.id;
    auto entry = std::make_shared<Entry>(std::move(row));
    std::lock_guard lock(mutex_);
    entries_[id] = entry;
    return entry;
}

void SessionDirectory::remove(uint64_t id) {
    std::lock_guard lock(mutex_);
    entries_.erase(id);
}

std::vector<SessionRow> SessionDirectory::list() const {
    std::vector<std::shared_ptr<Entry>> entries;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, e] : entries_) entries.push_back(e);
    }
    std::vector<SessionRow> rows;
    rows.reserve(entries.size());
    for (const auto& e : entries) rows.push_back(e->row());
    return rows;
}

void TargetPauses::set(std::string_view target, bool paused) {
    std::lock_guard lock(mutex_);
    if (paused)
        targets_.emplace(target);
    else if (auto it = targets_.find(target); it != targets_.end())
        targets_.erase(it);
    any_.store(!targets_.empty(), std::memory_order_release);
}

bool TargetPauses::lookup(std::string_view target) const {
    std::lock_guard lock(mutex_);
    return targets_.find(target) != targets_.end();
}

}  // namespace pgmoat::session
