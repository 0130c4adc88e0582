// Who a client session is, once it has logged in: the app identity pgmoat issued,
// the target it chose, and what it told us about itself. Policies and audit
// records are keyed on these.
#pragma once

#include "pgmoat/config/config.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace pgmoat::session {

struct Identity {
    std::string app;
    std::string target;  // the target name the client asked for as its database
    std::string application_name;
    std::string client_address;
    std::string kind = "app";  // [apps.X] kind: app, agent, person
    uint16_t client_port = 0;
    bool tls = false;
    // Startup parameters forwarded to the target (allowlisted), in the order sent.
    std::vector<std::pair<std::string, std::string>> forward_parameters;
};

}  // namespace pgmoat::session
