// The proxy server: listens, admits clients and relays them to their targets until
// told to stop. The only entry point into the net module.
#pragma once

#include <string>

namespace pgmoat::net {

// Runs pgmoat with the given config until SIGTERM or SIGINT, then drains sessions
// within the configured shutdown_timeout. SIGHUP reloads config and credentials.
// Throws ConfigError when the config cannot be loaded at start; returns the exit
// code otherwise.
int serve(const std::string& config_path);

}  // namespace pgmoat::net
