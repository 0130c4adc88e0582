#include "admin_state.h"

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

}  // namespace pgmoat::net
