// The grants in force (policy/grants.h), shared by every session on every thread:
// replaced whole at start and at each reload; a session re-reads the ones that
// apply to it when the table changes or one of them expires.
#pragma once

#include "pgmoat/policy/grants.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace pgmoat::session {

class GrantTable {
  public:
    void set(std::vector<policy::Grant> grants);
    // Changes with every set(): nothing changed costs a session one load per statement.
    uint64_t version() const { return version_.load(std::memory_order_acquire); }
    std::vector<policy::Grant> applying(std::string_view app, std::string_view target,
                                        std::chrono::system_clock::time_point now) const;
    std::vector<policy::Grant> all() const;

  private:
    mutable std::mutex mutex_;
    std::shared_ptr<const std::vector<policy::Grant>> grants_ = std::make_shared<std::vector<policy::Grant>>();
    std::atomic<uint64_t> version_{0};
};

}  // namespace pgmoat::session
