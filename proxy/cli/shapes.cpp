// `pgmoat learn --lock FILE` and `pgmoat shapes list|diff|approve|remove|check`:
// the shape lock workflow. Learning reads monitor-mode audit records (whose chain
// it verifies first: a lock learned from an edited log would approve what the
// editor wrote), and every command's output is stable, so CI and reviews can
// compare it. Exit codes: 0 ok, 1 differences or findings, 2 usage or file errors.
#include "commands.h"

#include "pgmoat/audit/cli.h"
#include "pgmoat/audit/json.h"
#include "pgmoat/config/config.h"
#include "pgmoat/policy/decision.h"
#include "pgmoat/policy/loader.h"
#include "pgmoat/shapes/learn.h"
#include "pgmoat/sql/analyzer.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace pgmoat::cli {

namespace {

struct Options {
    std::string lock;
    std::string app;
    std::string target;
    std::string report;
    std::string key;
    std::string config;
    std::string policies;
    std::vector<std::string> known;
    std::vector<std::string> audit_files;
    std::vector<std::string> rest;  // free arguments after the lock (fingerprints for remove)
    std::set<uint64_t> fingerprints;
    uint64_t min_observations = shapes::kDefaultMinObservations;
    bool verify = true;
    bool bad = false;
};

std::optional<uint64_t> parse_fingerprint(const std::string& s) {
    if (s.size() != 16 || s.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
    return std::stoull(s, nullptr, 16);
}

// Options common to the commands; `files_are_audit`: free arguments are audit files.
Options parse(const Args& args, size_t from, bool files_are_audit) {
    Options o;
    for (size_t i = from; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= args.size()) {
                o.bad = true;
                return {};
            }
            return args[++i];
        };
        if (a == "--lock")
            o.lock = next();
        else if (a == "--app")
            o.app = next();
        else if (a == "--target")
            o.target = next();
        else if (a == "--report")
            o.report = next();
        else if (a == "--known")
            o.known.push_back(next());
        else if (a == "--key")
            o.key = next();
        else if (a == "--no-verify")
            o.verify = false;
        else if (a == "-c" || a == "--config")
            o.config = next();
        else if (a == "--policies")
            o.policies = next();
        else if (a == "--fingerprint") {
            auto fp = parse_fingerprint(next());
            if (!fp)
                o.bad = true;
            else
                o.fingerprints.insert(*fp);
        } else if (a == "--min-observations") {
            std::string n = next();
            if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos || n.size() > 9 ||
                std::stoul(n) == 0)
                o.bad = true;
            else
                o.min_observations = std::stoul(n);
        } else if (!a.empty() && a[0] == '-')
            o.bad = true;
        else if (files_are_audit)
            o.audit_files.push_back(a);
        else
            o.rest.push_back(a);
    }
    return o;
}

void write_text(const std::string& path, const std::string& text) {
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        if (!out.flush()) throw ConfigError(path, 0, 0, "cannot write file");
    }
    std::filesystem::rename(tmp, path);
}

// The lock at `path`, or an empty one when the file does not exist yet.
shapes::ShapeLock read_lock_or_empty(const std::string& path) {
    if (!std::filesystem::exists(path)) return {};
    return shapes::read_lock_files({path});
}

std::optional<shapes::ShapeLock> read_known(const Options& o) {
    if (o.known.empty()) return std::nullopt;
    return shapes::read_lock_files(o.known);
}

// Feeds every executed statement of the audit files to the learner. Records of
// statements that never ran (rejected) teach nothing.
bool learn_from_audit(const Options& o, shapes::Learner& learner, uint64_t& records) {
    if (o.verify) {
        std::vector<std::string> args = {"verify"};
        if (!o.key.empty()) args.insert(args.end(), {"--key", o.key});
        args.insert(args.end(), o.audit_files.begin(), o.audit_files.end());
        std::ostringstream out, err;
        if (audit::run_cli(args, out, err) != 0) {
            std::fprintf(stderr,
                         "pgmoat: the audit log does not verify, so it is not learned from:\n%s%s"
                         "(pass every file of the chain in order, the HMAC key with --key, or --no-verify)\n",
                         out.str().c_str(), err.str().c_str());
            return false;
        }
    }
    for (const auto& file : o.audit_files) {
        std::ifstream in(file);
        if (!in) {
            std::fprintf(stderr, "pgmoat: cannot read %s\n", file.c_str());
            return false;
        }
        std::string line;
        while (std::getline(in, line)) {
            auto v = audit::json::parse(line);
            if (!v) continue;
            auto* event = v->find("event");
            if (!event || event->text != "statement") continue;
            auto* app = v->find("app");
            if (!o.app.empty() && (!app || app->text != o.app)) continue;
            auto* target = v->find("target");
            if (!o.target.empty() && (!target || target->text != o.target)) continue;
            auto* decision = v->find("decision");
            if (decision && decision->text == "reject") continue;
            auto* fp_text = v->find("fingerprint");
            auto fp = fp_text ? parse_fingerprint(fp_text->text) : std::nullopt;
            if (!fp) continue;
            uint64_t session = 0;
            if (auto* s = v->find("session")) session = static_cast<uint64_t>(s->integer().value_or(0));
            auto* time = v->find("time");
            std::string date = time && time->text.size() >= 10 ? time->text.substr(0, 10) : std::string();
            ++records;
            auto* raw = v->find("raw_statement");
            if (raw && raw->is_string()) {
                // Analyzed again by the proxy's own analyzer: the values are where it says.
                auto a = sql::analyze(raw->text);
                bool found = false;
                for (const auto& st : a.statements) {
                    if (st.fingerprint != *fp || found) continue;
                    learner.add(st, raw->text, session, date);
                    found = true;
                }
                if (found) continue;
            }
            // Without raw text: the normalized text still tells the statement's kind.
            auto* text = v->find("statement");
            if (!text) continue;
            auto a = sql::analyze(text->text);
            if (a.ok() && a.statements.size() == 1 && !shapes::needs_shape(a.statements[0])) continue;
            learner.add_shape(*fp, text->text, session, date);
        }
    }
    return true;
}

int usage_error(const char* usage) {
    std::fprintf(stderr, "usage: %s\n", usage);
    return 2;
}

constexpr const char* kLearnUsage =
    "pgmoat learn --lock LOCK_FILE [--app NAME] [--target NAME] [--known LOCK_FILE]… [--report FILE] "
    "[--min-observations N] "
    "[--key FILE | --no-verify] AUDIT_FILE…";
constexpr const char* kShapesUsage =
    "pgmoat shapes list LOCK_FILE…\n"
    "       pgmoat shapes diff LOCK_FILE [--app NAME] [--target NAME] [--known LOCK_FILE]… [--key FILE | --no-verify] "
    "AUDIT_FILE…\n"
    "       pgmoat shapes approve LOCK_FILE [--fingerprint FP]… [--app NAME] [--target NAME] [--known LOCK_FILE]… "
    "[--min-observations N] "
    "[--key FILE | --no-verify] AUDIT_FILE…\n"
    "       pgmoat shapes remove LOCK_FILE FINGERPRINT…\n"
    "       pgmoat shapes check [-c pgmoat.toml | --policies DIR]";

int list(const Args& args) {
    if (args.size() < 2) return usage_error(kShapesUsage);
    auto lock = shapes::read_lock_files(Args(args.begin() + 1, args.end()));
    for (const auto& [fp, s] : lock.shapes) {
        std::string constants;
        for (const auto& c : s.constants)
            constants += fmt::format("{}${}={}", constants.empty() ? "" : " ", c.position, c.value);
        std::printf("%s  %s%s%s\n", sql::fingerprint_hex(fp).c_str(), s.statement.c_str(),
                    constants.empty() ? "" : ("  [constants: " + constants + "]").c_str(),
                    s.spliced.empty() ? "" : "  [spliced values]");
    }
    std::fprintf(stderr, "%zu shape%s\n", lock.shapes.size(), lock.shapes.size() == 1 ? "" : "s");
    return 0;
}

int diff_command(const Args& args) {
    if (args.size() < 2) return usage_error(kShapesUsage);
    Options o = parse(args, 2, true);
    if (o.bad || o.audit_files.empty()) return usage_error(kShapesUsage);
    auto lock = shapes::read_lock_files({args[1]});
    auto known = read_known(o);
    shapes::Learner run;
    uint64_t records = 0;
    if (!learn_from_audit(o, run, records)) return 2;
    auto entries = shapes::diff(lock, run, known ? &*known : nullptr);
    std::fputs(shapes::format_diff(entries).c_str(), stdout);
    size_t changes = 0;
    for (const auto& e : entries) changes += e.kind != shapes::DiffEntry::Kind::unseen;
    std::fprintf(stderr, "%zu change%s against %s (%llu statement records)\n", changes, changes == 1 ? "" : "s",
                 args[1].c_str(), static_cast<unsigned long long>(records));
    return changes ? 1 : 0;
}

int approve(const Args& args) {
    if (args.size() < 2) return usage_error(kShapesUsage);
    Options o = parse(args, 2, true);
    if (o.bad || o.audit_files.empty()) return usage_error(kShapesUsage);
    const std::string& path = args[1];
    auto lock = read_lock_or_empty(path);
    auto known = read_known(o);
    shapes::Learner run;
    uint64_t records = 0;
    if (!learn_from_audit(o, run, records)) return 2;
    std::set<uint64_t> added;
    for (const auto& [fp, s] : run.shapes()) {
        if (lock.find(fp) || (known && known->find(fp))) continue;
        if (o.fingerprints.empty() || o.fingerprints.count(fp)) added.insert(fp);
    }
    for (uint64_t fp : o.fingerprints) {
        if (!added.count(fp) && !lock.find(fp)) {
            std::fprintf(stderr, "pgmoat: shape %s is not among this run's new shapes\n",
                         sql::fingerprint_hex(fp).c_str());
            return 1;
        }
    }
    if (added.empty()) {
        std::fprintf(stderr, "no new shapes to approve\n");
        return 0;
    }
    auto updated = shapes::update(lock, run, known ? &*known : nullptr, o.min_observations, added);
    write_text(path, shapes::format_lock(updated));
    for (uint64_t fp : added)
        std::printf("+ %s  %s\n", sql::fingerprint_hex(fp).c_str(), updated.shapes.at(fp).statement.c_str());
    std::fprintf(stderr, "%zu shape%s added to %s\n", added.size(), added.size() == 1 ? "" : "s", path.c_str());
    return 0;
}

int remove(const Args& args) {
    if (args.size() < 3) return usage_error(kShapesUsage);
    const std::string& path = args[1];
    auto lock = shapes::read_lock_files({path});
    for (size_t i = 2; i < args.size(); ++i) {
        auto fp = parse_fingerprint(args[i]);
        if (!fp) return usage_error(kShapesUsage);
        if (!lock.shapes.erase(*fp)) {
            std::fprintf(stderr, "pgmoat: shape %s is not in %s\n", args[i].c_str(), path.c_str());
            return 1;
        }
        std::printf("- %s\n", args[i].c_str());
    }
    write_text(path, shapes::format_lock(lock));
    return 0;
}

// Each shape a shapes-mode policy locks, judged by that policy's other rules: a
// locked shape the policy rejects anyway is a lock nobody should have approved
// (or a policy that changed since).
int check_locks(const Args& args) {
    Options o = parse(args, 1, false);
    if (o.bad || !o.rest.empty()) return usage_error(kShapesUsage);
    std::string dir = !o.policies.empty() ? o.policies
                      : o.config.empty()  ? std::string("policies")
                                          : config::load_config(o.config).policies.dir;
    auto set = policy::load_policy_dir(dir);
    size_t findings = 0, checked = 0;
    for (const auto& p : set.policies) {
        if (p->parameter_mode != policy::ParameterMode::shapes || !p->shape_lock) continue;
        for (const auto& [fp, s] : p->shape_lock->shapes) {
            ++checked;
            const std::string where = fmt::format("{}:{}", s.file, s.line);
            std::string text = shapes::with_constants(s);
            auto a = sql::analyze(text);
            if (!a.ok() || a.statements.size() != 1 || a.statements[0].fingerprint != fp) {
                ++findings;
                std::printf("%s: shape %s (policy \"%s\"): its statement does not have its fingerprint%s\n",
                            where.c_str(), sql::fingerprint_hex(fp).c_str(), p->name.c_str(),
                            a.ok() ? "" : (": " + a.error).c_str());
                continue;
            }
            auto d = policy::decide(*p, a, text, policy::Protocol::extended);
            if (d.allow && !d.would_reject) continue;
            ++findings;
            std::printf("%s: shape %s (policy \"%s\") is rejected anyway by rule \"%s\": %s\n    %s\n", where.c_str(),
                        sql::fingerprint_hex(fp).c_str(), p->name.c_str(), std::string(name(d.rule)).c_str(),
                        d.message.c_str(), s.statement.c_str());
        }
    }
    std::fprintf(stderr, "%zu locked shape%s checked, %zu finding%s\n", checked, checked == 1 ? "" : "s", findings,
                 findings == 1 ? "" : "s");
    return findings ? 1 : 0;
}

}  // namespace

int learn_lock(const Args& args) {
    Options o = parse(args, 0, true);
    if (o.bad || o.lock.empty() || o.audit_files.empty()) return usage_error(kLearnUsage);
    try {
        auto lock = read_lock_or_empty(o.lock);
        auto known = read_known(o);
        shapes::Learner run;
        uint64_t records = 0;
        if (!learn_from_audit(o, run, records)) return 2;
        const shapes::ShapeLock* k = known ? &*known : nullptr;
        auto updated = shapes::update(lock, run, k, o.min_observations);
        write_text(o.lock, shapes::format_lock(updated));
        std::string report = shapes::interpolation_report(run, k, o.min_observations);
        if (!o.report.empty())
            write_text(o.report, report);
        else
            std::fputs(report.c_str(), stdout);
        std::fprintf(stderr, "%llu statement records, %zu shapes seen; %s now locks %zu shapes (%zu before)%s\n",
                     static_cast<unsigned long long>(records), run.shapes().size(), o.lock.c_str(),
                     updated.shapes.size(), lock.shapes.size(), report.empty() ? "" : "; see the interpolation report");
        return 0;
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "pgmoat: %s\n", e.what());
        return 2;
    }
}

int shapes(const Args& args) {
    if (args.empty()) return usage_error(kShapesUsage);
    try {
        const std::string& sub = args[0];
        if (sub == "list") return list(args);
        if (sub == "diff") return diff_command(args);
        if (sub == "approve") return approve(args);
        if (sub == "remove") return remove(args);
        if (sub == "check") return check_locks(args);
        return usage_error(kShapesUsage);
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "pgmoat: %s\n", e.what());
        return 2;
    }
}

}  // namespace pgmoat::cli
