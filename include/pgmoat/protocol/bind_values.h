// The parameter values of a Bind message read as its bytes arrive, for audit
// records: a Bind may be far too large to hold (a 60 MB document), so each value
// is kept only up to a cap and the rest is counted, not stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmoat::protocol {

// Bytes of one parameter value an audit record keeps; a longer value is cut there
// and ends with "…" and its full size in bytes.
inline constexpr size_t kAuditedParameterBytes = 1024;

class BindValueReader {
  public:
    // The Bind's body (after type and length), in any number of pieces, in order.
    void feed(std::string_view bytes);
    // False once the bytes cannot be a Bind (a negative count or length).
    bool ok() const { return ok_; }
    // Every parameter value has been read.
    bool complete() const { return field_ == Field::done; }
    // Text values as sent, binary ones as "\x" and hex, NULL as nullopt.
    std::vector<std::optional<std::string>> take() { return std::move(values_); }

  private:
    enum class Field : uint8_t { portal, statement, format_count, formats, parameter_count, length, value, done };
    // Collects a fixed-size field that may arrive split; true once it is whole.
    bool take_field(std::string_view& bytes, size_t n);
    int32_t field_value() const;
    void finish_value();

    Field field_ = Field::portal;
    bool ok_ = true;
    std::string field_bytes_;
    std::vector<int16_t> formats_;
    int16_t format_count_ = 0;
    int16_t parameter_count_ = 0;
    int64_t value_size_ = 0;
    int64_t value_left_ = 0;
    bool binary_ = false;
    std::string value_;
    std::vector<std::optional<std::string>> values_;
};

}  // namespace pgmoat::protocol
