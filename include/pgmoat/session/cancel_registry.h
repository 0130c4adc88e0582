// The BackendKeyData pgmoat gives each client, mapped to the upstream server's own
// key, so a client's CancelRequest can be forwarded to the right backend. Shared by
// all threads.
#pragma once

#include "pgmoat/config/config.h"
#include "pgmoat/protocol/messages.h"

#include <mutex>
#include <optional>
#include <unordered_map>

namespace pgmoat::session {

struct CancelTarget {
    config::Target target;              // where to send the cancel
    protocol::BackendKeyData upstream;  // the server's key for this session
};

class CancelRegistry {
  public:
    // With peering, keys carry this instance's peer id in bits 23-30 of the
    // process id, so any peer can tell whose session a CancelRequest is for.
    void set_peer_id(int peer_id);
    // The peer that issued a key; 0 when peering is off here.
    int peer_of(int32_t process_id) const;
    // Issues a fresh key for a client session (random, unique among live sessions).
    protocol::BackendKeyData add(CancelTarget target);
    void remove(int32_t process_id);
    // The server's key, once a session admitted without one has its server.
    void set_upstream(int32_t process_id, protocol::BackendKeyData upstream);
    // nullopt for unknown process ids and wrong secrets alike.
    std::optional<CancelTarget> find(const protocol::CancelRequest& request) const;
    size_t size() const;

  private:
    struct Entry {
        int32_t secret;
        CancelTarget target;
    };
    mutable std::mutex mutex_;
    std::unordered_map<int32_t, Entry> entries_;
    int peer_id_ = 0;
};

}  // namespace pgmoat::session
