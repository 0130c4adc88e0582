// `pgmoat learn AUDIT_FILE… [--app NAME]`: turns a monitor-mode audit log into a
// policy fragment. Statements are grouped by structure (fingerprint); the literal
// values each execution carried tell apart literals written in the code (the
// same every time: approve them) from values spliced in by string interpolation
// (they vary: the code must be fixed to use parameters). Telling them apart needs
// the statements' raw text, which the monitor-mode policy must ask for with
// [audit] raw_statement = true; without it learn can only list structures.
#include "commands.h"

#include "pgmoat/audit/json.h"
#include "pgmoat/common/toml_text.h"
#include "pgmoat/sql/analyzer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

namespace pgmoat::cli {

namespace {

struct Structure {
    std::string normalized;
    uint64_t executions = 0;
    bool has_values = false;  // literals in value positions, as the baseline sees them
    std::set<std::vector<std::string>> literal_sets;
    std::vector<std::string> examples;  // raw texts, distinct, a few
    std::string first_raw;
};

// Literals the baseline would reject: value positions, not NULL/booleans/casts.
bool is_value(const sql::Literal& l) {
    if (l.kind == sql::LiteralKind::null || l.kind == sql::LiteralKind::boolean || l.bare_word) return false;
    switch (l.context) {
        case sql::LiteralContext::type_cast:
        case sql::LiteralContext::type_modifier:
        case sql::LiteralContext::set_value:
        case sql::LiteralContext::ddl:
        case sql::LiteralContext::utility:
        case sql::LiteralContext::select_list:
        case sql::LiteralContext::order_by:
        case sql::LiteralContext::group_by:
            return false;
        default:
            return true;
    }
}

std::string one_line(std::string s, size_t max = 160) {
    for (auto& c : s)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (s.size() > max) s = s.substr(0, max) + "…";
    return s;
}

}  // namespace

int learn(const Args& args) {
    if (std::find(args.begin(), args.end(), "--lock") != args.end()) return learn_lock(args);
    std::string app;
    std::vector<std::string> files;
    bool client_side = false;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--app" && i + 1 < args.size())
            app = args[++i];
        else if (args[i] == "--client-side-binding")
            client_side = true;
        else if (!args[i].empty() && args[i][0] != '-')
            files.push_back(args[i]);
        else {
            std::fprintf(stderr, "usage: pgmoat learn [--app NAME] [--client-side-binding] AUDIT_FILE…\n");
            return 2;
        }
    }
    if (files.empty()) {
        std::fprintf(stderr, "usage: pgmoat learn [--app NAME] [--client-side-binding] AUDIT_FILE…\n");
        return 2;
    }

    std::map<uint64_t, Structure> structures;
    std::set<std::string> apps;
    uint64_t records = 0, without_raw = 0;
    for (const auto& file : files) {
        std::ifstream in(file);
        if (!in) {
            std::fprintf(stderr, "pgmoat learn: cannot read %s\n", file.c_str());
            return 1;
        }
        std::string line;
        int line_no = 0;
        while (std::getline(in, line)) {
            ++line_no;
            auto v = audit::json::parse(line);
            if (!v) {
                std::fprintf(stderr, "pgmoat learn: %s:%d: not a JSON record, skipped\n", file.c_str(), line_no);
                continue;
            }
            auto* event = v->find("event");
            if (!event || event->text != "statement") continue;
            auto* rec_app = v->find("app");
            if (!app.empty() && (!rec_app || rec_app->text != app)) continue;
            auto* decision = v->find("decision");
            if (decision && decision->text == "reject") continue;  // never ran: nothing to approve
            if (rec_app) apps.insert(rec_app->text);
            ++records;
            auto* raw = v->find("raw_statement");
            if (!raw || !raw->is_string()) {
                ++without_raw;
                auto* fp = v->find("fingerprint");
                auto* text = v->find("statement");
                if (!fp || !text) continue;
                uint64_t f = std::stoull(fp->text, nullptr, 16);
                auto& s = structures[f];
                s.normalized = text->text;
                ++s.executions;
                continue;
            }
            // Re-analyze the raw text: fingerprint and literal values come from the
            // same analyzer the proxy uses.
            auto a = sql::analyze(raw->text);
            if (!a.ok() || a.statements.size() != 1) continue;
            const auto& st = a.statements[0];
            auto& s = structures[st.fingerprint];
            s.normalized = st.normalized;
            ++s.executions;
            std::vector<std::string> values;
            for (const auto& l : st.literals) {
                if (!is_value(l)) continue;
                s.has_values = true;
                values.emplace_back(l.text(raw->text));
            }
            s.literal_sets.insert(values);
            if (s.first_raw.empty()) s.first_raw = raw->text;
            if (s.examples.size() < 3 && std::find(s.examples.begin(), s.examples.end(), raw->text) == s.examples.end())
                s.examples.push_back(raw->text);
        }
    }

    std::string name = app.empty() ? (apps.size() == 1 ? *apps.begin() : "app") : app;
    std::printf("# pgmoat learn: %llu statement records", static_cast<unsigned long long>(records));
    std::printf(" of app \"%s\" from %zu file%s.\n", name.c_str(), files.size(), files.size() == 1 ? "" : "s");
    std::printf("# Review before use; check with: pgmoat check\n\n");
    std::printf("[policy]\nname = \"learned-%s\"\nextends = \"baseline\"\n\n[applies_to]\napps = [\"%s\"]\n\n",
                name.c_str(), name.c_str());
    if (without_raw == records && records > 0 && !client_side) {
        std::printf(
            "# These records carry no raw statements, so literal values cannot be compared.\n"
            "# Run the app under a monitor-mode policy with [audit] raw_statement = true and learn again,\n"
            "# or use --client-side-binding to approve every structure seen.\n");
    }
    if (client_side) {
        std::printf("# Client-side binding: every structure seen is approved; values may vary, structure may not.\n");
        std::printf("[parameters]\nmode = \"approved_structures\"\n\n");
        for (const auto& [fp, s] : structures) {
            std::printf("[[parameters.approved]]\nfingerprint = \"%s\"\nnote = %s\n\n",
                        sql::fingerprint_hex(fp).c_str(), toml_string(one_line(s.normalized)).c_str());
        }
        return 0;
    }
    std::vector<const Structure*> interpolated;
    size_t approved = 0;
    for (const auto& [fp, s] : structures) {
        if (!s.has_values) continue;  // parameterized: nothing to do
        if (s.literal_sets.size() > 1) {
            interpolated.push_back(&s);
            continue;
        }
        if (approved++ == 0) {
            std::printf(
                "# Literals written in the code: the same values in every execution. Approved by exact text.\n");
        }
        std::printf("[[parameters.approved]]\ntext = %s  # seen %llu time%s\n\n", toml_string(s.first_raw).c_str(),
                    static_cast<unsigned long long>(s.executions), s.executions == 1 ? "" : "s");
    }
    if (!interpolated.empty()) {
        std::printf(
            "# Built by string interpolation: the literal values changed between executions of the same\n"
            "# structure. NOT approved: change the code to pass these values as parameters ($1, $2, …).\n");
        for (const auto* s : interpolated) {
            std::printf("#\n#   %s\n#   seen %llu times with %zu different values, e.g.\n",
                        one_line(s->normalized).c_str(), static_cast<unsigned long long>(s->executions),
                        s->literal_sets.size());
            for (const auto& e : s->examples) std::printf("#     %s\n", one_line(e).c_str());
        }
    }
    return 0;
}

}  // namespace pgmoat::cli
