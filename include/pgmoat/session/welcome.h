// The ParameterStatus "welcome" a target sends at login, remembered per target so
// that a client can be logged in without a server (upstream_connect =
// "first_statement"), as pgbouncer does. What the client asked for in its own
// startup parameters overrides the remembered values; once the server is
// attached, any value that still differs is sent to the client again.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pgmoat::session {

using Parameters = std::vector<std::pair<std::string, std::string>>;

struct Welcome {
    Parameters reported;   // the server's ParameterStatus at its last login
    Parameters forwarded;  // the startup parameters pgmoat sent that login
};

// The parameters to report to a client that forwarded `forwarded`.
Parameters patch_welcome(const Welcome& welcome, const Parameters& forwarded);

class WelcomeCache {
  public:
    std::optional<Welcome> find(const std::string& target) const;
    void remember(const std::string& target, Parameters reported, Parameters forwarded);

  private:
    mutable std::mutex mutex_;
    std::map<std::string, Welcome> welcomes_;
};

}  // namespace pgmoat::session
