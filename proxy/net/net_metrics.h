// Metrics of the connection layer: sessions, logins, limits and upstreams. The
// statement path has its own (session/statement_metrics.h).
#pragma once

#include "pgmoat/metrics/registry.h"

namespace pgmoat::net {

struct NetMetrics {
    explicit NetMetrics(metrics::Registry& r)
        : accepted(r.counter("pgmoat_client_connections_accepted_total", "Client connections accepted.", {})),
          sessions(r.gauge("pgmoat_client_sessions", "Logged-in client sessions now, by app and target.",
                           {"app", "target"})),
          login_failures(r.counter("pgmoat_login_failures_total",
                                   "Client logins refused, by reason (password, target, parameter, protocol, "
                                   "limit, timeout, upstream).",
                                   {"reason"})),
          refused_for_limits(r.counter("pgmoat_client_connections_refused_total",
                                       "Client connections refused for max_client_connections.", {})),
          upstream_connect_errors(r.counter("pgmoat_upstream_connect_errors_total",
                                            "Failed connections or logins to a target, by target.", {"target"})),
          upstream_connections(r.gauge("pgmoat_upstream_connections", "Open connections to targets, by target.",
                                       {"target"})),
          policy_reloads(r.counter("pgmoat_policy_reloads_total",
                                   "Reloads of config, credentials and policies, by outcome (success, failure).",
                                   {"outcome"})),
          policy_info(r.info("pgmoat_policy_info", "The policy set in force (value 1), by version.", {"version"})),
          build_info(r.info("pgmoat_build_info", "pgmoat's version (value 1).", {"version"})),
          last_reload_successful(r.gauge("pgmoat_config_last_reload_successful",
                                         "1 if the last reload of config, credentials and policies succeeded.", {})),
          last_reload_success_time(r.gauge("pgmoat_config_last_reload_success_timestamp_seconds",
                                           "When config, credentials and policies were last loaded successfully.", {})) {
        // Known label values start at 0, so the first event shows up as an increase.
        for (const char* reason : {"password", "target", "parameter", "limit", "protocol", "timeout", "upstream"})
            login_failures.labels({reason});
        policy_reloads.labels({"success"});
        policy_reloads.labels({"failure"});
        build_info.set({PGMOAT_VERSION});
    }

    metrics::Family<metrics::Counter>& accepted;
    metrics::Family<metrics::Gauge>& sessions;
    metrics::Family<metrics::Counter>& login_failures;
    metrics::Family<metrics::Counter>& refused_for_limits;
    metrics::Family<metrics::Counter>& upstream_connect_errors;
    metrics::Family<metrics::Gauge>& upstream_connections;
    metrics::Family<metrics::Counter>& policy_reloads;
    metrics::InfoGauge& policy_info;
    metrics::InfoGauge& build_info;
    metrics::Family<metrics::Gauge>& last_reload_successful;
    metrics::Family<metrics::Gauge>& last_reload_success_time;
};

}  // namespace pgmoat::net
