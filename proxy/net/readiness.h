// /readyz: pgmoat is ready when its policies are loaded and every configured
// target answers. Targets are probed in the background (a TCP connect each
// interval) so the endpoint only reads cached state.
#pragma once

#include "asio.h"
#include "runtime.h"

#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace pgmoat::net {

class Readiness {
  public:
    // Registers pgmoat_target_up, computed from the latest probes at scrape time
    // (so a target removed by a reload disappears from it).
    explicit Readiness(Runtime& runtime);
    // Probes every configured target each interval, concurrently, until the
    // runtime drains.
    awaitable<void> probe_forever();
    std::pair<bool, std::string> ready() const;
    // Per configured target: "" when the last probe reached it, else why not;
    // a target not probed yet is missing.
    std::map<std::string, std::string> statuses() const {
        std::lock_guard lock(mutex_);
        return status_;
    }

  private:
    awaitable<void> probe(config::Target target);
    Runtime& runtime_;
    mutable std::mutex mutex_;
    std::map<std::string, std::string> status_;  // configured target -> "" when up, else why not
};

}  // namespace pgmoat::net
