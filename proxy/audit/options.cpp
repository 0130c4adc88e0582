// The [audit] section of pgmoat.toml.
#include "pgmoat/audit/options.h"

#include "pgmoat/common/secret_file.h"
#include "pgmoat/common/toml_reader.h"

#include <filesystem>

namespace pgmoat::audit {

namespace fs = std::filesystem;

namespace {
std::string resolve(const std::string& base_dir, const std::string& p) {
    if (p.empty() || p == "-" || fs::path(p).is_absolute() || base_dir.empty()) return p;
    return (fs::path(base_dir) / p).lexically_normal().string();
}
}  // namespace

Options default_options(const std::string& base_dir) {
    Options o;
    o.path = resolve(base_dir, o.path);
    return o;
}

Options read_options(TomlTable& t, const std::string& base_dir) {
    Options o = default_options(base_dir);
    if (auto v = t.boolean("enabled")) o.enabled = *v;
    if (auto v = t.string("path")) {
        if (v->empty()) t.fail("path", "must not be empty (use \"-\" for stdout)");
        o.path = resolve(base_dir, *v);
    }
    if (auto v = t.string("fsync")) {
        if (*v == "every_record")
            o.fsync = FsyncMode::every_record;
        else if (*v == "interval")
            o.fsync = FsyncMode::interval;
        else
            t.fail("fsync", "expected \"every_record\" or \"interval\"");
    }
    if (auto v = t.duration("fsync_interval")) {
        if (o.fsync != FsyncMode::interval) t.fail("fsync_interval", "applies only with fsync = \"interval\"");
        if (v->count() < 1 || v->count() > 60'000) t.fail("fsync_interval", "must be between 1ms and 60s");
        o.fsync_interval = *v;
    }
    if (auto v = t.string("failure_policy")) {
        if (*v == "block")
            o.failure_policy = FailurePolicy::block;
        else if (*v == "continue")
            o.failure_policy = FailurePolicy::continue_;
        else
            t.fail("failure_policy",
                   "expected \"block\" (refuse statements while the log cannot be written) or \"continue\"");
    }
    if (auto v = t.integer("queue_records", 16, 100'000'000)) o.queue_records = static_cast<uint64_t>(*v);
    if (auto v = t.size("queue_bytes")) {
        if (*v < (64u << 10) || *v > (16ull << 30)) t.fail("queue_bytes", "must be between 64kB and 16GB");
        o.queue_bytes = *v;
    }
    if (auto v = t.string("hmac_key_file")) {
        if (v->empty()) t.fail("hmac_key_file", "must not be empty");
        o.hmac_key_file = resolve(base_dir, *v);
        o.hmac_key = read_secret_file(o.hmac_key_file, "audit HMAC key file");
        if (o.hmac_key->size() < 16) {
            t.fail("hmac_key_file", "the key is too short: use at least 16 bytes, e.g. `openssl rand -hex 32`");
        }
    }
    t.reject_unknown_keys();
    return o;
}

}  // namespace pgmoat::audit
