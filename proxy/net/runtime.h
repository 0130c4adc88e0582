// State shared by every connection on every thread: the current configuration
// snapshot (swapped whole on reload), the cancel key registry and the counters
// that enforce connection limits.
#pragma once

#include "asio.h"
#include "net_metrics.h"
#include "pgmoat/audit/audit_log.h"
#include "pgmoat/auth/credentials.h"
#include "pgmoat/config/config.h"
#include "pgmoat/metrics/registry.h"
#include "pgmoat/policy/policy.h"
#include "pgmoat/session/cancel_registry.h"
#include "pgmoat/session/freezes.h"
#include "pgmoat/session/function_names.h"
#include "pgmoat/session/grant_table.h"
#include "pgmoat/session/rate_limiter.h"
#include "pgmoat/session/rejection_log.h"
#include "pgmoat/session/session_directory.h"
#include "pgmoat/session/statement_metrics.h"
#include "pgmoat/session/welcome.h"
#include "pgmoat/sql/analysis_cache.h"
#include "server_pools.h"

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace pgmoat::net {

// Everything a new session is admitted under. Immutable once built; a session keeps
// the snapshot it started with.
struct Snapshot {
    std::shared_ptr<const config::Config> config;
    std::shared_ptr<const auth::Credentials> credentials;
    std::shared_ptr<const policy::PolicySet> policies;
    std::shared_ptr<asio::ssl::context> server_tls;  // null when TLS is not configured
    std::optional<auth::ChannelBinding> server_channel_binding;
    std::map<std::string, std::shared_ptr<asio::ssl::context>, std::less<>> target_tls;
    std::vector<policy::Grant> grants;  // the grants file ([policies] grants)
};

// Loads config, credentials, policies and TLS material; throws ConfigError.
std::shared_ptr<const Snapshot> load_snapshot(const std::string& config_path);

struct Runtime {
    std::string config_path;
    std::atomic<std::shared_ptr<const Snapshot>> snapshot;
    session::CancelRegistry cancels;
    std::unique_ptr<sql::AnalysisCache> analyses;
    session::RateLimiter rate_limiter;
    session::WelcomeCache welcomes;
    session::FunctionNames function_names;
    session::RejectionLog rejections;        // SHOW REJECTIONS
    session::SessionDirectory directory;     // SHOW SESSIONS
    session::TargetPauses pauses;            // PAUSE / RESUME
    session::TargetFreezes freezes;          // [targets.X] freeze, freeze_windows: set at start and reload
    session::AdminState* admin = nullptr;    // the admin console's view of this server
    std::unique_ptr<audit::AuditLog> audit;  // null when [audit] enabled = false
    metrics::Registry registry;
    NetMetrics net_metrics{registry};
    session::StatementMetrics statement_metrics{registry};
    session::Approvals approvals{&registry};  // statements held for a person's approval
    session::GrantTable grants;               // time-boxed elevations: set at start and reload
    std::shared_ptr<ServerPools> pools = std::make_shared<ServerPools>(registry);
    std::atomic<uint64_t> next_session_id{0};
    std::atomic<int> clients{0};
    std::atomic<bool> draining{false};

    // An audit record of pgmoat itself or of a connection outside a session.
    void audit_event(audit::Record&& record) {
        if (audit) audit->submit(std::move(record));
    }

    std::shared_ptr<const Snapshot> current() const { return snapshot.load(std::memory_order_acquire); }
};

}  // namespace pgmoat::net
