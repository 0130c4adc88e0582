#include "pgmoat/protocol/message_reader.h"

#include <cstring>

namespace pgmoat::protocol {

bool MessageReader::need(size_t n) {
    if (!ok_ || data_.size() - pos_ < n) {
        ok_ = false;
        return false;
    }
    return true;
}

int32_t MessageReader::int32() {
    if (!need(4)) return 0;
    auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(data_[pos_ + i])); };
    uint32_t v = (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
    pos_ += 4;
    return static_cast<int32_t>(v);
}

int16_t MessageReader::int16() {
    if (!need(2)) return 0;
    auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(data_[pos_ + i])); };
    uint32_t v = (b(0) << 8) | b(1);
    pos_ += 2;
    return static_cast<int16_t>(static_cast<uint16_t>(v));
}

uint8_t MessageReader::byte() {
    if (!need(1)) return 0;
    return static_cast<uint8_t>(data_[pos_++]);
}

std::string_view MessageReader::cstring() {
    if (!ok_) return {};
    const void* nul = std::memchr(data_.data() + pos_, 0, data_.size() - pos_);
    if (!nul) {
        ok_ = false;
        return {};
    }
    size_t len = static_cast<size_t>(static_cast<const char*>(nul) - (data_.data() + pos_));
    std::string_view s = data_.substr(pos_, len);
    pos_ += len + 1;
    return s;
}

std::string_view MessageReader::bytes(size_t n) {
    if (!need(n)) return {};
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
}

std::string_view MessageReader::rest() {
    if (!ok_) return {};
    std::string_view s = data_.substr(pos_);
    pos_ = data_.size();
    return s;
}

}  // namespace pgmoat::protocol
