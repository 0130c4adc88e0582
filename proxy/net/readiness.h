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
    explicit Readiness(Runtime& runtime) : runtime_(runtime) {}
    // Probes until the runtime drains.
    awaitable<void> probe_forever();
    std::pair<bool, std::string> ready() const;

private:
    awaitable<void> probe(const config::Target& target);
    Runtime& runtime_;
    mutable std::mutex mutex_;
    bool probed_ = false;
    std::map<std::string, std::string> down_;  // target name -> why
};

}  // namespace pgmoat::net
