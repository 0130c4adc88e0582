#include "pgmoat/session/function_names.h"

namespace pgmoat::session {

std::optional<std::string> FunctionNames::find(const std::string& target, uint32_t oid) const {
    std::lock_guard lock(mutex_);
    auto it = names_.find({target, oid});
    if (it == names_.end()) return std::nullopt;
    return it->second;
}

void FunctionNames::remember(const std::string& target, uint32_t oid, std::string name) {
    std::lock_guard lock(mutex_);
    if (names_.size() >= kMaxEntries) names_.clear();
    names_[{target, oid}] = std::move(name);
}

}  // namespace pgmoat::session
