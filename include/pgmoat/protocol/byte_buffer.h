// A read buffer for one direction of a connection: bytes arrive at the back,
// decoded frames leave from the front. It grows only as far as the caller allows
// and gives memory back once a large message has passed, so an idle session costs
// little.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace pgmoat::protocol {

class ByteBuffer {
  public:
    explicit ByteBuffer(size_t initial_capacity = 16 * 1024) : initial_(initial_capacity) {}

    // Room to read at least `min_free` more bytes into; compacts or grows as needed.
    // Nothing else moves the data or the free space behind it.
    char* prepare(size_t min_free);
    size_t free_space() const { return capacity_ - end_; }
    void commit(size_t n) { end_ += n; }
    void consume(size_t n);

    std::string_view data() const { return {storage_.get() + begin_, end_ - begin_}; }
    size_t size() const { return end_ - begin_; }
    bool empty() const { return begin_ == end_; }
    size_t capacity() const { return capacity_; }
    // Returns to the initial capacity when empty, after a large message grew it.
    void shrink_if_idle();
    // Frees the storage entirely when empty (idle sessions hold no buffer).
    void release_if_empty();

  private:
    size_t initial_;
    std::unique_ptr<char[]> storage_;
    size_t capacity_ = 0;
    size_t begin_ = 0;
    size_t end_ = 0;
};

}  // namespace pgmoat::protocol
