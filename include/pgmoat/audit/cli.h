// `pgmoat audit ...`: the audit log's command line, kept in the library so the
// tests can run it; proxy/cli/audit.cpp forwards to it.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace pgmoat::audit {

// Runs `pgmoat audit ARGS...` (ARGS without "audit") and returns the exit code:
// 0 verified, 1 verification failed (a break, an unreadable file, a missing or wrong
// key), 2 usage error or unreadable key file.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace pgmoat::audit
