// Learning a shape lock from what an app ran (monitor-mode audit records): a
// literal position whose value is the same in every execution is a constant of
// the code; one whose value varies is a value spliced into the text. Pure.
#pragma once

#include "pgmoat/shapes/lock.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace pgmoat::shapes {

// What learning saw of one literal position of one shape.
struct PositionSeen {
    uint64_t executions = 0;
    std::set<std::string> values;  // distinct, as written; at most kKeptValues kept
    bool more_values = false;      // more distinct values than kept
    static constexpr size_t kKeptValues = 4;
};

struct ShapeSeen {
    uint64_t fingerprint = 0;
    std::string statement;  // normalized text of its first execution
    uint64_t executions = 0;
    uint64_t with_values = 0;  // executions whose literal values were known (raw text in the record)
    std::set<uint64_t> sessions;
    std::string first_seen, last_seen;
    // Executions differed in how many literals they had (an IN list or VALUES rows
    // of varying length): positions cannot be compared, none is locked.
    bool positions_vary = false;
    int literal_count = -1;
    std::map<int, PositionSeen> positions;  // by $n
};

// How many executions with the same value make a position a constant. One
// execution cannot tell a constant from a value; such a position is left
// undetermined: not locked (any value passes there, the shape still must match)
// and named in the report, so the flow can be run again with other data.
inline constexpr uint64_t kDefaultMinObservations = 2;

class Learner {
  public:
    // One execution of a statement, its raw text known: `sql` is the text the
    // statement's offsets point into. Statements that need no shape are ignored.
    void add(const sql::Statement& st, std::string_view sql, uint64_t session, std::string_view date);
    // One execution known only by its fingerprint and normalized text (an audit
    // record without raw_statement): the shape is learned, its positions are not.
    void add_shape(uint64_t fingerprint, std::string_view normalized, uint64_t session, std::string_view date);

    const std::map<uint64_t, ShapeSeen>& shapes() const { return shapes_; }

  private:
    ShapeSeen& seen(uint64_t fingerprint, std::string_view normalized, uint64_t session, std::string_view date);
    std::map<uint64_t, ShapeSeen> shapes_;
};

enum class PositionKind { constant, spliced, undetermined };
PositionKind classify(const ShapeSeen& s, const PositionSeen& p, uint64_t min_observations);

// The lock after a run: shapes seen are added or updated (a locked constant seen
// with another value becomes spliced; notes and first_seen stay), shapes not seen
// stay. Shapes in `known` (the shipped drivers' list) are left out. `only`, when
// not empty, limits the shapes added to these fingerprints (`shapes approve`).
ShapeLock update(const ShapeLock& lock, const Learner& run, const ShapeLock* known, uint64_t min_observations,
                 const std::set<uint64_t>& only = {});

// The interpolation report: each shape with spliced positions (the position,
// redacted example values and the fix), then undetermined positions and shapes
// learned without values. Empty when there is nothing to report.
std::string interpolation_report(const Learner& run, const ShapeLock* known, uint64_t min_observations);

// A value for a report: its first character, then its length (`'a…' (11 chars)`),
// so a report never carries what an app spliced in (which may be a secret).
std::string redact(std::string_view literal);

// A lock against a new run.
struct DiffEntry {
    enum class Kind { added, constant_changed, unseen };
    Kind kind = Kind::added;
    uint64_t fingerprint = 0;
    std::string statement;
    std::string detail;  // what changed, for constant_changed; counts for added
};
std::vector<DiffEntry> diff(const ShapeLock& lock, const Learner& run, const ShapeLock* known);
std::string format_diff(const std::vector<DiffEntry>& entries);

}  // namespace pgmoat::shapes
