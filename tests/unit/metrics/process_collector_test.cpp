// The standard process metrics, checked against what this very process is doing.
#include "pgmoat/metrics/process_collector.h"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace pgmoat::metrics;

namespace {

// name -> value for every unlabelled sample line of an exposition.
std::map<std::string, double> samples(const std::string& text) {
    std::map<std::string, double> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        auto space = line.rfind(' ');
        out[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
    return out;
}

}  // namespace

TEST_CASE("the process collector reports plausible values for this process") {
    Registry r;
    r.add(std::make_shared<ProcessCollector>());
    std::string text = r.render();
    auto s = samples(text);
    REQUIRE(s.count("process_resident_memory_bytes"));
    REQUIRE(s.count("process_virtual_memory_bytes"));
    REQUIRE(s.count("process_open_fds"));
    REQUIRE(s.count("process_max_fds"));
    REQUIRE(s.count("process_start_time_seconds"));
    REQUIRE(s.count("process_cpu_seconds_total"));
    CHECK(s["process_resident_memory_bytes"] > 1024 * 1024);
    CHECK(s["process_virtual_memory_bytes"] >= s["process_resident_memory_bytes"]);
    CHECK(s["process_open_fds"] >= 3);  // stdin, stdout, stderr at least
    CHECK(s["process_max_fds"] >= s["process_open_fds"]);
    CHECK(s["process_cpu_seconds_total"] >= 0);
    double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    CHECK(s["process_start_time_seconds"] <= now + 1);
    CHECK(s["process_start_time_seconds"] > now - 24 * 3600);  // a unit test run is younger than a day
    CHECK(text.find("# TYPE process_cpu_seconds_total counter\n") != std::string::npos);
    CHECK(text.find("# TYPE process_open_fds gauge\n") != std::string::npos);
}

TEST_CASE("process_open_fds follows descriptors being opened and closed") {
    Registry r;
    r.add(std::make_shared<ProcessCollector>());
    double before = samples(r.render())["process_open_fds"];
    std::vector<int> fds;
    for (int i = 0; i < 5; ++i) fds.push_back(open("/dev/null", O_RDONLY));
    double during = samples(r.render())["process_open_fds"];
    for (int fd : fds) close(fd);
    double after = samples(r.render())["process_open_fds"];
    CHECK(during == before + 5);
    CHECK(after == before);
}

TEST_CASE("the process metric names are reserved like any other") {
    Registry r;
    r.add(std::make_shared<ProcessCollector>());
    CHECK_THROWS_AS(r.gauge("process_open_fds", "x"), std::invalid_argument);
    CHECK_THROWS_AS(r.add(std::make_shared<ProcessCollector>()), std::invalid_argument);
}
