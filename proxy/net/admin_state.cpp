#include "admin_state.h"

#include "pgmoat/common/sqlstate.h"

#include <fmt/format.h>

#include <map>

namespace pgmoat::net {

std::vector<session::TargetRow> RuntimeAdmin::targets() const {
    auto snapshot = runtime_.current();
    auto probes = readiness_.statuses();
    std::map<std::string, uint64_t, std::less<>> sessions;
    for (const auto& s : runtime_.directory.list()) ++sessions[s.target];
    std::vector<session::TargetRow> rows;
    for (const auto& [name, t] : snapshot->config->targets) {
        session::TargetRow row;
        row.name = name;
        row.host = t.host;
        row.port = t.port;
        row.database = t.database;
        auto probe = probes.find(name);
        row.health = probe == probes.end() ? "not probed yet" : probe->second.empty() ? "up" : "down: " + probe->second;
        row.paused = runtime_.pauses.paused(name);
        row.sessions = sessions[name];
        rows.push_back(std::move(row));
    }
    return rows;
}

std::vector<session::PolicyRow> RuntimeAdmin::policies() const {
    auto snapshot = runtime_.current();
    std::vector<session::PolicyRow> rows;
    for (const auto& p : snapshot->policies->policies) {
        rows.push_back({p->name, p->mode == policy::Mode::monitor ? "monitor" : "enforce", p->source.file, p->priority,
                        p->is_default});
    }
    return rows;
}

// The exposition /metrics serves, one row per sample; histogram buckets are left
// to Prometheus (their _sum and _count stay).
std::vector<session::CounterRow> RuntimeAdmin::counters() const {
    std::vector<session::CounterRow> rows;
    std::string text = runtime_.registry.render();
    std::string_view rest = text;
    while (!rest.empty()) {
        size_t end = rest.find('\n');
        std::string_view line = rest.substr(0, end);
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
        if (line.empty() || line.front() == '#') continue;
        size_t value_at = line.rfind(' ');
        if (value_at == std::string_view::npos) continue;
        std::string_view series = line.substr(0, value_at);
        session::CounterRow row;
        size_t brace = series.find('{');
        row.metric = std::string(series.substr(0, brace));
        if (row.metric.ends_with("_bucket")) continue;
        if (brace != std::string_view::npos && series.back() == '}')
            row.labels = std::string(series.substr(brace + 1, series.size() - brace - 2));
        row.value = std::string(line.substr(value_at + 1));
        rows.push_back(std::move(row));
    }
    return rows;
}

bool RuntimeAdmin::set_paused(std::string_view target, bool paused) {
    // A target a reload removed while paused can still be resumed.
    if (!runtime_.current()->config->find_target(target) && (paused || !runtime_.pauses.paused(target))) return false;
    runtime_.pauses.set(target, paused);
    if (!paused)
        for (auto& c : connections_.all()) c->post_resume();
    return true;
}

bool RuntimeAdmin::kill(uint64_t session, std::string_view by) {
    bool listed = false;
    for (const auto& s : runtime_.directory.list()) listed |= s.id == session;
    auto c = listed ? connections_.find(session) : nullptr;
    if (!c) return false;
    c->post_kill(std::string(by));
    return true;
}

// The file written as the CLI writes it, then read back by a reload (which audits
// each grant added or removed) so the change is in force when the command completes.
session::AdminState::GrantChange RuntimeAdmin::add_grant(policy::Grant g, std::chrono::seconds length) {
    auto config = runtime_.current()->config;
    if (!config->find_app(g.app))
        return {sqlstate::undefined_object,
                fmt::format("no app named \"{}\"", g.app),
                "the apps are the [apps.NAME] tables of the configuration",
                {},
                {}};
    if (g.target != "*" && !config->find_target(g.target))
        return {sqlstate::undefined_object,
                fmt::format("no target named \"{}\"", g.target),
                "SHOW TARGETS lists them; * is every target",
                {},
                {}};
    GrantChange done;
    try {
        done.grant = policy::add_grant(config->policies.grants, std::move(g), length);
    } catch (const std::exception& e) {
        return {sqlstate::io_error, e.what(), "check the grants file's directory (permissions, disk space)", {}, {}};
    }
    if (auto error = reload_(); !error.empty())
        done.warning = "the grant is in the grants file but not in force: the configuration reload failed: " + error;
    return done;
}

session::AdminState::GrantChange RuntimeAdmin::remove_grant(std::string_view id) {
    auto path = runtime_.current()->config->policies.grants;
    GrantChange done;
    for (const auto& g : runtime_.grants.all())
        if (g.id == id) done.grant = g;
    try {
        if (!policy::remove_grant(path, id))
            return {sqlstate::undefined_object,
                    fmt::format("no grant {} in the grants file", id),
                    "SHOW GRANTS lists them",
                    {},
                    {}};
    } catch (const std::exception& e) {
        return {sqlstate::io_error, e.what(), "check the grants file's directory (permissions, disk space)", {}, {}};
    }
    if (done.grant.id.empty()) done.grant.id = std::string(id);
    if (auto error = reload_(); !error.empty())
        done.warning =
            "the grant is gone from the grants file but still in force: the configuration reload failed: " + error;
    return done;
}

void RuntimeAdmin::approval_decided(const session::PendingApproval& entry, bool approved, std::string_view by,
                                    std::string_view reason) {
    // A session that is gone withdrew nothing (the decision took the entry
    // first): its disconnect is already in the audit log.
    if (auto c = connections_.find(entry.session))
        c->post_approval(entry.id, approved, std::string(by), std::string(reason));
}

}  // namespace pgmoat::net
