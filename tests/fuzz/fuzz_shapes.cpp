// Shape lock target: an arbitrary lock file, then (after a line "---") SQL. Only
// ConfigError may escape the lock's parsing, naming a line within the text; a lock
// that loads writes back to a file that loads to the same lock, byte for byte on a
// second write; the SQL's statements are checked against it, and a verdict of
// "known" means every locked constant is at its position with its value.
#include "fuzz_common.h"

#include "pgmoat/common/config_error.h"
#include "pgmoat/shapes/lock.h"
#include "pgmoat/sql/analyzer.h"

using namespace pgmoat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    std::string input(reinterpret_cast<const char*>(bytes), size);
    size_t cut = input.find("\n---\n");
    std::string text = input.substr(0, cut);
    std::string sql = cut == std::string::npos ? std::string() : input.substr(cut + 5);
    shapes::ShapeLock lock;
    try {
        lock = shapes::parse_lock(text, "lock.toml");
    } catch (const ConfigError& e) {
        FUZZ_CHECK(!e.message().empty(), "ConfigError without a message");
        size_t lines = 1 + static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
        FUZZ_CHECK(e.line() >= 0 && static_cast<size_t>(e.line()) <= lines + 1, "error on line %d of %zu", e.line(),
                   lines);
        return 0;
    }
    std::string written = shapes::format_lock(lock);
    shapes::ShapeLock again = shapes::parse_lock(written, "again.toml");  // must not throw
    FUZZ_CHECK(again.shapes.size() == lock.shapes.size(), "a written lock reads back with another shape count");
    for (const auto& [fp, s] : lock.shapes) {
        const shapes::Shape* t = again.find(fp);
        FUZZ_CHECK(t && t->statement == s.statement && t->constants == s.constants && t->spliced == s.spliced &&
                       t->note == s.note && t->first_seen == s.first_seen && t->last_seen == s.last_seen,
                   "shape %s does not read back as written", sql::fingerprint_hex(fp).c_str());
    }
    FUZZ_CHECK(shapes::format_lock(again) == written, "writing a lock twice differs");
    if (sql.empty() || sql.size() > 4096) return 0;
    auto a = sql::analyze(sql);
    for (const auto& st : a.statements) {
        auto m = shapes::match(lock, st, sql);
        const shapes::Shape* s = lock.find(st.fingerprint);
        FUZZ_CHECK((m.verdict == shapes::Verdict::new_shape) == (s == nullptr), "verdict and look-up disagree");
        if (m.verdict != shapes::Verdict::known) continue;
        auto ps = shapes::positions(st);
        for (const auto& c : s->constants) {
            auto p =
                std::find_if(ps.begin(), ps.end(), [&](const shapes::Position& x) { return x.number == c.position; });
            FUZZ_CHECK(p != ps.end() && st.literals[p->literal].text(sql) == c.value,
                       "a known shape with a changed constant");
        }
    }
    return 0;
}
