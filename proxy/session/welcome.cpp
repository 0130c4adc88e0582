#include "pgmoat/session/welcome.h"

#include "pgmoat/common/ascii.h"

namespace pgmoat::session {

Parameters patch_welcome(const Welcome& welcome, const Parameters& forwarded) {
    Parameters out = welcome.reported;
    for (const auto& [name, value] : forwarded) {
        // Same value as the remembered login: the server's own spelling stands.
        bool same = false;
        for (const auto& [n, v] : welcome.forwarded) same |= ascii::iequals(n, name) && v == value;
        if (same) continue;
        for (auto& [n, v] : out) {
            if (ascii::iequals(n, name)) v = value;
        }
    }
    // The client never asked for one: the server's default is what it will get.
    for (auto& [n, v] : out) {
        if (!ascii::iequals(n, "application_name")) continue;
        bool asked = false;
        for (const auto& [name, value] : forwarded) asked |= ascii::iequals(name, "application_name");
        bool asked_before = false;
        for (const auto& [name, value] : welcome.forwarded) asked_before |= ascii::iequals(name, "application_name");
        if (!asked && asked_before) v.clear();
    }
    return out;
}

std::optional<Welcome> WelcomeCache::find(const std::string& target) const {
    std::lock_guard lock(mutex_);
    auto it = welcomes_.find(target);
    if (it == welcomes_.end()) return std::nullopt;
    return it->second;
}

void WelcomeCache::remember(const std::string& target, Parameters reported, Parameters forwarded) {
    std::lock_guard lock(mutex_);
    welcomes_[target] = Welcome{std::move(reported), std::move(forwarded)};
}

}  // namespace pgmoat::session
