// Whether a write's condition selects its rows by values (Write::restricts):
// the recorded conditions (RawCond) of a statement, read once its columns are
// resolved to the FROM items (range entries) they belong to.
#pragma once

#include "walker.h"

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace pgmoat::sql::detail {

class Restrictions {
  public:
    // column_entry: for each raw column, the range entry it certainly belongs
    // to, or -1.
    Restrictions(const RawStatement& raw, const std::vector<int32_t>& column_entry);

    bool write_restricts(size_t write);
    // A row lock of entry `entry` by the SELECT of scope `scope`.
    bool lock_restricts(int32_t scope, int32_t entry);

  private:
    struct Edge {
        int32_t to;
        std::vector<int32_t> from;  // `to` is restricted once all of these are
    };
    struct Facts {
        std::vector<int32_t> restricted;
        std::vector<Edge> edges;
    };

    void gather(int32_t cond, Facts& facts);
    void gather_scope(int32_t scope, int32_t action, Facts& facts);
    void atom(const RawCond& k, Facts& facts);
    // Entries a side references at the condition's level or outer ones; false
    // when it references something the check cannot place.
    bool side(const RawCond& k, int i, std::vector<int32_t>& items, bool& value_like);
    std::vector<int32_t> closure(const Facts& facts);  // sorted
    bool restricted(const std::vector<int32_t>& closure, int32_t entry);
    bool bounded(int32_t scope);
    bool intrinsic(int32_t entry);  // restricted whatever the conditions say
    bool encloses(int32_t outer, int32_t scope) const;

    const RawStatement& raw_;
    const std::vector<int32_t>& column_entry_;
    std::vector<std::vector<int32_t>> children_;       // per cond
    std::vector<std::vector<int32_t>> roots_;          // per scope
    std::vector<int8_t> bounded_;                      // per scope: -1 unknown, 2 computing
    std::vector<int8_t> intrinsic_;                    // per entry
    std::vector<std::vector<int32_t>> plain_entries_;  // per scope: its FROM items
    std::vector<std::vector<int32_t>> arms_;           // per scope: set operation arms
    std::vector<std::vector<int32_t>> sub_scopes_;     // per scope: the scopes directly inside
    std::unordered_map<int32_t, int32_t> dml_target_;  // DML scope -> target entry
};

}  // namespace pgmoat::sql::detail
