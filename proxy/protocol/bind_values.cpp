#include "pgmoat/protocol/bind_values.h"

#include <fmt/format.h>

#include <algorithm>

namespace pgmoat::protocol {

bool BindValueReader::take_field(std::string_view& bytes, size_t n) {
    size_t take = std::min(n - field_bytes_.size(), bytes.size());
    field_bytes_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    return field_bytes_.size() == n;
}

int32_t BindValueReader::field_value() const {
    uint32_t v = 0;
    for (unsigned char c : field_bytes_) v = (v << 8) | c;
    return field_bytes_.size() == 2 ? static_cast<int16_t>(v) : static_cast<int32_t>(v);
}

void BindValueReader::finish_value() {
    if (value_size_ > static_cast<int64_t>(kAuditedParameterBytes)) value_ += fmt::format("… ({} bytes)", value_size_);
    values_.emplace_back(std::move(value_));
    value_.clear();
    field_ = static_cast<int16_t>(values_.size()) == parameter_count_ ? Field::done : Field::length;
}

void BindValueReader::feed(std::string_view bytes) {
    while (!bytes.empty() && ok_ && field_ != Field::done) {
        switch (field_) {
            case Field::portal:
            case Field::statement: {
                auto end = bytes.find('\0');
                if (end == std::string_view::npos) return;
                bytes.remove_prefix(end + 1);
                field_ = field_ == Field::portal ? Field::statement : Field::format_count;
                break;
            }
            case Field::format_count:
                if (!take_field(bytes, 2)) return;
                format_count_ = static_cast<int16_t>(field_value());
                field_bytes_.clear();
                ok_ = format_count_ >= 0;
                field_ = format_count_ > 0 ? Field::formats : Field::parameter_count;
                break;
            case Field::formats:
                if (!take_field(bytes, 2)) return;
                formats_.push_back(static_cast<int16_t>(field_value()));
                field_bytes_.clear();
                if (static_cast<int16_t>(formats_.size()) == format_count_) field_ = Field::parameter_count;
                break;
            case Field::parameter_count:
                if (!take_field(bytes, 2)) return;
                parameter_count_ = static_cast<int16_t>(field_value());
                field_bytes_.clear();
                ok_ = parameter_count_ >= 0;
                field_ = parameter_count_ > 0 ? Field::length : Field::done;
                break;
            case Field::length: {
                if (!take_field(bytes, 4)) return;
                int32_t length = field_value();
                field_bytes_.clear();
                if (length < -1) {
                    ok_ = false;
                    return;
                }
                if (length == -1) {
                    values_.emplace_back(std::nullopt);
                    field_ = static_cast<int16_t>(values_.size()) == parameter_count_ ? Field::done : Field::length;
                    break;
                }
                // One format code applies to all parameters, otherwise one per parameter.
                size_t i = values_.size();
                int16_t format = format_count_ == 0    ? int16_t{0}
                                 : format_count_ == 1  ? formats_[0]
                                 : i < formats_.size() ? formats_[i]
                                                       : int16_t{0};
                binary_ = format != 0;
                value_ = binary_ ? "\\x" : "";
                value_size_ = value_left_ = length;
                field_ = Field::value;
                if (length == 0) finish_value();
                break;
            }
            case Field::value: {
                size_t n = static_cast<size_t>(std::min<int64_t>(value_left_, static_cast<int64_t>(bytes.size())));
                int64_t kept = value_size_ - value_left_;
                size_t keep = static_cast<size_t>(std::clamp<int64_t>(
                    static_cast<int64_t>(kAuditedParameterBytes) - kept, 0, static_cast<int64_t>(n)));
                if (binary_) {
                    for (unsigned char c : bytes.substr(0, keep)) value_ += fmt::format("{:02x}", c);
                } else {
                    value_.append(bytes.substr(0, keep));
                }
                bytes.remove_prefix(n);
                value_left_ -= static_cast<int64_t>(n);
                if (value_left_ == 0) finish_value();
                break;
            }
            case Field::done:
                return;
        }
    }
}

}  // namespace pgmoat::protocol
