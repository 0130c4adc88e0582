// The audit JSON parser behind one plain function, so fuzz targets can check
// audit records without instantiating json::Value themselves (see cmake/fuzz.cmake:
// with clang 14 and libstdc++ 12 json::Value does not compile).
#include "pgmoat/audit/json.h"

#include <cstddef>

bool pgmoat_fuzz_json_valid(const char* text, size_t size) {
    return pgmoat::audit::json::parse(std::string_view(text, size)).has_value();
}
