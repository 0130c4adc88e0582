// The policy corpora in tests/data/policy/ judged by the shipped baseline: every
// statement ORMs and drivers send is allowed, every injection and bypass is
// rejected by the rule it names. Entries marked known_gap are reported, not run.
#include "fixture.h"

#include <doctest/doctest.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

using namespace pgmoat;
using namespace pgmoat::policy;
using namespace pgmoat::policy::testing;
namespace fs = std::filesystem;

namespace {

struct Entry {
    std::string file;
    int line = 0;
    std::string sql;
    Protocol protocol = Protocol::simple_query;
    std::string source;     // false positives: the ORM or driver
    std::string category;   // attacks
    std::string expect;     // attacks: the rule
    std::string known_gap;  // non-empty: the tests skip it, with this reason

    std::string where() const { return file + ":" + std::to_string(line); }
};

std::string string_or(const toml::table& t, const char* key, const std::string& fallback = "") {
    return t[key].value<std::string>().value_or(fallback);
}

// [[statement]] or [[attack]] entries of one corpus file.
std::vector<Entry> read_corpus(const std::string& name, const char* key, Protocol default_protocol) {
    std::string path = (fs::path(PGMOAT_TEST_DATA) / "policy" / name).string();
    toml::table doc;
    try {
        doc = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        FAIL(path << ":" << e.source().begin.line << ": " << e.description());
    }
    std::vector<Entry> out;
    const toml::array* list = doc[key].as_array();
    REQUIRE_MESSAGE(list != nullptr, path << " has no [[" << key << "]] entries");
    for (const auto& node : *list) {
        const toml::table* t = node.as_table();
        REQUIRE(t != nullptr);
        Entry e;
        e.file = name;
        e.line = static_cast<int>(t->source().begin.line);
        e.sql = string_or(*t, "sql");
        std::string protocol =
            string_or(*t, "protocol", default_protocol == Protocol::extended ? "extended" : "simple");
        REQUIRE_MESSAGE((protocol == "simple" || protocol == "extended"), e.where() << ": protocol = " << protocol);
        e.protocol = protocol == "extended" ? Protocol::extended : Protocol::simple_query;
        e.source = string_or(*t, "source");
        e.category = string_or(*t, "category");
        e.expect = string_or(*t, "expect");
        e.known_gap = string_or(*t, "known_gap");
        out.push_back(std::move(e));
    }
    return out;
}

const std::vector<Entry>& false_positives() {
    static std::vector<Entry> v = read_corpus("false_positives.toml", "statement", Protocol::extended);
    return v;
}

const std::vector<Entry>& attacks() {
    static std::vector<Entry> v = read_corpus("attacks.toml", "attack", Protocol::simple_query);
    return v;
}

Decision judge(const Entry& e) {
    auto analysis = sql::analyze(e.sql);
    return decide(baseline(), analysis, e.sql, e.protocol);
}

std::string describe(const Decision& d) {
    if (d.allow) return "allowed";
    return "rejected by rule \"" + std::string(name(d.rule)) + "\": " + d.message;
}

size_t count_active(const std::vector<Entry>& v) {
    return static_cast<size_t>(std::count_if(v.begin(), v.end(), [](const Entry& e) { return e.known_gap.empty(); }));
}

std::string trimmed(std::string_view s) {
    while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == ';')) s.remove_suffix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    return std::string(s);
}

}  // namespace

TEST_CASE("the baseline allows every statement ORMs and drivers send (false-positive corpus)") {
    const auto& corpus = false_positives();
    // The policy issue asks for at least 200; fewer means entries went missing.
    CHECK(count_active(corpus) >= 220);
    for (const Entry& e : corpus) {
        if (!e.known_gap.empty()) continue;
        Decision d = judge(e);
        INFO(e.where() << " [" << e.source << "] " << e.sql);
        INFO("pgmoat: " << describe(d));
        CHECK(d.allow);
    }
}

TEST_CASE("the baseline rejects every injection and bypass with the rule it names (attack corpus)") {
    const auto& corpus = attacks();
    CHECK(count_active(corpus) >= 220);
    std::map<std::string, int> per_category;
    for (const Entry& e : corpus) {
        if (!e.known_gap.empty()) continue;
        ++per_category[e.category];
        Decision d = judge(e);
        INFO(e.where() << " [" << e.category << "] " << e.sql);
        INFO("pgmoat: " << describe(d));
        REQUIRE_FALSE(e.expect.empty());
        CHECK_FALSE(d.allow);
        if (d.allow) continue;
        CHECK(name(d.rule) == e.expect);
        CHECK(d.message.rfind("pgmoat: ", 0) == 0);
        CHECK(d.sqlstate == (e.expect == "unparseable" ? "42601" : "42501"));
    }
    // Every family the policy issue names is represented.
    for (const char* c : {"tautology", "union", "stacked", "time_based", "error_based", "comment_truncation",
                          "dollar_quoted", "obfuscation", "data_modifying_cte", "explain_analyze", "do_block",
                          "prepare_execute", "copy", "catalog_file_access"}) {
        INFO("category " << c);
        CHECK(per_category[c] > 0);
    }
}

TEST_CASE("known gaps in the corpora still reproduce (remove the mark when one is fixed)") {
    int open = 0;
    for (const Entry& e : false_positives()) {
        if (e.known_gap.empty()) continue;
        ++open;
        Decision d = judge(e);
        INFO(e.where() << " [" << e.source << "] " << e.sql);
        INFO("known gap: " << e.known_gap);
        INFO("pgmoat now: " << describe(d));
        CHECK_MESSAGE(!d.allow, "this false positive is fixed: remove its known_gap");
        // A typo in the corpus must not pass for a gap.
        CHECK_MESSAGE(d.rule != Rule::unparseable, "the entry itself does not parse");
    }
    for (const Entry& e : attacks()) {
        if (e.known_gap.empty()) continue;
        ++open;
        Decision d = judge(e);
        INFO(e.where() << " [" << e.category << "] " << e.sql);
        INFO("known gap: " << e.known_gap);
        INFO("pgmoat now: " << describe(d));
        CHECK_MESSAGE(!(!d.allow && name(d.rule) == e.expect),
                      "this attack is now rejected as expected: remove its known_gap");
    }
    MESSAGE(open << " known gaps in tests/data/policy/ (see their known_gap reasons)");
}

TEST_CASE("every approval in the baseline matches a driver statement of the false-positive corpus") {
    // A change to pgmoat's fingerprints silently turns approvals by fingerprint
    // into dead entries; the captured driver statements catch that here.
    for (const Approval& ap : baseline().approvals) {
        bool used = false;
        for (const Entry& e : false_positives()) {
            if (ap.kind == Approval::Kind::text) {
                used = trimmed(e.sql) == ap.text;
            } else {
                auto analysis = sql::analyze(e.sql);
                for (const auto& st : analysis.statements) {
                    if (st.fingerprint != ap.fingerprint) continue;
                    if (ap.kind == Approval::Kind::fingerprint) {
                        used = true;
                    } else if (ap.literals.size() == st.literals.size()) {
                        used = std::equal(
                            ap.literals.begin(), ap.literals.end(), st.literals.begin(),
                            [&](const std::string& want, const sql::Literal& l) { return l.text(e.sql) == want; });
                    }
                }
            }
            if (used) break;
        }
        INFO(ap.source.file << ":" << ap.source.line << ": "
                            << (ap.kind == Approval::Kind::text ? "text" : sql::fingerprint_hex(ap.fingerprint)) << " "
                            << ap.text.substr(0, 120));
        CHECK_MESSAGE(used,
                      "no statement of tests/data/policy/false_positives.toml matches this approval "
                      "(stale fingerprint? `pgmoat explain` prints the current one)");
    }
}
