// The [audit] section of pgmoat.toml: where the audit log goes, how it is synced
// and what happens when it cannot be written (audit_log.h says what each means);
// config/keys.h has the keys that set them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace pgmoat::audit {

enum class FsyncMode : uint8_t { every_record, interval };
enum class FailurePolicy : uint8_t { block, continue_ };

struct Options {
    bool enabled = true;
    std::string path = "pgmoat-audit.jsonl";  // resolved against the config file's directory; "-": stdout
    FsyncMode fsync = FsyncMode::interval;
    std::chrono::milliseconds fsync_interval{100};
    FailurePolicy failure_policy = FailurePolicy::block;
    uint64_t queue_records = 65536;                 // capacity of the queue in records
    uint64_t queue_bytes = 64ull << 20;             // and in (approximate) bytes
    std::string hmac_key_file;                      // empty: chain with plain SHA-256
    std::optional<std::string> hmac_key;            // read from hmac_key_file; never logged
    std::chrono::milliseconds retry_interval{250};  // not configurable in pgmoat.toml

    bool operator==(const Options&) const = default;
};

// A path of the [audit] table resolved against base_dir (the config file's
// directory); "-" (stdout) and absolute paths stay as written.
std::string resolve(const std::string& base_dir, const std::string& p);

// Defaults, with the path resolved against base_dir (the config file's directory).
Options default_options(const std::string& base_dir);

}  // namespace pgmoat::audit
