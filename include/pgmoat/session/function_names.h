// The names of functions by OID, per target, as pgmoat looked them up in the
// target's catalog to judge FunctionCall messages (which name a function only by
// its OID). Shared by all connections; an OID names one function for the life of
// a database, so entries do not go stale.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace pgmoat::session {

class FunctionNames {
  public:
    // "schema"."name", quoted as an identifier, or nullopt if not looked up yet.
    std::optional<std::string> find(const std::string& target, uint32_t oid) const;
    void remember(const std::string& target, uint32_t oid, std::string name);

  private:
    // Bounded: an app that calls many distinct OIDs only costs look-ups again.
    static constexpr size_t kMaxEntries = 100000;
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, uint32_t>, std::string> names_;
};

}  // namespace pgmoat::session
