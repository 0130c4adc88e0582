// pgmoat's metrics: counters, gauges and histograms in labelled families, and the
// registry that renders them for Prometheus. Small and self-contained on purpose,
// shaped so prometheus-cpp could replace it later.
//
// Updating a metric is a relaxed atomic operation on a child the caller already
// holds; the look-up by label values (a per-family mutex) happens once per
// session or once at start-up, never per statement:
//
//     auto& statements = registry.counter("pgmoat_statements_total", "Statements seen.",
//                                         {"app", "target", "kind", "decision"});
//     Counter& selects_allowed = statements.labels({app, target, "select", "allow"});
//     selects_allowed.inc();
#pragma once

#include "pgmoat/metrics/exposition.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pgmoat::metrics {

// A count that only goes up. Integral: everything pgmoat counts is a whole number,
// and an integer add is the cheapest atomic there is.
class Counter {
  public:
    Counter() = default;
    Counter(const Counter&) = delete;
    Counter& operator=(const Counter&) = delete;

    void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    uint64_t value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (sessions open, bytes cached).
class Gauge {
  public:
    Gauge() = default;
    Gauge(const Gauge&) = delete;
    Gauge& operator=(const Gauge&) = delete;

    void set(double v) { value_.store(v, std::memory_order_relaxed); }
    void inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
    void dec(double v = 1) { value_.fetch_sub(v, std::memory_order_relaxed); }
    double value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<double> value_{0};
};

// Observations counted into fixed buckets chosen when the family is registered.
// Each bucket is its own atomic counter; _count is derived from the buckets at
// scrape time so it always equals the +Inf bucket.
class Histogram {
  public:
    // `bounds` are the family's upper bounds, ascending and finite; +Inf is implicit.
    explicit Histogram(std::span<const double> bounds);
    Histogram(const Histogram&) = delete;
    Histogram& operator=(const Histogram&) = delete;

    // NaN is ignored: one would turn _sum into NaN for good.
    void observe(double value);
    // Seconds, the unit Prometheus wants for every duration.
    void observe_duration(std::chrono::nanoseconds d) { observe(std::chrono::duration<double>(d).count()); }

    struct Snapshot {
        std::vector<uint64_t> cumulative;  // one per bound, then +Inf
        double sum = 0;
        uint64_t count() const { return cumulative.empty() ? 0 : cumulative.back(); }
    };
    Snapshot snapshot() const;

  private:
    std::span<const double> bounds_;
    std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1, not cumulative
    std::atomic<double> sum_{0};
};

// `count` bounds start, start*factor, start*factor^2, ...
std::vector<double> exponential_buckets(double start, double factor, size_t count);
// `count` bounds start, start+width, start+2*width, ...
std::vector<double> linear_buckets(double start, double width, size_t count);

// Produces families at scrape time. Everything the registry renders is a collector:
// the metric families below, callback gauges, the process collector.
class Collector {
  public:
    virtual ~Collector() = default;
    // The families this collector writes, fixed for its lifetime, so the registry
    // can refuse clashing names (a histogram's _bucket/_sum/_count included) when
    // it is added.
    struct Description {
        std::string name;
        MetricType type;
    };
    virtual std::vector<Description> describe() const = 0;
    // Called from Registry::render on the scraping thread, with the registry locked.
    virtual void collect(std::vector<MetricFamily>& out) const = 0;
};

inline constexpr size_t default_max_children = 10'000;

// A metric with a fixed list of label names and one child per combination of
// label values. Children live as long as the family; references to them stay valid.
template <typename T>
class Family final : public Collector {
  public:
    Family(const Family&) = delete;
    Family& operator=(const Family&) = delete;

    // The child for these label values (one per label name, in order), created on
    // first use. Past the family's child cap every new combination lands on the
    // child whose values are all "overflow", so a bug cannot exhaust memory.
    // Throws std::invalid_argument when the number of values is wrong.
    T& labels(std::initializer_list<std::string_view> values);
    T& labels(std::span<const std::string> values);

    const std::string& name() const { return name_; }
    const std::vector<std::string>& label_names() const { return label_names_; }
    size_t size() const;

    std::vector<Description> describe() const override;
    void collect(std::vector<MetricFamily>& out) const override;

    // Use Registry::counter/gauge/histogram.
    Family(std::string name, std::string help, std::vector<std::string> label_names, size_t max_children,
           std::vector<double> bounds = {});

  private:
    T& child(std::vector<std::string> values);

    const std::string name_;
    const std::string help_;
    const std::vector<std::string> label_names_;
    const size_t max_children_;
    const std::vector<double> bounds_;  // histograms only
    mutable std::mutex mutex_;
    std::map<std::vector<std::string>, std::unique_ptr<T>> children_;
    bool overflowed_ = false;
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

// A gauge of value 1 whose labels carry facts (`pgmoat_policy_info{version="..."} 1`).
// It has at most one child: setting new values replaces the old ones, so a scrape
// never shows a stale version next to the current one.
class InfoGauge final : public Collector {
  public:
    InfoGauge(std::string name, std::string help, std::vector<std::string> label_names);

    // Throws std::invalid_argument when the number of values is wrong.
    void set(std::span<const std::string> values);
    void set(std::initializer_list<std::string_view> values);
    void clear();

    std::vector<Description> describe() const override { return {{name_, MetricType::gauge}}; }
    void collect(std::vector<MetricFamily>& out) const override;

  private:
    const std::string name_;
    const std::string help_;
    const std::vector<std::string> label_names_;
    mutable std::mutex mutex_;
    std::optional<std::vector<std::string>> values_;
};

// One sample of a callback metric.
struct LabeledValue {
    std::vector<std::string> labels;  // one per label name
    double value = 0;
};

// All metrics of the process. Registration validates names (std::invalid_argument
// on a bad or duplicate one); render() may run concurrently with updates and with
// registration.
class Registry {
  public:
    explicit Registry(size_t max_children_per_family = default_max_children);
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // Counter names end in "_total", as Prometheus' conventions (and promtool) want.
    Family<Counter>& counter(std::string name, const std::string& help, std::vector<std::string> label_names = {});
    Family<Gauge>& gauge(std::string name, const std::string& help, std::vector<std::string> label_names = {});
    // `buckets` are upper bounds, strictly ascending and finite; "le" is not a
    // valid label name here.
    Family<Histogram>& histogram(std::string name, const std::string& help, std::vector<std::string> label_names,
                                 std::vector<double> buckets);
    InfoGauge& info(std::string name, const std::string& help, std::vector<std::string> label_names);

    // Metrics computed at scrape time (queue depth, sessions open). The function
    // runs on the scraping thread under the registry lock: keep it cheap and
    // non-blocking, and do not call back into the registry. An exception from it
    // drops that metric from the scrape and is logged; samples whose label count
    // is wrong are dropped.
    void callback_gauge(std::string name, const std::string& help, std::function<double()> fn);
    void callback_gauge(std::string name, const std::string& help, std::vector<std::string> label_names,
                        std::function<std::vector<LabeledValue>()> fn);
    void callback_counter(std::string name, const std::string& help, std::function<double()> fn);

    // Any other collector, e.g. ProcessCollector.
    void add(const std::shared_ptr<Collector>& collector);

    // Removes the collector that owns `name`. Once this returns, render() no longer
    // calls it (so a callback's captures may go away); references to children of a
    // removed family dangle. Returns false when no collector owns `name`.
    bool remove(std::string_view name);

    // Every registered family name, sorted.
    std::vector<std::string> names() const;

    // The exposition text, families sorted by name.
    std::string render() const;

  private:
    struct Entry {
        std::shared_ptr<Collector> collector;
        std::vector<std::string> families;
        std::vector<std::string> series;  // every sample name the families may write
    };
    template <typename C>
    C& add_owned(std::shared_ptr<C> collector);
    void add_locked(std::shared_ptr<Collector> collector);
    void add_callback(std::string name, const std::string& help, MetricType type, std::vector<std::string> label_names,
                      std::function<std::vector<LabeledValue>()> fn);

    const size_t max_children_;
    mutable std::mutex mutex_;
    std::vector<Entry> entries_;
};

}  // namespace pgmoat::metrics
