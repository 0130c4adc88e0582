// Statements per second per app, shared by all of an app's sessions on every
// thread: a token bucket per app, refilled continuously, with a burst of one
// second's worth.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace pgmoat::session {

class RateLimiter {
  public:
    using Clock = std::chrono::steady_clock;
    // True if one more statement from `key` fits under `per_second`.
    bool admit(const std::string& key, double per_second, Clock::time_point now = Clock::now());

  private:
    struct Bucket {
        double tokens = 0;
        Clock::time_point refilled{};
        bool fresh = true;
    };
    std::mutex mutex_;
    std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace pgmoat::session
