// `pgmoat audit ...`: forwards to the audit library's command line (kept there so
// its unit tests can run it).
#include "pgmoat/audit/cli.h"

#include <iostream>
#include <string>
#include <vector>

namespace pgmoat::cli {

int audit(const std::vector<std::string>& args) {
    return pgmoat::audit::run_cli(args, std::cout, std::cerr);
}

}  // namespace pgmoat::cli
