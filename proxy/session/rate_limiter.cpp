#include "pgmoat/session/rate_limiter.h"

#include <algorithm>

namespace pgmoat::session {

bool RateLimiter::admit(const std::string& key, double per_second, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    Bucket& b = buckets_[key];
    if (b.fresh) {
        b.fresh = false;
        b.tokens = per_second;
        b.refilled = now;
    }
    double elapsed = std::chrono::duration<double>(now - b.refilled).count();
    b.tokens = std::min(per_second, b.tokens + elapsed * per_second);
    b.refilled = now;
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
}

}  // namespace pgmoat::session
