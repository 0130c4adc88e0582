// Keeps a line that could repeat per statement from flooding pgmoat's log: at
// most `per_second` lines pass each second, across all threads. The audit log
// and metrics keep the full count; the operational log gets a sample.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace pgmoat::log {

class Sampler {
  public:
    explicit Sampler(uint32_t per_second = 10) : per_second_(per_second) {}
    bool allow() {
        auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch())
                       .count();
        int64_t second = second_.load(std::memory_order_relaxed);
        if (second != now && second_.compare_exchange_strong(second, now)) count_.store(0, std::memory_order_relaxed);
        return count_.fetch_add(1, std::memory_order_relaxed) < per_second_;
    }

  private:
    uint32_t per_second_;
    std::atomic<int64_t> second_{0};
    std::atomic<uint32_t> count_{0};
};

}  // namespace pgmoat::log
