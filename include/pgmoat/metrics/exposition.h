// The Prometheus text exposition format 0.0.4: the snapshot a collector hands over
// at scrape time, and its rendering. Nothing here touches live metrics.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgmoat::metrics {

// What /metrics is served as.
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { counter, gauge, histogram, untyped };

// One line of output: `name{label="value",...} value`. For a histogram the name
// carries the series suffix (_bucket, _sum, _count).
struct Sample {
    std::string name;
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
};

// One `# HELP` / `# TYPE` block and its samples, in the order they are written.
struct MetricFamily {
    std::string name;
    std::string help;
    MetricType type = MetricType::untyped;
    std::vector<Sample> samples;
};

// Renders families in the order given; a family without samples is left out, as
// the Go client does. Registry::render sorts them by name first.
std::string render(const std::vector<MetricFamily>& families);
void render_to(std::string& out, const MetricFamily& family);

// Numbers as Prometheus parses them: integral values without exponent or fraction
// ("42", not "4.2e+01"), others in the shortest form that reads back exactly,
// and "+Inf", "-Inf", "NaN".
std::string format_value(double value);

// `\` and newline escaped, as `# HELP` text wants.
std::string escape_help(std::string_view text);
// `\`, `"` and newline escaped, as a quoted label value wants.
std::string escape_label_value(std::string_view text);

// Prometheus rejects a whole scrape over one label value that is not UTF-8, so
// invalid sequences are replaced by U+FFFD before they are stored.
std::string sanitize_utf8(std::string_view text);

// Prometheus' naming rules: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names
// [a-zA-Z_][a-zA-Z0-9_]* with names starting "__" reserved for Prometheus itself.
bool is_valid_metric_name(std::string_view name);
bool is_valid_label_name(std::string_view name);

}  // namespace pgmoat::metrics
