// The grants in force, behind one lock taken only when they change or a session
// re-reads its own.
#include "pgmoat/session/grant_table.h"

namespace pgmoat::session {

void GrantTable::set(std::vector<policy::Grant> grants) {
    auto fresh = std::make_shared<const std::vector<policy::Grant>>(std::move(grants));
    std::lock_guard lock(mutex_);
    grants_ = std::move(fresh);
    version_.fetch_add(1, std::memory_order_acq_rel);
}

std::vector<policy::Grant> GrantTable::applying(std::string_view app, std::string_view target,
                                                std::chrono::system_clock::time_point now) const {
    std::vector<policy::Grant> out;
    std::lock_guard lock(mutex_);
    for (const auto& g : *grants_)
        if (g.applies(app, target, now)) out.push_back(g);
    return out;
}

std::vector<policy::Grant> GrantTable::all() const {
    std::lock_guard lock(mutex_);
    return *grants_;
}

}  // namespace pgmoat::session
