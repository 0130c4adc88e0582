// `pgmoat check [-c pgmoat.toml] [FILES…]`: validates the config and policy files
// the way pgmoat would load them and prints every error as file:line:column so an
// editor can jump to it; `pgmoat config-reference` prints the config's keys.
#include "commands.h"

#include "pgmoat/config/config.h"
#include "pgmoat/policy/loader.h"

#include <cstdio>
#include <optional>

namespace pgmoat::cli {

namespace {
// The keys the file sets, each with whether a reload applies it (keys.h).
void report_settings(const config::Config& c) {
    std::printf("%s OK, %zu key%s set\n", c.file.c_str(), c.settings.size(), c.settings.size() == 1 ? "" : "s");
    for (const auto& [path, value] : c.settings) {
        auto dot = path.rfind('.');
        const auto* key =
            config::find_key(std::string_view(path).substr(0, dot), std::string_view(path).substr(dot + 1));
        bool restart = key && key->reload == config::Reload::restart;
        std::printf("  %-36s %s%s\n", path.c_str(), value.c_str(), restart ? "  (a change needs a restart)" : "");
    }
}
}  // namespace

int config_reference(const Args& args) {
    if (!args.empty()) {
        std::fprintf(stderr, "usage: pgmoat config-reference\n");
        return 2;
    }
    std::fputs(config::reference_markdown().c_str(), stdout);
    return 0;
}

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
    std::optional<config::Config> c;
    if (!config.empty()) c = config::load_config(config);
    std::string dir = c ? c->policies.dir : "policies";
    if (files.empty()) files = policy::policy_files_in(dir);
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
    // After the policies: the first line stays the one scripts read.
    if (c) report_settings(*c);
    return 0;
}

}  // namespace pgmoat::cli
