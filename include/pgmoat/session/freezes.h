// Production freeze per target: the switch and the windows of the configuration
// in force, read by every session at each write (a reload reaches running
// sessions), and what counts as a write.
#pragma once

#include "pgmoat/config/config.h"
#include "pgmoat/sql/analysis.h"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace pgmoat::session {

// Why the target is frozen at `now` ("freeze = true (pgmoat.toml:12)", "the freeze
// window 2026-12-24T00:00:00Z/2026-12-27T00:00:00Z"); nullopt when it is not.
std::optional<std::string> freeze_reason(const config::Target& target, const std::string& config_file,
                                         std::chrono::system_clock::time_point now);

// A statement that changes data, schema, roles or settings of the database, or
// may (DO, CALL, SQL EXECUTE of a prepared statement, COPY FROM, VACUUM ...).
bool changes_database(const sql::Statement& st);

class TargetFreezes {
  public:
    // The configuration in force: at start and at every reload.
    void set(std::shared_ptr<const config::Config> config);
    std::optional<std::string> frozen(std::string_view target, std::chrono::system_clock::time_point now) const;
    // freeze_action = "hold": writes during its freeze wait for approval.
    bool holds_writes(std::string_view target) const;
    // The target's production mode for identities of `kind` (off for apps), and
    // where it is written ("pgmoat.toml:14").
    struct ProductionMode {
        config::Target::Production mode = config::Target::Production::off;
        std::string where;
    };
    ProductionMode production(std::string_view target, std::string_view kind) const;

  private:
    std::atomic<bool> any_{false};  // nothing frozen or scheduled costs one load per write
    mutable std::mutex mutex_;
    std::shared_ptr<const config::Config> config_;
};

}  // namespace pgmoat::session
