// A joinable pthread with an explicit stack size: std::thread cannot set one.
// The thread exists only for the call, so the number of such threads is bounded
// by the number of threads calling analyze().
#include "large_stack.h"

#include <pthread.h>

#include <exception>

namespace pgmoat::sql::detail {

namespace {

struct Call {
    const std::function<void()>* fn;
    std::exception_ptr error;
};

void* trampoline(void* arg) {
    auto* call = static_cast<Call*>(arg);
    try {
        (*call->fn)();
    } catch (...) {
        call->error = std::current_exception();  // rethrown on the caller's thread
    }
    return nullptr;
}

}  // namespace

bool run_with_stack(size_t stack_bytes, const std::function<void()>& fn) {
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) return false;
    bool ok = pthread_attr_setstacksize(&attr, stack_bytes) == 0 && pthread_attr_setguardsize(&attr, 64 * 1024) == 0;
    Call call{&fn, nullptr};
    pthread_t thread;
    ok = ok && pthread_create(&thread, &attr, trampoline, &call) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) return false;
    pthread_join(thread, nullptr);
    if (call.error) std::rethrow_exception(call.error);
    return true;
}

}  // namespace pgmoat::sql::detail
