// The shape lock: the statement shapes an app may run, each with the literal
// positions that are constants of the app's code, read from and written to a
// TOML file kept in version control next to the policies. Pure: no sockets.
#pragma once

#include "pgmoat/sql/analysis.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pgmoat::shapes {

// A literal position learned as a constant of the code: the n of `$n` in the
// shape's normalized text, and the literal as the code writes it (`'open'`, `100`).
struct Constant {
    int position = 0;
    std::string value;
    bool operator==(const Constant&) const = default;
};

struct Shape {
    uint64_t fingerprint = 0;
    std::string statement;            // normalized text (literals as $n)
    std::vector<Constant> constants;  // by position
    // Positions seen with different values: spliced values, never locked (and
    // named in the interpolation report until the code passes them as parameters).
    std::vector<int> spliced;
    std::string first_seen, last_seen;  // YYYY-MM-DD (a day, so a re-learn seldom touches a block)
    std::string note;
    std::string file;  // where it is written, for messages
    int line = 0;
};

// One or more lock files taken together (the shipped drivers' list and the app's).
struct ShapeLock {
    std::vector<std::string> files;
    std::map<uint64_t, Shape> shapes;  // by fingerprint: the file's order, so output is stable

    const Shape* find(uint64_t fingerprint) const;
};

// Reads lock files; a shape in two files must say the same in both. Throws
// ConfigError naming file:line:column.
ShapeLock read_lock_files(const std::vector<std::string>& paths);
ShapeLock parse_lock(const std::string& text, const std::string& file);
// The lock as a file: a header (the same for every lock, so it never shows in a
// diff), then one [[shape]] block per shape by fingerprint.
std::string format_lock(const ShapeLock& lock);

// A literal of a statement by its place in the normalized text.
struct Position {
    int number = 0;      // the n of $n
    size_t literal = 0;  // index into Statement::literals
};
// The positions the normalized text numbers, in order (as the analyzer numbers them).
std::vector<Position> positions(const sql::Statement& st);

enum class Verdict {
    known,             // in the lock, every locked constant as locked
    new_shape,         // no shape with this fingerprint
    constant_changed,  // in the lock, but a position locked as a constant carries another value
};

struct Match {
    Verdict verdict = Verdict::new_shape;
    const Shape* shape = nullptr;
    int position = 0;      // constant_changed: the $n
    int32_t offset = -1;   // constant_changed: the literal's first byte (or the statement's)
    std::string expected;  // constant_changed: the locked value
};

Match match(const ShapeLock& lock, const sql::Statement& st, std::string_view sql);

// Whether a statement's shape must be locked: transaction control and session
// statements (BEGIN, SET, SHOW, DEALLOCATE) carry no data and are judged by their
// own rules; PREPARE and DECLARE … CURSOR hold a statement, so they need a shape.
bool needs_shape(const sql::Statement& st);

// The normalized text with the locked constants put back: a statement with the
// shape's fingerprint that pgmoat's rules can judge (`pgmoat shapes check`).
std::string with_constants(const Shape& shape);

// Today's date, YYYY-MM-DD (UTC), and a date from an audit record's time.
std::string today();

}  // namespace pgmoat::shapes
