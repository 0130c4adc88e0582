// pgmoat grant / grants / revoke: time-boxed elevations, kept in the grants file
// beside the config ([policies] grants). The file is written atomically; the
// running pgmoat reads it with its policies (the file watcher, SIGHUP or RELOAD),
// audits each grant added or removed, and applies it to running sessions.
#include "commands.h"

#include "pgmoat/common/utc_time.h"
#include "pgmoat/config/config.h"
#include "pgmoat/policy/grants.h"

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace pgmoat::cli {

namespace {

std::string who_grants() {
    if (const auto* pw = ::getpwuid(::geteuid())) return pw->pw_name;
    return "uid " + std::to_string(::geteuid());
}

void print(const policy::Grant& g, std::chrono::system_clock::time_point now) {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(g.expires - now).count();
    std::printf("%s  app=%s allow=%s target=%s until=%s (%s) by=%s reason=%s\n", g.id.c_str(), g.app.c_str(),
                g.allow.c_str(), g.target.c_str(), format_utc(g.expires).c_str(),
                left > 0 ? fmt::format("{}s left", left).c_str() : "expired", g.granted_by.c_str(), g.reason.c_str());
}

}  // namespace

int grant(const Args& args) {
    std::string config_path = "pgmoat.toml", app, allow, target, reason, duration;
    bool ok = args.size() % 2 == 0;
    for (size_t i = 0; ok && i + 1 < args.size(); i += 2) {
        const auto& k = args[i];
        std::string* into = k == "-c" || k == "--config" ? &config_path
                            : k == "--app"               ? &app
                            : k == "--allow"             ? &allow
                            : k == "--target"            ? &target
                            : k == "--for"               ? &duration
                            : k == "--reason"            ? &reason
                                                         : nullptr;
        if (into) *into = args[i + 1];
        ok = into != nullptr;
    }
    if (!ok || app.empty() || allow.empty() || target.empty() || duration.empty() || reason.empty()) {
        std::fprintf(stderr,
                     "usage: pgmoat grant --app NAME --allow KIND_OR_RULE --target TARGET --for 30m "
                     "--reason TEXT [-c pgmoat.toml]\n");
        return 2;
    }
    auto config = config::load_config(config_path);
    if (!config.find_app(app)) {
        std::fprintf(stderr, "pgmoat: no app named \"%s\" in %s\n", app.c_str(), config_path.c_str());
        return 1;
    }
    if (target != "*" && !config.find_target(target)) {
        std::fprintf(stderr, "pgmoat: no target named \"%s\" in %s\n", target.c_str(), config_path.c_str());
        return 1;
    }
    policy::Grant g;
    if (auto refusal = g.set_allow(allow)) {
        std::fprintf(stderr, "pgmoat: %s\n", refusal->c_str());
        return 1;
    }
    auto length = policy::parse_grant_length(duration);
    if (!length) {
        std::fprintf(stderr, "pgmoat: --for \"%s\": expected a duration such as 30m, 2h or 1d (at most 7d)\n",
                     duration.c_str());
        return 1;
    }
    g.app = app;
    g.target = target;
    g.reason = reason;
    g.granted_by = who_grants();
    g = policy::add_grant(config.policies.grants, std::move(g), *length);
    print(g, std::chrono::system_clock::now());
    return 0;
}

int grants(const Args& args) {
    std::string config_path = "pgmoat.toml";
    size_t i = !args.empty() && args[0] == "list" ? 1 : 0;
    for (; i < args.size(); ++i) {
        if ((args[i] == "-c" || args[i] == "--config") && i + 1 < args.size()) {
            config_path = args[++i];
        } else {
            std::fprintf(stderr, "usage: pgmoat grants [list] [-c pgmoat.toml]\n");
            return 2;
        }
    }
    auto config = config::load_config(config_path);
    auto now = std::chrono::system_clock::now();
    auto all = policy::load_grants(config.policies.grants);
    for (const auto& g : all) print(g, now);
    if (all.empty()) std::printf("no grants\n");
    return 0;
}

int revoke(const Args& args) {
    std::string config_path = "pgmoat.toml", id;
    for (size_t i = 0; i < args.size(); ++i) {
        if ((args[i] == "-c" || args[i] == "--config") && i + 1 < args.size())
            config_path = args[++i];
        else if (id.empty())
            id = args[i];
        else
            id = "-";
    }
    if (id.empty() || id == "-") {
        std::fprintf(stderr, "usage: pgmoat revoke GRANT_ID [-c pgmoat.toml]\n");
        return 2;
    }
    auto config = config::load_config(config_path);
    if (!policy::remove_grant(config.policies.grants, id)) {
        std::fprintf(stderr, "pgmoat: no grant %s in %s\n", id.c_str(), config.policies.grants.c_str());
        return 1;
    }
    std::printf("revoked %s\n", id.c_str());
    return 0;
}

}  // namespace pgmoat::cli
