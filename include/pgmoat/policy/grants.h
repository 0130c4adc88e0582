// Time-boxed elevation: a grant widens one identity's policy on one target for a
// bounded time (`pgmoat grant --app NAME --allow KIND_OR_RULE --target T --for 30m
// --reason "..."`). Grants live in a file beside the config, written atomically,
// read at start and with every reload; each expires on its own. Pure: parsing,
// writing, which grants apply, and the policy they make.
#pragma once

#include "pgmoat/policy/policy.h"
#include "pgmoat/policy/rule.h"

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmoat::policy {

struct Grant {
    std::string id;     // "g" + 8 hex digits
    std::string app;    // the identity it widens
    std::string allow;  // as written: a statement kind or category, or a rule name
    // What `allow` names, read once by set_allow() (and parse_grants): the rule
    // the grant turns off (Rule::none for kinds), or the statement kinds it lets
    // through. Grants are matched by these, never by the name.
    Rule rule = Rule::none;
    std::bitset<256> kinds;
    std::string target;  // target name (a glob: "*" for every target)
    std::string reason;
    std::string granted_by;
    std::chrono::system_clock::time_point granted_at;
    std::chrono::system_clock::time_point expires;

    bool active(std::chrono::system_clock::time_point now) const { return now < expires; }
    bool applies(std::string_view app, std::string_view target, std::chrono::system_clock::time_point now) const;
    // Sets allow, rule and kinds from a name; when it names nothing a grant can
    // widen, why not (naming what it can), and the grant is left as it was.
    std::optional<std::string> set_allow(std::string_view name);
};

// Whether `allow` names something a grant can widen; else why not.
std::optional<std::string> grant_refusal(std::string_view allow);

// The grants file: [[grant]] tables. Missing file: none. Errors: ConfigError
// naming file:line.
std::vector<Grant> parse_grants(const std::string& text, const std::string& file);
std::vector<Grant> load_grants(const std::string& path);
std::string grants_text(const std::vector<Grant>& grants);
// Written to a temporary file beside it, flushed, then renamed over it: a reader
// sees the old file or the new one, never half of one.
void save_grants(const std::string& path, const std::vector<Grant>& grants);

// "30m", "2h", "90s", "1d": how long a grant lasts (at most a week); nullopt
// for anything else.
std::optional<std::chrono::seconds> parse_grant_length(std::string_view text);

// Changing the grants file, for `pgmoat grant`/`revoke` and the admin console's
// GRANT/REVOKE alike: under an exclusive lock on "<path>.lock" (two at once never
// lose one), expired grants dropped as the file is rewritten (the audit log keeps
// them). add_grant fills in g's id, granted_at and expires (now + length).
// Errors: ConfigError naming the file.
Grant add_grant(const std::string& path, Grant g, std::chrono::seconds length);
// false: no grant with that id in the file (the file is left as it was).
bool remove_grant(const std::string& path, std::string_view id);

// The policy a session is judged by while `grants` (all applying to it) are in
// force. Session-level rules (freeze) are asked of the grants themselves (Grant::rule).
Policy widen(const Policy& policy, const std::vector<Grant>& grants);
// The grant that lets through what `rule` rejected (or held) for a statement of
// `kind` (nullopt: none known); the first grant when none names either, nullptr
// when there are none.
const Grant* grant_for(const std::vector<Grant>& grants, Rule rule, std::optional<sql::StatementKind> kind);

}  // namespace pgmoat::policy
