// One pool's decisions. Clients are served in arrival order, but for a bounded
// preference for a client on the server connection's own thread; an idle server
// connection returned last is reused first (of the client's thread if one is), so
// that in a quiet hour the others reach server_idle_timeout and close.
#include "pgmoat/session/pool.h"

#include <algorithm>

namespace pgmoat::session {

bool Pool::admit_client() {
    if (settings_.max_client_connections > 0 && clients_ >= static_cast<size_t>(settings_.max_client_connections))
        return false;
    ++clients_;
    return true;
}

void Pool::client_gone() {
    if (clients_ > 0) --clients_;
}

uint64_t Pool::open(Clock::time_point now) {
    uint64_t id = ++next_server_;
    servers_.emplace(id, Server{State::opening, now});
    return id;
}

Pool::Grant Pool::lease(uint64_t client, Clock::time_point now, uint64_t home) {
    if (waiters_.empty()) {
        if (!idle_.empty()) {
            auto it =
                std::find_if(idle_.rbegin(), idle_.rend(), [&](uint64_t id) { return servers_[id].home == home; });
            auto pick = it != idle_.rend() ? std::prev(it.base()) : std::prev(idle_.end());
            uint64_t id = *pick;
            idle_.erase(pick);
            servers_[id].state = State::active;
            return {Grant::Kind::idle_server, id};
        }
        if (servers_.size() < static_cast<size_t>(settings_.pool_size)) return {Grant::Kind::open_new, open(now)};
    }
    waiters_.push_back({client, now, home});
    return {Grant::Kind::wait, 0};
}

Pool::Waiter Pool::take_waiter(uint64_t home) {
    // The first waiter of `home`; one passed over max_passes times stops the search.
    auto pick = waiters_.begin();
    for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
        if (it->home == home || it->passed >= max_passes) {
            pick = it;
            break;
        }
    }
    for (auto it = waiters_.begin(); it != pick; ++it) ++it->passed;
    Waiter w = *pick;
    waiters_.erase(pick);
    return w;
}

void Pool::opened(uint64_t server) {
    if (auto it = servers_.find(server); it != servers_.end()) it->second.state = State::active;
}

void Pool::cancel_wait(uint64_t client) {
    std::erase_if(waiters_, [client](const Waiter& w) { return w.client == client; });
}

std::optional<Pool::Handoff> Pool::next_waiter_opens(Clock::time_point now) {
    if (waiters_.empty() || servers_.size() >= static_cast<size_t>(settings_.pool_size)) return std::nullopt;
    Waiter w = waiters_.front();
    waiters_.pop_front();
    return Handoff{w.client, open(now), true, now - w.since};
}

std::optional<Pool::Handoff> Pool::release(uint64_t server, bool reusable, Clock::time_point now, bool& closes,
                                           uint64_t home) {
    auto it = servers_.find(server);
    closes = true;
    if (it == servers_.end()) return next_waiter_opens(now);
    bool aged = settings_.server_lifetime.count() > 0 && now - it->second.created >= settings_.server_lifetime;
    if (!reusable || aged) {
        servers_.erase(it);
        return next_waiter_opens(now);
    }
    closes = false;
    it->second.home = home;
    if (!waiters_.empty()) {
        Waiter w = take_waiter(home);
        it->second.state = State::active;
        return Handoff{w.client, server, false, now - w.since};
    }
    it->second.state = State::idle;
    it->second.idle_since = now;
    idle_.push_back(server);
    return std::nullopt;
}

std::optional<Pool::Handoff> Pool::closed(uint64_t server, Clock::time_point now) {
    if (servers_.erase(server) > 0) std::erase(idle_, server);
    return next_waiter_opens(now);
}

std::vector<uint64_t> Pool::top_up(Clock::time_point now) {
    std::vector<uint64_t> ids;
    if (now < no_top_up_before_) return ids;
    while (servers_.size() < static_cast<size_t>(std::min(settings_.min_pool_size, settings_.pool_size)))
        ids.push_back(open(now));
    return ids;
}

std::optional<Pool::Handoff> Pool::open_failed(uint64_t server, Clock::time_point now) {
    // A server that refuses one login refuses the next: not again at every tick.
    no_top_up_before_ = now + std::chrono::seconds(1);
    return closed(server, now);
}

Pool::Expired Pool::expire(Clock::time_point now) {
    Expired out;
    while (!waiters_.empty() && now - waiters_.front().since >= settings_.wait_timeout) {
        out.clients.push_back(waiters_.front().client);
        waiters_.pop_front();
    }
    for (auto id : idle_) {
        const Server& s = servers_[id];
        bool aged = settings_.server_lifetime.count() > 0 && now - s.created >= settings_.server_lifetime;
        bool unused = settings_.server_idle_timeout.count() > 0 &&
                      now - s.idle_since >= settings_.server_idle_timeout &&
                      servers_.size() - out.servers.size() > static_cast<size_t>(settings_.min_pool_size);
        if (aged || unused) out.servers.push_back(id);
    }
    for (auto id : out.servers) {
        servers_.erase(id);
        std::erase(idle_, id);
    }
    return out;
}

Pool::Clock::time_point Pool::next_deadline() const {
    auto at = Clock::time_point::max();
    if (!waiters_.empty()) at = waiters_.front().since + settings_.wait_timeout;
    for (auto id : idle_) {
        const Server& s = servers_.at(id);
        if (settings_.server_lifetime.count() > 0) at = std::min(at, s.created + settings_.server_lifetime);
        if (settings_.server_idle_timeout.count() > 0 && servers_.size() > static_cast<size_t>(settings_.min_pool_size))
            at = std::min(at, s.idle_since + settings_.server_idle_timeout);
    }
    return at;
}

size_t Pool::active() const {
    return static_cast<size_t>(
        std::count_if(servers_.begin(), servers_.end(), [](const auto& s) { return s.second.state == State::active; }));
}

size_t Pool::opening() const {
    return static_cast<size_t>(std::count_if(servers_.begin(), servers_.end(),
                                             [](const auto& s) { return s.second.state == State::opening; }));
}

}  // namespace pgmoat::session
