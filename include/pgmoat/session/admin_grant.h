// The admin console's GRANT, the console form of `pgmoat grant`:
//   GRANT <kind or rule> TO <app> ON <target> FOR <duration> REASON '<text>'
// (the clauses after the first in any order, each once). Pure: text in, the
// grant's fields or the error naming what is wrong out.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <variant>

namespace pgmoat::session {

struct ConsoleGrant {
    std::string allow, app, target, reason;
    std::chrono::seconds length{0};
};

struct ConsoleGrantError {
    std::string message;
    std::string hint;
};

// `text` is the whole command line as sent, "GRANT" included.
std::variant<ConsoleGrant, ConsoleGrantError> parse_console_grant(std::string_view text);

inline constexpr std::string_view kConsoleGrantSyntax =
    "GRANT <kind or rule> TO <app> ON <target> FOR <duration> REASON '<text>'";

}  // namespace pgmoat::session
