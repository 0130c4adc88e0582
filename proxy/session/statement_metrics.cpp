#include "pgmoat/session/statement_metrics.h"

namespace pgmoat::session {

using metrics::exponential_buckets;

StatementMetrics::StatementMetrics(metrics::Registry& r)
    : statements(r.counter("pgmoat_statements_total", "Statements judged, by app, target, statement kind and decision.",
                           {"app", "target", "kind", "decision"})),
      rejections(r.counter("pgmoat_rejections_total",
                           "Statements rejected, by app, target and the rule that rejected them.",
                           {"app", "target", "rule"})),
      would_reject(r.counter("pgmoat_monitor_would_reject_total",
                             "Statements a monitor-mode policy forwarded but would have rejected, by rule.",
                             {"app", "target", "rule"})),
      unparseable(r.counter("pgmoat_unparseable_statements_total",
                            "Statements PostgreSQL's parser could not parse (never forwarded).", {"app"})),
      rate_limited(r.counter("pgmoat_rate_limited_statements_total",
                             "Statements refused by a policy's statements_per_second limit.", {"app"})),
      row_caps(r.counter("pgmoat_row_cap_exceeded_total", "Statements stopped at a policy's max_rows.", {"app"})),
      audit_refused(r.counter("pgmoat_audit_refused_statements_total",
                              "Statements refused because the audit log could not be written (block policy).",
                              {"app"})),
      analysis_seconds(r.histogram("pgmoat_analysis_duration_seconds",
                                   "Time to analyze a statement (a cache hit is a hash look-up).", {},
                                   exponential_buckets(1e-6, 2.5, 14))),
      decision_seconds(r.histogram("pgmoat_decision_duration_seconds", "Time to judge an analyzed statement.", {},
                                   exponential_buckets(1e-7, 2.5, 14))),
      first_byte_seconds(r.histogram("pgmoat_upstream_first_byte_seconds",
                                     "From forwarding a statement to the server's first answer, by target.", {"target"},
                                     exponential_buckets(50e-6, 2, 18))),
      complete_seconds(r.histogram("pgmoat_upstream_statement_duration_seconds",
                                   "From forwarding a statement to its completion, by target.", {"target"},
                                   exponential_buckets(50e-6, 2, 18))) {}

}  // namespace pgmoat::session
