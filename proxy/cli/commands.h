// The pgmoat command line: each subcommand is a function taking its own arguments
// (without the subcommand name) and returning the process exit code.
#pragma once

#include <string>
#include <vector>

namespace pgmoat::cli {

using Args = std::vector<std::string>;

int serve(const Args& args);
int passwd(const Args& args);
int check(const Args& args);
int config_reference(const Args& args);  // README's table of pgmoat.toml's keys
int explain(const Args& args);
int audit(const Args& args);
int learn(const Args& args);
int learn_lock(const Args& args);  // learn --lock: the shape lock
int shapes(const Args& args);
int decide(const Args& args, bool approve);  // approve ID / deny ID
int approvals(const Args& args);             // the pending approvals
int grant(const Args& args);                 // a time-boxed elevation
int grants(const Args& args);                // grants [list]
int revoke(const Args& args);
void usage();

}  // namespace pgmoat::cli
