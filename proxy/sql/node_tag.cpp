// Node-name lookup: an open-addressing table built once, probed with a cheap
// hash, because it runs for every node of every statement.
#include "node_tag.h"

#include "hash.h"

#include <array>

namespace pgmoat::sql::detail {

namespace {

constexpr size_t kSlots = 1024;  // power of two, well above the node count

struct Entry {
    std::string_view name;
    NodeInfo info;
};

inline size_t slot_hash(std::string_view s) {
    // Length and four characters tell the ~230 names apart well enough for
    // linear probing, at a fraction of a full hash's cost.
    if (s.empty()) return 0;
    auto at = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(s[i])); };
    size_t n = s.size();
    uint32_t h = static_cast<uint32_t>(n) * 0x9E3779B1u;
    h ^= at(0) * 0x85EBCA77u ^ at(n - 1) * 0xC2B2AE3Du ^ at(n / 2) * 0x27D4EB2Fu ^
         at(n > 4 ? n - 4 : 0) * 0x165667B1u;
    return (h ^ (h >> 15)) & (kSlots - 1);
}

struct Table {
    std::array<Entry, kSlots> slots{};
    std::array<NodeInfo, static_cast<size_t>(NodeTag::count)> by_tag{};
    NodeInfo unknown{};

    Table() {
        auto add = [&](std::string_view name, NodeTag tag, StatementKind kind, uint8_t flags) {
            size_t i = slot_hash(name);
            while (!slots[i].name.empty()) i = (i + 1) & (kSlots - 1);
            slots[i].name = name;
            slots[i].info = NodeInfo{tag, kind, flags, hash_bytes(name)};
            by_tag[static_cast<size_t>(tag)] = slots[i].info;
        };
#define PGMOAT_SQL_NODE_ADD(tag, kind, flags) \
    add(#tag, NodeTag::tag, StatementKind::kind, static_cast<uint8_t>(flags));
        PGMOAT_SQL_NODES(PGMOAT_SQL_NODE_ADD)
#undef PGMOAT_SQL_NODE_ADD
    }
};

const Table& table() {
    static const Table t;
    return t;
}

}  // namespace

const NodeInfo& node_info(std::string_view name) {
    const Table& t = table();
    size_t i = slot_hash(name);
    while (!t.slots[i].name.empty()) {
        std::string_view s = t.slots[i].name;
        if (s.size() == name.size() && s[0] == name[0] && s == name) return t.slots[i].info;
        i = (i + 1) & (kSlots - 1);
    }
    return t.unknown;
}

const NodeInfo& node_info(NodeTag tag) {
    const Table& t = table();
    size_t i = static_cast<size_t>(tag);
    return i < t.by_tag.size() ? t.by_tag[i] : t.unknown;
}

}  // namespace pgmoat::sql::detail
