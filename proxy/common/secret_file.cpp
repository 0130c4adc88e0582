#include "pgmoat/common/secret_file.h"

#include "pgmoat/common/config_error.h"
#include "pgmoat/common/log.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace pgmoat {

void warn_if_exposed(const std::string& path, const std::string& what) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        log::warning("{} {} is accessible by other users (mode {:o}); restrict it with chmod 600", what, path,
                     st.st_mode & 0777);
    }
}

std::string read_secret_file(const std::string& path, const std::string& what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path, 0, 0, "cannot read " + what);
    warn_if_exposed(path, what);
    std::ostringstream buf;
    buf << in.rdbuf();
    std::string s = buf.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (s.empty()) throw ConfigError(path, 0, 0, what + " is empty");
    return s;
}

}  // namespace pgmoat
