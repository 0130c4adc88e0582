// Every live client connection, so shutdown and the admin console (RESUME, KILL)
// can reach them. Touched only when a connection starts or ends, never per statement.
#pragma once

#include "client_connection.h"

#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace pgmoat::net {

class ConnectionSet {
  public:
    void add(uint64_t id, std::weak_ptr<ClientConnection> c) {
        std::lock_guard lock(mutex_);
        connections_.emplace(id, std::move(c));
    }
    void remove(uint64_t id) {
        std::lock_guard lock(mutex_);
        connections_.erase(id);
    }
    std::shared_ptr<ClientConnection> find(uint64_t id) {
        std::lock_guard lock(mutex_);
        auto it = connections_.find(id);
        return it == connections_.end() ? nullptr : it->second.lock();
    }
    std::vector<std::shared_ptr<ClientConnection>> all() {
        std::lock_guard lock(mutex_);
        std::vector<std::shared_ptr<ClientConnection>> out;
        for (auto& [id, w] : connections_)
            if (auto c = w.lock()) out.push_back(std::move(c));
        return out;
    }

  private:
    std::mutex mutex_;
    std::unordered_map<uint64_t, std::weak_ptr<ClientConnection>> connections_;
};

}  // namespace pgmoat::net
