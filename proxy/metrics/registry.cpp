// Metric families, their children and the registry that renders them.
#include "pgmoat/metrics/registry.h"

#include "pgmoat/common/log.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>
#include <type_traits>

namespace pgmoat::metrics {

namespace {

std::vector<std::pair<std::string, std::string>> zip_labels(const std::vector<std::string>& names,
                                                            const std::vector<std::string>& values) {
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(names.size() + 1);
    for (size_t i = 0; i < names.size(); ++i) out.emplace_back(names[i], values[i]);
    return out;
}

template <typename Values>
std::vector<std::string> checked_values(const std::string& metric, size_t expected, const Values& values) {
    if (values.size() != expected)
        throw std::invalid_argument(
            fmt::format("metric {} takes {} label values, {} given", metric, expected, values.size()));
    std::vector<std::string> out;
    out.reserve(values.size());
    for (const auto& v : values) out.push_back(sanitize_utf8(v));
    return out;
}

void validate_metric_name(const std::string& name) {
    if (!is_valid_metric_name(name)) throw std::invalid_argument(fmt::format("invalid metric name \"{}\"", name));
}

void validate_label_names(const std::string& metric, const std::vector<std::string>& names, bool histogram) {
    std::set<std::string_view> seen;
    for (const auto& n : names) {
        if (!is_valid_label_name(n))
            throw std::invalid_argument(fmt::format("invalid label name \"{}\" for metric {}", n, metric));
        if (histogram && n == "le")
            throw std::invalid_argument(fmt::format("histogram {} cannot have a label named \"le\"", metric));
        if (!seen.insert(n).second)
            throw std::invalid_argument(fmt::format("label name \"{}\" repeated for metric {}", n, metric));
    }
}

// Bucket bounds rounded to 12 significant digits, so that 0.001 * 2.5^3 reads as
// le="0.015625" rather than carrying the multiplication's last-bit noise.
double tidy(double v) {
    return std::stod(fmt::format("{:.12g}", v));
}

// A metric whose samples are computed by a function at scrape time.
class CallbackCollector final : public Collector {
  public:
    CallbackCollector(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
                      std::function<std::vector<LabeledValue>()> fn)
        : name_(std::move(name)),
          help_(std::move(help)),
          type_(type),
          label_names_(std::move(label_names)),
          fn_(std::move(fn)) {}

    std::vector<Description> describe() const override { return {{name_, type_}}; }

    void collect(std::vector<MetricFamily>& out) const override {
        std::vector<LabeledValue> values;
        try {
            values = fn_();
        } catch (const std::exception& e) {
            log::warning("metric {} left out of the scrape: its callback failed: {}", name_, e.what());
            return;
        }
        MetricFamily f{name_, help_, type_, {}};
        for (auto& v : values) {
            if (v.labels.size() != label_names_.size()) continue;
            for (auto& l : v.labels) l = sanitize_utf8(l);
            f.samples.push_back({name_, zip_labels(label_names_, v.labels), v.value});
        }
        out.push_back(std::move(f));
    }

  private:
    const std::string name_;
    const std::string help_;
    const MetricType type_;
    const std::vector<std::string> label_names_;
    const std::function<std::vector<LabeledValue>()> fn_;
};

}  // namespace

// ---- Histogram ----

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds), counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::observe(double value) {
    if (std::isnan(value)) return;
    // The first bound >= value: a bucket counts observations less than or equal to its bound.
    size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
    Snapshot s;
    s.cumulative.reserve(bounds_.size() + 1);
    uint64_t total = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
        total += counts_[i].load(std::memory_order_relaxed);
        s.cumulative.push_back(total);
    }
    s.sum = sum_.load(std::memory_order_relaxed);
    return s;
}

std::vector<double> exponential_buckets(double start, double factor, size_t count) {
    if (!(start > 0) || !(factor > 1) || count == 0 || !std::isfinite(start) || !std::isfinite(factor))
        throw std::invalid_argument("exponential buckets need start > 0, factor > 1 and count >= 1");
    std::vector<double> out;
    for (size_t i = 0; i < count; ++i) out.push_back(tidy(start * std::pow(factor, static_cast<double>(i))));
    return out;
}

std::vector<double> linear_buckets(double start, double width, size_t count) {
    if (!(width > 0) || count == 0 || !std::isfinite(start) || !std::isfinite(width))
        throw std::invalid_argument("linear buckets need width > 0 and count >= 1");
    std::vector<double> out;
    for (size_t i = 0; i < count; ++i) out.push_back(tidy(start + width * static_cast<double>(i)));
    return out;
}

// ---- Family ----

template <typename T>
Family<T>::Family(std::string name, std::string help, std::vector<std::string> label_names, size_t max_children,
                  std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      max_children_(std::max<size_t>(max_children, 1)),
      bounds_(std::move(bounds)) {
    // A metric without labels exists from the start, so it reads 0 before its first event.
    if (label_names_.empty()) child({});
}

template <typename T>
T& Family<T>::labels(std::initializer_list<std::string_view> values) {
    return child(checked_values(name_, label_names_.size(), values));
}

template <typename T>
T& Family<T>::labels(std::span<const std::string> values) {
    return child(checked_values(name_, label_names_.size(), values));
}

template <typename T>
T& Family<T>::child(std::vector<std::string> values) {
    std::lock_guard lock(mutex_);
    if (auto it = children_.find(values); it != children_.end()) return *it->second;
    if (children_.size() >= max_children_) {
        if (!overflowed_) {
            overflowed_ = true;
            log::warning("metric {} reached {} label combinations; counting further ones under \"overflow\"", name_,
                         max_children_);
        }
        values.assign(label_names_.size(), "overflow");
        if (auto it = children_.find(values); it != children_.end()) return *it->second;
    }
    std::unique_ptr<T> c;
    if constexpr (std::is_same_v<T, Histogram>)
        c = std::make_unique<Histogram>(bounds_);
    else
        c = std::make_unique<T>();
    return *children_.emplace(std::move(values), std::move(c)).first->second;
}

template <typename T>
size_t Family<T>::size() const {
    std::lock_guard lock(mutex_);
    return children_.size();
}

template <typename T>
std::vector<Collector::Description> Family<T>::describe() const {
    if constexpr (std::is_same_v<T, Counter>)
        return {{name_, MetricType::counter}};
    else if constexpr (std::is_same_v<T, Gauge>)
        return {{name_, MetricType::gauge}};
    else
        return {{name_, MetricType::histogram}};
}

template <typename T>
void Family<T>::collect(std::vector<MetricFamily>& out) const {
    MetricFamily f{name_, help_, describe().front().type, {}};
    std::lock_guard lock(mutex_);
    for (const auto& [values, c] : children_) {
        auto labels = zip_labels(label_names_, values);
        if constexpr (std::is_same_v<T, Histogram>) {
            auto snap = c->snapshot();
            const std::string bucket = name_ + "_bucket";
            for (size_t i = 0; i <= bounds_.size(); ++i) {
                auto with_le = labels;
                with_le.emplace_back("le", i < bounds_.size() ? format_value(bounds_[i]) : "+Inf");
                f.samples.push_back({bucket, std::move(with_le), static_cast<double>(snap.cumulative[i])});
            }
            f.samples.push_back({name_ + "_sum", labels, snap.sum});
            f.samples.push_back({name_ + "_count", std::move(labels), static_cast<double>(snap.count())});
        } else {
            f.samples.push_back({name_, std::move(labels), static_cast<double>(c->value())});
        }
    }
    out.push_back(std::move(f));
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---- InfoGauge ----

InfoGauge::InfoGauge(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

void InfoGauge::set(std::span<const std::string> values) {
    auto v = checked_values(name_, label_names_.size(), values);
    std::lock_guard lock(mutex_);
    values_ = std::move(v);
}

void InfoGauge::set(std::initializer_list<std::string_view> values) {
    auto v = checked_values(name_, label_names_.size(), values);
    std::lock_guard lock(mutex_);
    values_ = std::move(v);
}

void InfoGauge::clear() {
    std::lock_guard lock(mutex_);
    values_.reset();
}

void InfoGauge::collect(std::vector<MetricFamily>& out) const {
    MetricFamily f{name_, help_, MetricType::gauge, {}};
    std::lock_guard lock(mutex_);
    if (values_) f.samples.push_back({name_, zip_labels(label_names_, *values_), 1});
    out.push_back(std::move(f));
}

// ---- Registry ----

Registry::Registry(size_t max_children_per_family) : max_children_(max_children_per_family) {}

template <typename C>
C& Registry::add_owned(std::shared_ptr<C> collector) {
    C& ref = *collector;
    add(std::move(collector));
    return ref;
}

Family<Counter>& Registry::counter(std::string name, const std::string& help, std::vector<std::string> label_names) {
    validate_metric_name(name);
    if (!name.ends_with("_total"))
        throw std::invalid_argument(fmt::format("counter {} must be named with the suffix _total", name));
    validate_label_names(name, label_names, false);
    return add_owned(
        std::make_shared<Family<Counter>>(std::move(name), sanitize_utf8(help), std::move(label_names), max_children_));
}

Family<Gauge>& Registry::gauge(std::string name, const std::string& help, std::vector<std::string> label_names) {
    validate_metric_name(name);
    validate_label_names(name, label_names, false);
    return add_owned(
        std::make_shared<Family<Gauge>>(std::move(name), sanitize_utf8(help), std::move(label_names), max_children_));
}

Family<Histogram>& Registry::histogram(std::string name, const std::string& help, std::vector<std::string> label_names,
                                       std::vector<double> buckets) {
    validate_metric_name(name);
    validate_label_names(name, label_names, true);
    // A trailing +Inf is what every bucket list ends with anyway.
    if (!buckets.empty() && buckets.back() == INFINITY) buckets.pop_back();
    for (size_t i = 0; i < buckets.size(); ++i) {
        if (!std::isfinite(buckets[i]))
            throw std::invalid_argument(fmt::format("histogram {} has a bucket bound that is not finite", name));
        if (i > 0 && !(buckets[i - 1] < buckets[i]))
            throw std::invalid_argument(fmt::format("histogram {} bucket bounds must be strictly ascending", name));
    }
    return add_owned(std::make_shared<Family<Histogram>>(std::move(name), sanitize_utf8(help), std::move(label_names),
                                                         max_children_, std::move(buckets)));
}

InfoGauge& Registry::info(std::string name, const std::string& help, std::vector<std::string> label_names) {
    validate_metric_name(name);
    validate_label_names(name, label_names, false);
    return add_owned(std::make_shared<InfoGauge>(std::move(name), sanitize_utf8(help), std::move(label_names)));
}

void Registry::add_callback(std::string name, const std::string& help, MetricType type,
                            std::vector<std::string> label_names, std::function<std::vector<LabeledValue>()> fn) {
    validate_metric_name(name);
    if (type == MetricType::counter && !name.ends_with("_total"))
        throw std::invalid_argument(fmt::format("counter {} must be named with the suffix _total", name));
    validate_label_names(name, label_names, false);
    if (!fn) throw std::invalid_argument(fmt::format("metric {} needs a callback", name));
    add(std::make_shared<CallbackCollector>(std::move(name), sanitize_utf8(help), type, std::move(label_names),
                                            std::move(fn)));
}

void Registry::callback_gauge(std::string name, const std::string& help, std::function<double()> fn) {
    if (!fn) throw std::invalid_argument(fmt::format("metric {} needs a callback", name));
    add_callback(std::move(name), help, MetricType::gauge, {}, [fn = std::move(fn)] {
        return std::vector<LabeledValue>{{{}, fn()}};
    });
}

void Registry::callback_gauge(std::string name, const std::string& help, std::vector<std::string> label_names,
                              std::function<std::vector<LabeledValue>()> fn) {
    add_callback(std::move(name), help, MetricType::gauge, std::move(label_names), std::move(fn));
}

void Registry::callback_counter(std::string name, const std::string& help, std::function<double()> fn) {
    if (!fn) throw std::invalid_argument(fmt::format("metric {} needs a callback", name));
    add_callback(std::move(name), help, MetricType::counter, {}, [fn = std::move(fn)] {
        return std::vector<LabeledValue>{{{}, fn()}};
    });
}

void Registry::add(const std::shared_ptr<Collector>& collector) {
    if (!collector) throw std::invalid_argument("null metrics collector");
    Entry e{collector, {}, {}};
    for (auto& d : collector->describe()) {
        validate_metric_name(d.name);
        e.families.push_back(d.name);
        e.series.push_back(d.name);
        if (d.type == MetricType::histogram)
            for (const char* suffix : {"_bucket", "_sum", "_count"}) e.series.push_back(d.name + suffix);
    }
    std::lock_guard lock(mutex_);
    std::set<std::string_view> taken;
    for (const auto& other : entries_) taken.insert(other.series.begin(), other.series.end());
    for (const auto& s : e.series)
        if (!taken.insert(s).second)
            throw std::invalid_argument(fmt::format("metric name {} is already registered", s));
    entries_.push_back(std::move(e));
}

bool Registry::remove(std::string_view name) {
    std::shared_ptr<Collector> doomed;  // destroyed after the lock is released
    {
        std::lock_guard lock(mutex_);
        auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) {
            return std::find(e.families.begin(), e.families.end(), name) != e.families.end();
        });
        if (it == entries_.end()) return false;
        doomed = std::move(it->collector);
        entries_.erase(it);
    }
    return true;
}

std::vector<std::string> Registry::names() const {
    std::vector<std::string> out;
    {
        std::lock_guard lock(mutex_);
        for (const auto& e : entries_) out.insert(out.end(), e.families.begin(), e.families.end());
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string Registry::render() const {
    std::vector<MetricFamily> families;
    {
        std::lock_guard lock(mutex_);
        for (const auto& e : entries_) e.collector->collect(families);
    }
    std::stable_sort(families.begin(), families.end(),
                     [](const MetricFamily& a, const MetricFamily& b) { return a.name < b.name; });
    return metrics::render(families);
}

}  // namespace pgmoat::metrics
