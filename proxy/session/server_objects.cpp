// Prepared statements and portals in the order the server confirms them. Each
// completion message answers the oldest message of its kind still pending (the
// server answers in order and skips to Sync after an error), so applying changes
// only when confirmed keeps pgmoat's record equal to the server's.
#include "pgmoat/session/server_objects.h"

#include <algorithm>

namespace pgmoat::session {

const sql::Statement* Statement::facts() const {
    if (!analysis || !analysis->ok() || index >= analysis->statements.size()) return nullptr;
    return &analysis->statements[index];
}

void ServerObjects::parse_sent(uint64_t batch, std::string name, StatementPtr statement, bool injected) {
    parses_.push_back({batch, std::move(name), std::move(statement), injected});
}

void ServerObjects::bind_sent(uint64_t batch, std::string portal, std::string statement, BindValues parameters) {
    binds_.push_back({batch, std::move(portal), std::move(statement), std::move(parameters)});
}

void ServerObjects::close_sent(uint64_t batch, char kind, std::string name, bool injected) {
    closes_.push_back({batch, kind, std::move(name), injected});
}

bool ServerObjects::parse_complete() {
    if (parses_.empty()) return false;
    auto& p = parses_.front();
    if (p.injected) {
        parses_.pop_front();
        return true;
    }
    // A Parse of an existing name fails in PostgreSQL; one that completes means
    // the name was free (perhaps freed by a DEALLOCATE pipelined just before).
    if (p.statement) prepared_[p.name] = std::move(p.statement);
    parses_.pop_front();
    return false;
}

void ServerObjects::bind_complete() {
    if (binds_.empty()) return;
    auto& b = binds_.front();
    auto it = prepared_.find(b.statement);
    portals_[b.portal] = Portal{it == prepared_.end() ? nullptr : it->second, std::move(b.parameters), false, 0};
    binds_.pop_front();
}

bool ServerObjects::close_complete() {
    if (closes_.empty()) return false;
    auto& c = closes_.front();
    if (c.injected) {
        closes_.pop_front();
        return true;
    }
    if (c.kind == 'S')
        prepared_.erase(c.name);
    else
        portals_.erase(c.name);
    closes_.pop_front();
    return false;
}

void ServerObjects::batch_failed(uint64_t batch, bool decoy_error) {
    if (decoy_error && !parses_.empty() && parses_.front().batch == batch && !parses_.front().statement &&
        parses_.front().name.empty()) {
        prepared_.erase(std::string());
    }
    auto in_batch = [batch](const auto& p) { return p.batch == batch; };
    std::erase_if(parses_, in_batch);
    std::erase_if(binds_, in_batch);
    std::erase_if(closes_, in_batch);
}

void ServerObjects::batch_done(uint64_t batch, char transaction_status) {
    auto done = [batch](const auto& p) { return p.batch <= batch; };
    std::erase_if(parses_, done);
    std::erase_if(binds_, done);
    std::erase_if(closes_, done);
    // Portals end with their transaction, except cursors declared WITH HOLD.
    if (transaction_status == 'I') std::erase_if(portals_, [](const auto& p) { return !p.second.holdable; });
}

void ServerObjects::statement_completed(const StatementPtr& completed) {
    const sql::Statement* st = completed ? completed->facts() : nullptr;
    if (!st) return;
    switch (st->kind) {
        case sql::StatementKind::declare_cursor:
            portals_[st->name] = Portal{completed, {}, st->cursor_with_hold, 0};
            break;
        case sql::StatementKind::close_cursor:
            if (st->name.empty())
                portals_.clear();  // CLOSE ALL closes protocol portals too
            else
                portals_.erase(st->name);
            break;
        case sql::StatementKind::deallocate:
            if (st->name.empty() || st->name == "all")
                prepared_.clear();
            else
                prepared_.erase(st->name);
            break;
        case sql::StatementKind::discard:
            // DISCARD PLANS only re-plans; DISCARD ALL also deallocates and closes all.
            if (st->name == "all") {
                prepared_.clear();
                portals_.clear();
            }
            break;
        default:
            break;
    }
}

const Portal* ServerObjects::portal(std::string_view name) const {
    auto it = portals_.find(std::string(name));
    return it == portals_.end() ? nullptr : &it->second;
}

void ServerObjects::count_rows(std::string_view portal, uint64_t rows) {
    if (auto it = portals_.find(std::string(portal)); it != portals_.end()) it->second.rows += rows;
}

std::optional<StatementPtr> ServerObjects::expected_portal(std::string_view name,
                                                           const std::vector<StatementPtr>& declaring) const {
    for (auto b = binds_.rbegin(); b != binds_.rend(); ++b) {
        if (b->portal != name) continue;
        for (auto p = parses_.rbegin(); p != parses_.rend(); ++p)
            if (p->name == b->statement && p->statement) return p->statement;
        auto it = prepared_.find(b->statement);
        return it == prepared_.end() ? nullptr : it->second;
    }
    for (auto d = declaring.rbegin(); d != declaring.rend(); ++d)
        if ((*d)->facts() && (*d)->facts()->name == name) return *d;
    if (auto* p = portal(name)) return p->statement;
    return std::nullopt;
}

}  // namespace pgmoat::session
