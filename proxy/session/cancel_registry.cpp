#include "pgmoat/session/cancel_registry.h"

#include <openssl/rand.h>

#include <cstdlib>

namespace pgmoat::session {

namespace {
int32_t random_int32() {
    uint32_t v = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) {
        // The CSPRNG failing is not something to work around with a weaker source.
        std::abort();
    }
    return static_cast<int32_t>(v);
}
}  // namespace

constexpr int kPeerShift = 23;  // 8 bits of peer id above 23 random bits, sign bit clear

void CancelRegistry::set_peer_id(int peer_id) {
    std::lock_guard lock(mutex_);
    peer_id_ = peer_id;
}

int CancelRegistry::peer_of(int32_t process_id) const {
    std::lock_guard lock(mutex_);
    return peer_id_ == 0 ? 0 : (process_id >> kPeerShift) & 0xff;
}

protocol::BackendKeyData CancelRegistry::add(CancelTarget target) {
    std::lock_guard lock(mutex_);
    protocol::BackendKeyData key;
    do {
        // Positive, like a PostgreSQL process id; some clients print it as one.
        key.process_id = peer_id_ == 0 ? random_int32() & 0x7fffffff
                                       : (peer_id_ << kPeerShift) | (random_int32() & ((1 << kPeerShift) - 1));
    } while (key.process_id == 0 || entries_.count(key.process_id));
    key.secret_key = random_int32();
    entries_.emplace(key.process_id, Entry{key.secret_key, std::move(target)});
    return key;
}

void CancelRegistry::remove(int32_t process_id) {
    std::lock_guard lock(mutex_);
    entries_.erase(process_id);
}

void CancelRegistry::set_upstream(int32_t process_id, protocol::BackendKeyData upstream) {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(process_id); it != entries_.end()) it->second.target.upstream = upstream;
}

std::optional<CancelTarget> CancelRegistry::find(const protocol::CancelRequest& request) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(request.process_id);
    if (it == entries_.end()) return std::nullopt;
    // No server yet: nothing is running that could be cancelled.
    if (it->second.secret != request.secret_key || it->second.target.upstream.process_id == 0) return std::nullopt;
    return it->second.target;
}

size_t CancelRegistry::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

}  // namespace pgmoat::session
