// The [audit] table of pgmoat.toml into audit::Options (keys.h has its keys).
#include "pgmoat/audit/options.h"
#include "pgmoat/common/secret_file.h"
#include "pgmoat/config/config.h"

#include "section.h"

namespace pgmoat::config {

audit::Options read_audit_options(TomlTable& table, const std::string& base_dir,
                                  std::map<std::string, std::string>* settings) {
    std::map<std::string, std::string> unused;
    Section t(table, settings ? *settings : unused);
    audit::Options o = audit::default_options(base_dir);
    if (auto v = t.boolean("enabled")) o.enabled = *v;
    if (auto v = t.string("path")) {
        if (v->empty()) t.fail("path", "must not be empty (use \"-\" for stdout)");
        o.path = audit::resolve(base_dir, *v);
    }
    if (auto v = t.string("fsync"))
        o.fsync = *v == "every_record" ? audit::FsyncMode::every_record : audit::FsyncMode::interval;
    if (auto v = t.duration("fsync_interval")) {
        if (o.fsync != audit::FsyncMode::interval) t.fail("fsync_interval", "applies only with fsync = \"interval\"");
        o.fsync_interval = *v;
    }
    if (auto v = t.string("failure_policy"))
        o.failure_policy = *v == "block" ? audit::FailurePolicy::block : audit::FailurePolicy::continue_;
    if (auto v = t.integer("queue_records")) o.queue_records = static_cast<uint64_t>(*v);
    if (auto v = t.size("queue_bytes")) o.queue_bytes = *v;
    if (auto v = t.string("hmac_key_file")) {
        if (v->empty()) t.fail("hmac_key_file", "must not be empty");
        o.hmac_key_file = audit::resolve(base_dir, *v);
        o.hmac_key = read_secret_file(o.hmac_key_file, "audit HMAC key file");
        if (o.hmac_key->size() < 16) {
            t.fail("hmac_key_file", "the key is too short: use at least 16 bytes, e.g. `openssl rand -hex 32`");
        }
    }
    t.reject_unknown_keys();
    return o;
}

}  // namespace pgmoat::config
