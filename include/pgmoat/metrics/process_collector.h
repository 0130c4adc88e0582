// The standard process metrics every Prometheus client exports, read from
// /proc/self at scrape time: process_cpu_seconds_total, process_open_fds,
// process_max_fds, process_virtual_memory_bytes, process_resident_memory_bytes,
// process_start_time_seconds.
#pragma once

#include "pgmoat/metrics/registry.h"

namespace pgmoat::metrics {

class ProcessCollector final : public Collector {
  public:
    // Reads the process start time once; /proc is read again on every scrape.
    ProcessCollector();

    std::vector<Description> describe() const override;
    // A value /proc cannot give (no /proc mounted, say) is left out of the scrape.
    void collect(std::vector<MetricFamily>& out) const override;

  private:
    double start_time_seconds_ = -1;  // < 0 when unknown
};

}  // namespace pgmoat::metrics
