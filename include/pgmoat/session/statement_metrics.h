// The statement-path metrics, registered once and shared by every session: what
// was decided, by which rule, and how long analysis, decision and the server took.
// Label values are bounded: app and target names from the config, statement kinds,
// decisions and rule names from pgmoat itself.
#pragma once

#include "pgmoat/metrics/registry.h"

namespace pgmoat::session {

struct StatementMetrics {
    explicit StatementMetrics(metrics::Registry& registry);

    metrics::Family<metrics::Counter>& statements;     // app, target, kind, decision
    metrics::Family<metrics::Counter>& rejections;     // app, target, rule
    metrics::Family<metrics::Counter>& would_reject;   // app, target, rule
    metrics::Family<metrics::Counter>& unparseable;    // app
    metrics::Family<metrics::Counter>& rate_limited;   // app
    metrics::Family<metrics::Counter>& row_caps;       // app
    metrics::Family<metrics::Counter>& audit_refused;  // app
    metrics::Family<metrics::Histogram>& analysis_seconds;
    metrics::Family<metrics::Histogram>& decision_seconds;
    metrics::Family<metrics::Histogram>& first_byte_seconds;  // target
    metrics::Family<metrics::Histogram>& complete_seconds;    // target
};

}  // namespace pgmoat::session
