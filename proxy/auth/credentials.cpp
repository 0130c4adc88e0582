// Loading the credentials file: app names and the SCRAM verifiers pgmoat checks
// their logins against. Every mistake is reported at its line, and a verifier is
// never echoed back (it is enough to mount an offline guessing attack).
#include "pgmoat/auth/credentials.h"

#include "pgmoat/common/config_error.h"
#include "pgmoat/common/secret_file.h"
#include "pgmoat/common/toml_reader.h"

#include <fmt/format.h>

#include <algorithm>

namespace pgmoat::auth {

namespace {
bool valid_app_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
               c == '-';
    });
}

int line_of(const toml::source_region& r) {
    return static_cast<int>(r.begin.line);
}
int column_of(const toml::source_region& r) {
    return static_cast<int>(r.begin.column);
}

// What went wrong with a value that is not a verifier, without repeating it.
std::string verifier_hint(std::string_view value) {
    if (value.substr(0, 3) == "md5" && value.size() == 35) return "md5 hashes are not accepted";
    if (value.substr(0, 14) == "SCRAM-SHA-256$") return "the verifier is damaged";
    return "plaintext passwords are not accepted";
}
}  // namespace

const ScramVerifier* Credentials::find(std::string_view app) const {
    auto it = verifiers.find(app);
    return it == verifiers.end() ? nullptr : &it->second;
}

Credentials load_credentials(const std::string& path) {
    toml::table doc = parse_toml_file(path);
    warn_if_exposed(path, "credentials file");
    TomlTable top(doc, path);
    auto apps = top.table("apps");
    top.reject_unknown_keys();
    if (!apps)
        throw ConfigError(path, 0, 0, "no [apps] table: the credentials file lists app = \"<verifier>\" under [apps]");

    Credentials creds;
    creds.file = path;
    const toml::table& table = *doc["apps"].as_table();
    for (const auto& [key, node] : table) {
        std::string name(key.str());
        if (!valid_app_name(name)) {
            throw ConfigError(path, line_of(key.source()), column_of(key.source()),
                              fmt::format("app name \"{}\" must be non-empty and use only letters, digits, '_', "
                                          "'.' and '-'",
                                          name));
        }
        auto value = node.as_string();
        if (!value) {
            throw ConfigError(path, line_of(node.source()), column_of(node.source()),
                              fmt::format("apps.{}: expected a verifier string", name));
        }
        auto verifier = ScramVerifier::parse(value->get());
        if (!verifier) {
            throw ConfigError(path, line_of(node.source()), column_of(node.source()),
                              fmt::format("apps.{}: not a SCRAM-SHA-256 verifier ({}); expected "
                                          "\"SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>\" as "
                                          "printed by `pgmoat passwd`",
                                          name, verifier_hint(value->get())));
        }
        creds.verifiers.emplace(std::move(name), std::move(*verifier));
    }
    return creds;
}

}  // namespace pgmoat::auth
