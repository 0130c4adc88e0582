// Node-name lookup: an open-addressing table built once, probed with a cheap
// hash, because it runs for every node of every statement.
#include "node_tag.h"

#include "hash.h"

#include <array>

namespace pgmoat::sql::detail {

namespace {

// Small on purpose: the table is probed for every node while libpg_query
// competes for the same caches. 512 one-byte slots (an index into the dense
// info array, 0 for empty) is a few cache lines.
constexpr size_t kSlots = 512;

inline size_t slot_hash(std::string_view s) {
    // Length and four characters tell the ~230 names apart well enough for
    // linear probing, at a fraction of a full hash's cost.
    if (s.empty()) return 0;
    auto at = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(s[i])); };
    size_t n = s.size();
    uint32_t h = static_cast<uint32_t>(n) * 0x9E3779B1u;
    h ^= at(0) * 0x85EBCA77u ^ at(n - 1) * 0xC2B2AE3Du ^ at(n / 2) * 0x27D4EB2Fu ^ at(n > 4 ? n - 4 : 0) * 0x165667B1u;
    return (h ^ (h >> 15)) & (kSlots - 1);
}

struct Table {
    std::array<uint8_t, kSlots> slots{};  // NodeTag value, 0 (unknown) for empty
    std::array<NodeInfo, static_cast<size_t>(NodeTag::count)> by_tag{};
    std::array<std::string_view, static_cast<size_t>(NodeTag::count)> names{};

    Table() {
        auto add = [&](std::string_view name, NodeTag tag, StatementKind kind, uint8_t flags) {
            size_t i = slot_hash(name);
            while (slots[i] != 0) i = (i + 1) & (kSlots - 1);
            slots[i] = static_cast<uint8_t>(tag);
            by_tag[static_cast<size_t>(tag)] = NodeInfo{tag, kind, flags, hash_bytes(name)};
            names[static_cast<size_t>(tag)] = name;
        };
#define PGMOAT_SQL_NODE_ADD(tag, kind, flags) add(#tag, NodeTag::tag, StatementKind::kind, static_cast<uint8_t>(flags));
        PGMOAT_SQL_NODES(PGMOAT_SQL_NODE_ADD)
#undef PGMOAT_SQL_NODE_ADD
    }
};
static_assert(static_cast<size_t>(NodeTag::count) < 256, "slots hold a NodeTag in a byte");

const Table& table() {
    static const Table t;
    return t;
}

}  // namespace

const NodeInfo& node_info(std::string_view name) {
    const Table& t = table();
    size_t i = slot_hash(name);
    while (uint8_t tag = t.slots[i]) {
        std::string_view s = t.names[tag];
        if (s.size() == name.size()) {
            size_t k = 0;  // names are short: a loop beats a memcmp call
            while (k < s.size() && s[k] == name[k]) ++k;
            if (k == s.size()) return t.by_tag[tag];
        }
        i = (i + 1) & (kSlots - 1);
    }
    return t.by_tag[0];
}

const NodeInfo& node_info(NodeTag tag) {
    const Table& t = table();
    size_t i = static_cast<size_t>(tag);
    return i < t.by_tag.size() ? t.by_tag[i] : t.by_tag[0];
}

std::string_view node_name(NodeTag tag) {
    const Table& t = table();
    size_t i = static_cast<size_t>(tag);
    return i < t.names.size() ? t.names[i] : std::string_view{};
}

}  // namespace pgmoat::sql::detail
