// The [audit] section of pgmoat.toml.
#include "pgmoat/audit/options.h"

#include <filesystem>

namespace pgmoat::audit {

namespace fs = std::filesystem;

std::string resolve(const std::string& base_dir, const std::string& p) {
    if (p.empty() || p == "-" || fs::path(p).is_absolute() || base_dir.empty()) return p;
    return (fs::path(base_dir) / p).lexically_normal().string();
}

Options default_options(const std::string& base_dir) {
    Options o;
    o.path = resolve(base_dir, o.path);
    return o;
}

}  // namespace pgmoat::audit
