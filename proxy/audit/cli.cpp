// `pgmoat audit verify [--key FILE] FILE...`: checks the hash chain of audit logs.
#include "pgmoat/audit/cli.h"

#include "pgmoat/audit/chain.h"
#include "pgmoat/common/config_error.h"
#include "pgmoat/common/secret_file.h"

#include <fmt/format.h>

#include <optional>
#include <ostream>

namespace pgmoat::audit {

namespace {

constexpr const char* kUsage =
    "usage: pgmoat audit verify [--key FILE] AUDIT_FILE...\n"
    "\n"
    "Checks the hash chain of pgmoat audit logs (JSON Lines) and reports the first\n"
    "record that was modified, removed, inserted or reordered, with its line number.\n"
    "\n"
    "  AUDIT_FILE...   the files in order, oldest first: rotated files first, the\n"
    "                  current file last (e.g. audit.jsonl.2 audit.jsonl.1 audit.jsonl)\n"
    "  --key FILE      the HMAC key file, when the log is written with [audit] hmac_key_file\n"
    "\n"
    "Exit status: 0 when every file verifies, 1 when the chain is broken or a file\n"
    "cannot be verified, 2 on a usage error.\n"
    "Removing lines from the very end of the newest file leaves no break in the chain:\n"
    "compare the last seq and chain with those pgmoat logs when it reopens or stops.\n";

int verify_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    std::optional<std::string> key_file;
    std::vector<std::string> files;
    bool options_done = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (!options_done && a == "--") {
            options_done = true;
        } else if (!options_done && (a == "--help" || a == "-h")) {
            out << kUsage;
            return 0;
        } else if (!options_done && a == "--key") {
            if (i + 1 >= args.size()) {
                err << "pgmoat audit verify: --key needs a file\n" << kUsage;
                return 2;
            }
            key_file = args[++i];
        } else if (!options_done && a.rfind("--key=", 0) == 0) {
            key_file = a.substr(6);
        } else if (!options_done && a.size() > 1 && a[0] == '-') {
            err << "pgmoat audit verify: unknown option " << a << "\n" << kUsage;
            return 2;
        } else {
            files.push_back(a);
        }
    }
    if (files.empty()) {
        err << "pgmoat audit verify: no audit files given\n" << kUsage;
        return 2;
    }
    std::optional<std::string> key;
    if (key_file) {
        try {
            key = read_secret_file(*key_file, "audit HMAC key file");
        } catch (const ConfigError& e) {
            err << "pgmoat audit verify: " << e.what() << "\n";
            return 2;
        }
    }
    VerifyResult r = verify(files, key);
    if (!r.ok()) {
        out << "FAILED: " << r.message << "\n";
        out << fmt::format("({} record(s) verified before it{})\n", r.records,
                           r.records ? fmt::format(", the last at seq {}", r.last_seq) : "");
        return 1;
    }
    out << fmt::format("ok: {} record(s) in {} file(s), {}; last seq {}, chain {}\n", r.records, r.files,
                       key ? "HMAC-SHA-256 with the key given" : "SHA-256", r.last_seq, r.head);
    if (!r.continues_from.empty()) {
        out << fmt::format("note: the first file continues from {}, which was not verified\n", r.continues_from);
    }
    return 0;
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    if (args.empty()) {
        err << kUsage;
        return 2;
    }
    const std::string& command = args[0];
    if (command == "--help" || command == "-h" || command == "help") {
        out << kUsage;
        return 0;
    }
    if (command == "verify") return verify_command(std::vector<std::string>(args.begin() + 1, args.end()), out, err);
    err << "pgmoat audit: unknown command \"" << command << "\"\n" << kUsage;
    return 2;
}

}  // namespace pgmoat::audit
