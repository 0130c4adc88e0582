// `pgmoat check [FILES…]`: validates policy files the way pgmoat would load them
// and prints every error as file:line:column so an editor can jump to it.
#include "commands.h"

#include "pgmoat/config/config.h"
#include "pgmoat/policy/loader.h"

#include <cstdio>

namespace pgmoat::cli {

int check(const Args& args) {
    std::vector<std::string> files;
    std::string config;
    for (size_t i = 0; i < args.size(); ++i) {
        if ((args[i] == "-c" || args[i] == "--config") && i + 1 < args.size())
            config = args[++i];
        else if (!args[i].empty() && args[i][0] == '-') {
            std::fprintf(stderr, "usage: pgmoat check [-c pgmoat.toml] [POLICY_FILE…]\n");
            return 2;
        } else
            files.push_back(args[i]);
    }
    if (files.empty()) {
        std::string dir = config.empty() ? "policies" : config::load_config(config).policies.dir;
        files = policy::policy_files_in(dir);
    }
    auto errors = policy::check_policy_files(files);
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.what());
    if (!errors.empty()) return 1;
    auto set = policy::load_policy_files(files);
    std::printf("%zu policy file%s OK, version %s\n", files.size(), files.size() == 1 ? "" : "s", set.version.c_str());
    for (const auto& p : set.policies) {
        std::string lock;
        if (p->parameter_mode == policy::ParameterMode::shapes && p->shape_lock)
            lock = ", shape lock of " + std::to_string(p->shape_lock->shapes.size()) + " shapes";
        std::printf("  %-24s %s%s%s%s\n", p->name.c_str(), p->mode == policy::Mode::monitor ? "monitor" : "enforce",
                    p->is_default ? ", default" : "",
                    p->priority ? (", priority " + std::to_string(p->priority)).c_str() : "", lock.c_str());
    }
    return 0;
}

}  // namespace pgmoat::cli
