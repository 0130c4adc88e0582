#include "pgmoat/protocol/byte_buffer.h"

#include <algorithm>
#include <cstring>

namespace pgmoat::protocol {

char* ByteBuffer::prepare(size_t min_free) {
    if (begin_ == end_) begin_ = end_ = 0;
    if (capacity_ - end_ >= min_free) return storage_.get() + end_;
    size_t used = end_ - begin_;
    if (capacity_ - used >= min_free && storage_) {
        std::memmove(storage_.get(), storage_.get() + begin_, used);
    } else {
        // Doubling for small steps; exactly what is asked for a large message.
        size_t cap = std::max(capacity_ ? capacity_ * 2 : initial_, used + min_free);
        auto fresh = std::make_unique<char[]>(cap);
        if (used) std::memcpy(fresh.get(), storage_.get() + begin_, used);
        storage_ = std::move(fresh);
        capacity_ = cap;
    }
    begin_ = 0;
    end_ = used;
    return storage_.get() + end_;
}

void ByteBuffer::consume(size_t n) {
    // The free space after the data stays where it is (a read may be filling it);
    // prepare() moves things.
    begin_ += n;
}

void ByteBuffer::shrink_if_idle() {
    if (empty() && capacity_ > initial_) {
        storage_.reset();
        capacity_ = begin_ = end_ = 0;
    }
}

void ByteBuffer::release_if_empty() {
    if (empty()) {
        storage_.reset();
        capacity_ = begin_ = end_ = 0;
    }
}

}  // namespace pgmoat::protocol
