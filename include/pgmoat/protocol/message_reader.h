// Bounds-checked reading of message bodies. Every read past the end, or a string
// without its terminating zero byte, marks the reader failed instead of reading
// out of bounds; callers check ok() once after reading all fields.
#pragma once

#include <cstdint>
#include <string_view>

namespace pgmoat::protocol {

class MessageReader {
  public:
    explicit MessageReader(std::string_view body) : data_(body) {}

    int32_t int32();
    int16_t int16();
    uint8_t byte();
    // A zero-terminated string; the view excludes the terminator.
    std::string_view cstring();
    std::string_view bytes(size_t n);
    std::string_view rest();

    bool ok() const { return ok_; }
    bool at_end() const { return pos_ == data_.size(); }
    size_t remaining() const { return data_.size() - pos_; }
    size_t position() const { return pos_; }

  private:
    bool need(size_t n);
    std::string_view data_;
    size_t pos_ = 0;
    bool ok_ = true;
};

}  // namespace pgmoat::protocol
