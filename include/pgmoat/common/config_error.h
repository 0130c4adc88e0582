// The error every loader of a DBA- or operator-edited file throws: it names the
// file, line and column so the person editing it can go straight there.
#pragma once

#include <stdexcept>
#include <string>

namespace pgmoat {

class ConfigError : public std::runtime_error {
  public:
    ConfigError(std::string file, int line, int column, const std::string& message);
    const std::string& file() const { return file_; }
    int line() const { return line_; }
    int column() const { return column_; }
    // The message alone, without the "file:line:column: " prefix what() carries.
    const std::string& message() const { return message_; }

  private:
    std::string file_;
    int line_;
    int column_;
    std::string message_;
};

}  // namespace pgmoat
