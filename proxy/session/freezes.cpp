// Production freeze per target: whether a target is frozen now, and which
// statements a freeze refuses.
#include "pgmoat/session/freezes.h"

#include <fmt/format.h>

namespace pgmoat::session {

using sql::StatementKind;

std::optional<std::string> freeze_reason(const config::Target& target, const std::string& config_file,
                                         std::chrono::system_clock::time_point now) {
    if (target.freeze) return fmt::format("freeze = true ({}:{})", config_file, target.freeze_line);
    for (const auto& w : target.freeze_windows)
        if (now >= w.from && now < w.until) return fmt::format("the freeze window {}", w.text);
    return std::nullopt;
}

bool changes_database(const sql::Statement& st) {
    switch (sql::category(st.kind)) {
        case sql::StatementCategory::dml:
        case sql::StatementCategory::ddl:
        case sql::StatementCategory::dcl:
            return true;
        default:
            break;
    }
    switch (st.kind) {
        case StatementKind::do_:
        case StatementKind::call:
        case StatementKind::execute:  // a prepared statement pgmoat cannot see from here
        case StatementKind::vacuum:
        case StatementKind::analyze:
        case StatementKind::cluster:
        case StatementKind::reindex:
        case StatementKind::alter_system:
        case StatementKind::prepare_transaction:
        case StatementKind::commit_prepared:
            return true;
        default:
            break;
    }
    if (st.copy && st.copy->direction == sql::CopyDirection::from) return true;
    if (st.explain_analyze && !st.writes.empty()) return true;
    // Writes anywhere in it: data-modifying WITH, SELECT INTO, nextval/setval, row locks.
    for (const auto& r : st.relations)
        if (r.access.writes() || r.access.has(sql::Access::ddl)) return true;
    for (const auto& w : st.writes)
        if (!w.row_lock) return true;
    return false;
}

void TargetFreezes::set(std::shared_ptr<const config::Config> config) {
    bool any = false;
    for (const auto& [name, t] : config->targets) any = any || t.freeze || !t.freeze_windows.empty();
    std::lock_guard lock(mutex_);
    config_ = std::move(config);
    any_.store(any, std::memory_order_release);
}

bool TargetFreezes::holds_writes(std::string_view target) const {
    std::lock_guard lock(mutex_);
    const config::Target* t = config_ ? config_->find_target(target) : nullptr;
    return t && t->freeze_holds;
}

TargetFreezes::ProductionMode TargetFreezes::production(std::string_view target, std::string_view kind) const {
    if (kind != "agent" && kind != "person") return {};
    std::lock_guard lock(mutex_);
    const config::Target* t = config_ ? config_->find_target(target) : nullptr;
    if (!t || t->production == config::Target::Production::off) return {};
    return {t->production, fmt::format("{}:{}", config_->file, t->production_line)};
}

std::optional<std::string> TargetFreezes::frozen(std::string_view target,
                                                 std::chrono::system_clock::time_point now) const {
    if (!any_.load(std::memory_order_acquire)) return std::nullopt;
    std::lock_guard lock(mutex_);
    const config::Target* t = config_ ? config_->find_target(target) : nullptr;
    if (!t) return std::nullopt;
    return freeze_reason(*t, config_->file, now);
}

}  // namespace pgmoat::session
