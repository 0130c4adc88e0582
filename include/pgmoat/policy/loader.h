// Reading policy files: every *.toml in the policies directory (or the files
// given), validated strictly. Errors name file:line:column; one bad file fails
// the whole set so a half-loaded policy never takes effect.
#pragma once

#include "pgmoat/common/config_error.h"
#include "pgmoat/policy/policy.h"

#include <string>
#include <vector>

namespace pgmoat::policy {

// Loads a policy set from files; throws ConfigError for the first error.
PolicySet load_policy_files(const std::vector<std::string>& files);
// Every *.toml directly in `dir`, in name order.
std::vector<std::string> policy_files_in(const std::string& dir);
PolicySet load_policy_dir(const std::string& dir);

// Names, sizes and modification times of the policy files in `dir`: when it
// changes, a file was added, removed or edited (the cheap poll behind hot reload).
std::string policy_files_stamp(const std::string& dir);

// Checks files and returns every error found (one per file at most), for
// `pgmoat check`: files are checked on their own first, then as a set.
std::vector<ConfigError> check_policy_files(const std::vector<std::string>& files);

}  // namespace pgmoat::policy
