// Metrics of the server itself: policy reloads and versions. Connections have
// their own (session/connection_metrics.h), as does the statement path
// (session/statement_metrics.h).
#pragma once

#include "pgmoat/metrics/registry.h"
#include "pgmoat/session/connection_metrics.h"

namespace pgmoat::net {

struct NetMetrics {
    explicit NetMetrics(metrics::Registry& r)
        : connection(r),
          policy_reloads(r.counter("pgmoat_policy_reloads_total",
                                   "Reloads of config, credentials and policies, by outcome (success, failure).",
                                   {"outcome"})),
          policy_info(r.info("pgmoat_policy_info", "The policy set in force (value 1), by version.", {"version"})),
          build_info(r.info("pgmoat_build_info", "pgmoat's version (value 1).", {"version"})),
          last_reload_successful(r.gauge("pgmoat_config_last_reload_successful",
                                         "1 if the last reload of config, credentials and policies succeeded.", {})),
          last_reload_success_time(r.gauge("pgmoat_config_last_reload_success_timestamp_seconds",
                                           "When config, credentials and policies were last loaded successfully.",
                                           {})) {
        policy_reloads.labels({"success"});
        policy_reloads.labels({"failure"});
        build_info.set({PGMOAT_VERSION});
    }

    session::ConnectionMetrics connection;
    metrics::Family<metrics::Counter>& policy_reloads;
    metrics::InfoGauge& policy_info;
    metrics::InfoGauge& build_info;
    metrics::Family<metrics::Gauge>& last_reload_successful;
    metrics::Family<metrics::Gauge>& last_reload_success_time;
};

}  // namespace pgmoat::net
