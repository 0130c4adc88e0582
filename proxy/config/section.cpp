// Reading a table of pgmoat.toml through the key table (section.h).
#include "section.h"

#include <fmt/format.h>

#include <stdexcept>

namespace pgmoat::config {

const Key& Section::key(std::string_view name, KeyType type) {
    const Key* k = find_key(t_.path(), name);
    // The reader and the table disagree: a bug in pgmoat, not in the file.
    if (!k || k->type != type)
        throw std::logic_error(fmt::format("config key {} is not in the key table as read", t_.key_path(name)));
    if (t_.has(name)) settings_[t_.key_path(name)] = t_.value_text(name);
    return *k;
}

void Section::check_range(const Key& k, int64_t value) const {
    if (!k.has_range()) return;
    auto text = [&](int64_t v) { return k.type == KeyType::duration ? format_duration_ms(v) : format_size(v); };
    if (k.max == 0) {
        if (value >= k.min) return;
        fail(k.name(), k.min == 1 ? "must be greater than 0" : fmt::format("must be at least {}", text(k.min)));
    }
    if (value < k.min || value > k.max)
        fail(k.name(), fmt::format("must be between {} and {}", text(k.min), text(k.max)));
}

std::optional<std::string> Section::string(std::string_view name) {
    const Key& k = key(name, KeyType::string);
    auto v = t_.string(name);
    if (!v || k.allowed.empty()) return v;
    for (auto a : k.allowed)
        if (*v == a) return v;
    std::string expected = k.allowed.size() == 2 ? fmt::format("expected {} or {}", k.allowed[0], k.allowed[1])
                                                 : fmt::format("expected one of {}", fmt::join(k.allowed, ", "));
    fail(name, fmt::format("{}, found \"{}\"", expected, *v));
}

std::optional<int64_t> Section::integer(std::string_view name) {
    const Key& k = key(name, KeyType::integer);
    return t_.integer(name, k.min, k.max);
}

std::optional<bool> Section::boolean(std::string_view name) {
    key(name, KeyType::boolean);
    return t_.boolean(name);
}

std::optional<std::chrono::milliseconds> Section::duration(std::string_view name) {
    const Key& k = key(name, KeyType::duration);
    auto v = t_.duration(name);
    if (v) check_range(k, v->count());
    return v;
}

std::optional<uint64_t> Section::size(std::string_view name) {
    const Key& k = key(name, KeyType::size);
    auto v = t_.size(name);
    if (v) check_range(k, static_cast<int64_t>(*v));
    return v;
}

std::optional<std::vector<std::string>> Section::strings(std::string_view name) {
    key(name, KeyType::strings);
    return t_.strings(name);
}

}  // namespace pgmoat::config
