#include "spawn.h"

#include "pgmoat/common/log.h"

namespace pgmoat::net {

void log_escaped(const std::exception_ptr& e, const std::string& what) {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        log::error("{}: internal error: {}", what, ex.what());
    } catch (...) {
        log::error("{}: internal error", what);
    }
}

}  // namespace pgmoat::net
