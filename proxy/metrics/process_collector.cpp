// Process metrics from /proc/self, named and described as client_golang does.
#include "pgmoat/metrics/process_collector.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace pgmoat::metrics {

namespace {

struct Stat {
    double utime_ticks = 0;
    double stime_ticks = 0;
    double start_ticks = 0;  // since boot
    double vsize_bytes = 0;
    double rss_pages = 0;
};

// /proc/self/stat: the command name (field 2) is in parentheses and may itself
// contain spaces and parentheses, so fields are counted from the last ')'.
std::optional<Stat> read_stat() {
    std::ifstream in("/proc/self/stat");
    std::string line;
    if (!std::getline(in, line)) return std::nullopt;
    auto close = line.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(line.substr(close + 1));
    std::string f;
    Stat s;
    // Field 3 (state) is the first after ')'.
    for (int n = 3; fields >> f; ++n) {
        switch (n) {
            case 14:
                s.utime_ticks = std::strtod(f.c_str(), nullptr);
                break;
            case 15:
                s.stime_ticks = std::strtod(f.c_str(), nullptr);
                break;
            case 22:
                s.start_ticks = std::strtod(f.c_str(), nullptr);
                break;
            case 23:
                s.vsize_bytes = std::strtod(f.c_str(), nullptr);
                break;
            case 24:
                s.rss_pages = std::strtod(f.c_str(), nullptr);
                return s;
            default:
                break;
        }
    }
    return std::nullopt;
}

std::optional<double> boot_time_seconds() {
    std::ifstream in("/proc/stat");
    std::string key;
    double value = 0;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        if (ls >> key >> value && key == "btime") return value;
    }
    return std::nullopt;
}

std::optional<double> open_fds() {
    DIR* dir = opendir("/proc/self/fd");
    if (!dir) return std::nullopt;
    std::string own = std::to_string(dirfd(dir));  // the descriptor doing the listing is not ours to count
    double n = 0;
    while (auto* e = readdir(dir)) {
        std::string_view name = e->d_name;
        if (name != "." && name != ".." && name != own) ++n;
    }
    closedir(dir);
    return n;
}

MetricFamily gauge(const char* name, const char* help, double v) {
    return {name, help, MetricType::gauge, {{name, {}, v}}};
}

}  // namespace

ProcessCollector::ProcessCollector() {
    auto stat = read_stat();
    auto boot = boot_time_seconds();
    long ticks = sysconf(_SC_CLK_TCK);
    if (stat && boot && ticks > 0) start_time_seconds_ = *boot + stat->start_ticks / static_cast<double>(ticks);
}

std::vector<Collector::Description> ProcessCollector::describe() const {
    return {{"process_cpu_seconds_total", MetricType::counter},
            {"process_open_fds", MetricType::gauge},
            {"process_max_fds", MetricType::gauge},
            {"process_virtual_memory_bytes", MetricType::gauge},
            {"process_resident_memory_bytes", MetricType::gauge},
            {"process_start_time_seconds", MetricType::gauge}};
}

void ProcessCollector::collect(std::vector<MetricFamily>& out) const {
    long ticks = sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);
    if (auto s = read_stat(); s && ticks > 0 && page > 0) {
        out.push_back(
            {"process_cpu_seconds_total",
             "Total user and system CPU time spent in seconds.",
             MetricType::counter,
             {{"process_cpu_seconds_total", {}, (s->utime_ticks + s->stime_ticks) / static_cast<double>(ticks)}}});
        out.push_back(gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", s->vsize_bytes));
        out.push_back(gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
                            s->rss_pages * static_cast<double>(page)));
    }
    if (auto n = open_fds()) out.push_back(gauge("process_open_fds", "Number of open file descriptors.", *n));
    if (rlimit r{}; getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur != RLIM_INFINITY)
        out.push_back(
            gauge("process_max_fds", "Maximum number of open file descriptors.", static_cast<double>(r.rlim_cur)));
    if (start_time_seconds_ >= 0)
        out.push_back(gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                            start_time_seconds_));
}

}  // namespace pgmoat::metrics
