#include "pgmoat/common/config_error.h"

#include <fmt/format.h>

namespace pgmoat {

static std::string locate(const std::string& file, int line, int column, const std::string& m) {
    if (line <= 0) return fmt::format("{}: {}", file, m);
    if (column <= 0) return fmt::format("{}:{}: {}", file, line, m);
    return fmt::format("{}:{}:{}: {}", file, line, column, m);
}

ConfigError::ConfigError(std::string file, int line, int column, const std::string& message)
    : std::runtime_error(locate(file, line, column, message)),
      file_(std::move(file)),
      line_(line),
      column_(column),
      message_(message) {}

}  // namespace pgmoat
