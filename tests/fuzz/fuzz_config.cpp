// Config target: config::parse_config on arbitrary text. Only ConfigError may
// escape, and it must name the file and a line within the text. The harness runs
// in a scratch directory with a password file, so password_file = "pw" loads.
// Paths that would block or never end (devices, FIFOs) are not the fuzzer's
// business: inputs naming /dev, /proc or /sys are skipped.
#include "fuzz_common.h"

#include "pgmoat/common/config_error.h"

using namespace pgmoat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    static const std::string file = [] {
        std::string dir = fuzz::scratch_dir() + "/config";
        std::filesystem::create_directories(dir);
        fuzz::write_file(dir + "/pw", "upstream-secret\n");
        ::setenv("PGMOAT_FUZZ_PASSWORD", "from-env", 1);
        return dir + "/pgmoat.toml";
    }();
    std::string text(reinterpret_cast<const char*>(bytes), size);
    if (text.find("/dev") != std::string::npos || text.find("/proc") != std::string::npos ||
        text.find("/sys") != std::string::npos || text.find("..") != std::string::npos) {
        return 0;
    }
    try {
        config::Config c = config::parse_config(text, file);
        FUZZ_CHECK(!c.targets.empty() && !c.credentials_file.empty(), "config without targets or credentials");
        for (const auto& [name, app] : c.apps) {
            for (const auto& t : app.targets) FUZZ_CHECK(c.find_target(t), "app grants an unknown target");
        }
        FUZZ_CHECK(c.server.max_message_bytes >= 1024, "max_message_size below 1kB");
    } catch (const ConfigError& e) {
        FUZZ_CHECK(!e.message().empty(), "ConfigError without a message");
        size_t lines = 1 + static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
        FUZZ_CHECK(e.line() >= 0 && static_cast<size_t>(e.line()) <= lines + 1, "error on line %d of %zu", e.line(),
                   lines);
    }
    return 0;
}
