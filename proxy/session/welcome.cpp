#include "pgmoat/session/welcome.h"

#include <strings.h>

namespace pgmoat::session {

Parameters patch_welcome(const Welcome& welcome, const Parameters& forwarded) {
    Parameters out = welcome.reported;
    for (const auto& [name, value] : forwarded) {
        // Same value as the remembered login: the server's own spelling stands.
        bool same = false;
        for (const auto& [n, v] : welcome.forwarded) same |= strcasecmp(n.c_str(), name.c_str()) == 0 && v == value;
        if (same) continue;
        for (auto& [n, v] : out) {
            if (strcasecmp(n.c_str(), name.c_str()) == 0) v = value;
        }
    }
    // The client never asked for one: the server's default is what it will get.
    for (auto& [n, v] : out) {
        if (strcasecmp(n.c_str(), "application_name") != 0) continue;
        bool asked = false;
        for (const auto& [name, value] : forwarded) asked |= strcasecmp(name.c_str(), "application_name") == 0;
        bool asked_before = false;
        for (const auto& [name, value] : welcome.forwarded) asked_before |= strcasecmp(name.c_str(), "application_name") == 0;
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
