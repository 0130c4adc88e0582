// The metrics of connections, registered once and shared by every connection:
// accepted connections, logged-in sessions, refused logins, limits and upstream
// connections. Labels are bounded: app and target names from the config, reasons
// from pgmoat itself.
#pragma once

#include "pgmoat/metrics/registry.h"

namespace pgmoat::session {

struct ConnectionMetrics {
    explicit ConnectionMetrics(metrics::Registry& registry);

    metrics::Family<metrics::Counter>& accepted;
    metrics::Family<metrics::Gauge>& sessions;          // app, target
    metrics::Family<metrics::Counter>& login_failures;  // reason
    metrics::Family<metrics::Counter>& refused_for_limits;
    metrics::Family<metrics::Counter>& upstream_connect_errors;  // target
    metrics::Family<metrics::Gauge>& upstream_connections;       // target
    metrics::Family<metrics::Counter>& pins;                     // target, reason (transaction pooling)
};

}  // namespace pgmoat::session
