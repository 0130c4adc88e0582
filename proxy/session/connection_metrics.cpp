#include "pgmoat/session/connection_metrics.h"

namespace pgmoat::session {

ConnectionMetrics::ConnectionMetrics(metrics::Registry& r)
    : accepted(r.counter("pgmoat_client_connections_accepted_total", "Client connections accepted.", {})),
      sessions(
          r.gauge("pgmoat_client_sessions", "Logged-in client sessions now, by app and target.", {"app", "target"})),
      login_failures(r.counter("pgmoat_login_failures_total",
                               "Client logins refused, by reason (password, target, parameter, protocol, "
                               "limit, timeout, upstream).",
                               {"reason"})),
      refused_for_limits(r.counter("pgmoat_client_connections_refused_total",
                                   "Client connections refused for max_client_connections.", {})),
      upstream_connect_errors(r.counter("pgmoat_upstream_connect_errors_total",
                                        "Failed connections or logins to a target, by target.", {"target"})),
      upstream_connections(
          r.gauge("pgmoat_upstream_connections", "Open connections to targets, by target.", {"target"})),
      pins(r.counter("pgmoat_pool_pins_total",
                     "Sessions pinned to their server connection in transaction pooling, by target and the "
                     "statement's reason (set, listen, temporary_table, cursor_with_hold, advisory_lock, prepare, "
                     "load).",
                     {"target", "reason"})) {
    // Known label values start at 0, so the first event shows up as an increase.
    for (const char* reason : {"password", "target", "parameter", "limit", "protocol", "timeout", "upstream"})
        login_failures.labels({reason});
}

}  // namespace pgmoat::session
