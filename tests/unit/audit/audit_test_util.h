// Helpers for the audit tests: temporary directories, reading and rewriting log
// files line by line, and records that are easy to recognise.
#pragma once

#include "pgmoat/audit/audit_log.h"
#include "pgmoat/audit/json.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace audit_test {

namespace fs = std::filesystem;
using namespace pgmoat::audit;

class TempDir {
  public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "pgmoat-audit-test-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::permissions(path_, fs::perms::owner_all, ec);
        fs::remove_all(path_, ec);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_file(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
}

inline std::vector<std::string> read_lines(const std::string& path) {
    std::vector<std::string> lines;
    std::istringstream in(read_file(path));
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
}

inline void write_lines(const std::string& path, const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    write_file(path, s);
}

inline json::Value parse_line(const std::string& line) {
    auto v = json::parse(line);
    REQUIRE_MESSAGE(v, "not JSON: " << line);
    return *v;
}

inline std::string field(const std::string& line, std::string_view key) {
    auto v = parse_line(line);
    auto* f = v.find(key);
    return f ? f->text : std::string("<absent>");  // a string's text, or a number's or literal's as written
}

// A statement record that says which statement it is in its rows field and reason.
inline Record statement(uint64_t session, uint64_t n) {
    auto s = std::make_shared<SessionInfo>();
    s->id = session;
    s->app = "orders-api";
    s->target = "prod";
    auto st = std::make_shared<StatementInfo>();
    st->kind = "select";
    st->text = "SELECT * FROM orders WHERE id = $1";
    st->fingerprint = 0x1234;
    st->relations = {{"public.orders", "read"}};
    Record r;
    r.session = s;
    r.statement = st;
    r.decision = Decision::allow;
    r.rows = n;
    r.reason = "statement " + std::to_string(session) + "/" + std::to_string(n);
    return r;
}

inline Options options_for(const std::string& path) {
    Options o;
    o.path = path;
    o.retry_interval = std::chrono::milliseconds(20);
    return o;
}

// Writes n statement records with a fresh AuditLog and stops it.
inline void write_log(const Options& o, int n, uint64_t session = 1) {
    AuditLog log(o);
    for (int i = 0; i < n; ++i) REQUIRE(log.submit(statement(session, static_cast<uint64_t>(i))));
    log.stop();
}

}  // namespace audit_test
