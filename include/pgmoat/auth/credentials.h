// The credentials file: the app identities pgmoat issues, each with a SCRAM
// verifier (never a plaintext password).
#pragma once

#include "pgmoat/auth/scram.h"

#include <map>
#include <string>

namespace pgmoat::auth {

struct Credentials {
    std::string file;
    std::map<std::string, ScramVerifier, std::less<>> verifiers;  // app name -> verifier

    const ScramVerifier* find(std::string_view app) const;
};

// Format (TOML):
//   [apps]
//   orders-api = "SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>"
// Throws ConfigError naming file:line for syntax errors, unknown keys and verifiers
// that are not in SCRAM-SHA-256 format. Warns when the file is readable by others.
Credentials load_credentials(const std::string& path);

}  // namespace pgmoat::auth
