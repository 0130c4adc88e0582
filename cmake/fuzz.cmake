# libFuzzer targets (tests/fuzz/*.cpp), built with clang and ASan+UBSan.
# Configure a separate build directory with clang, e.g.
#   cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++-14 -DPGMOAT_FUZZ=ON -DPGMOAT_TESTS=OFF
# and build the `fuzzers` target; scripts/fuzz.sh does both and runs them.
#
# The sans-io modules are compiled again here with coverage instrumentation
# (-fsanitize=fuzzer-no-link) so libFuzzer sees their branches; Asio and proxy/net
# stay out. libpg_query, OpenSSL and fmt are linked uninstrumented.
if(NOT PGMOAT_FUZZ)
  return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "PGMOAT_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++-14")
endif()

set(PGMOAT_FUZZ_SANITIZERS "address,undefined" CACHE STRING "Sanitizers the fuzz targets are built with")
set(_fuzz_flags -fsanitize=${PGMOAT_FUZZ_SANITIZERS} -fno-sanitize-recover=undefined
                -fno-omit-frame-pointer -gline-tables-only)

set(_fuzz_modules common protocol auth audit config metrics sql policy session)
set(_fuzz_srcs)
foreach(m IN LISTS _fuzz_modules)
  file(GLOB _s CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/proxy/${m}/*.cpp)
  list(APPEND _fuzz_srcs ${_s})
endforeach()

# json::Value (include/pgmoat/audit/json.h) holds std::pair<std::string, Value> of
# itself, which clang 14 rejects with libstdc++ 12 (g++ accepts it). Until the
# header changes, the JSON code is compiled with the C++ compiler g++ would be
# (uninstrumented), and the audit writer and verifier that use json::Value are
# left out: the fuzz targets do not need them.
include(CheckCXXSourceCompiles)
set(CMAKE_REQUIRED_INCLUDES ${PROJECT_SOURCE_DIR}/include)
set(CMAKE_REQUIRED_FLAGS -std=c++20)
check_cxx_source_compiles("#include \"pgmoat/audit/json.h\"
int main() { auto v = pgmoat::audit::json::parse(\"1\"); return v ? 0 : 1; }" PGMOAT_FUZZ_CLANG_JSON_OK)
set(_json_helper ${PROJECT_SOURCE_DIR}/tests/fuzz/json_valid.cpp)
if(PGMOAT_FUZZ_CLANG_JSON_OK)
  list(APPEND _fuzz_srcs ${_json_helper})
else()
  find_program(PGMOAT_FUZZ_GXX NAMES g++-12 g++ REQUIRED)
  list(REMOVE_ITEM _fuzz_srcs ${PROJECT_SOURCE_DIR}/proxy/audit/json.cpp ${PROJECT_SOURCE_DIR}/proxy/audit/audit_log.cpp
       ${PROJECT_SOURCE_DIR}/proxy/audit/verify.cpp ${PROJECT_SOURCE_DIR}/proxy/audit/cli.cpp)
  set(_gxx_objs)
  foreach(src ${PROJECT_SOURCE_DIR}/proxy/audit/json.cpp ${_json_helper})
    get_filename_component(_n ${src} NAME_WE)
    set(_o ${CMAKE_CURRENT_BINARY_DIR}/fuzz_gxx_${_n}.o)
    add_custom_command(OUTPUT ${_o}
      COMMAND ${PGMOAT_FUZZ_GXX} -std=c++20 -O2 -g -fPIC -I${PROJECT_SOURCE_DIR}/include -c ${src} -o ${_o}
      DEPENDS ${src} ${PROJECT_SOURCE_DIR}/include/pgmoat/audit/json.h
      COMMENT "g++ ${_n}.cpp (json::Value does not compile with clang 14)")
    list(APPEND _gxx_objs ${_o})
  endforeach()
  list(APPEND _fuzz_srcs ${_gxx_objs})
endif()

# toml++ 3.3.0 reaches __builtin_unreachable on ordinary invalid TOML (a finding,
# see tests/fuzz/toml_impl_fixed.cpp); unless asked to reproduce it, the config
# and policy fuzzers use the work-around so they can look for other bugs.
option(PGMOAT_FUZZ_TOML_WORKAROUND "Fuzz with the toml++ unreachable work-around" ON)
if(PGMOAT_FUZZ_TOML_WORKAROUND)
  list(REMOVE_ITEM _fuzz_srcs ${PROJECT_SOURCE_DIR}/proxy/common/toml_impl.cpp)
  list(APPEND _fuzz_srcs ${PROJECT_SOURCE_DIR}/tests/fuzz/toml_impl_fixed.cpp)
endif()

# clang 14 cannot capture a structured binding in a lambda (C++20; clang 16 can):
# compile a copy of the files that do with the binding captured explicitly.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
foreach(_pair "session/client_startup.cpp:name")
  string(REPLACE ":" ";" _pair ${_pair})
  list(GET _pair 0 _rel)
  list(GET _pair 1 _binding)
  set(_orig ${PROJECT_SOURCE_DIR}/proxy/${_rel})
  get_filename_component(_n ${_rel} NAME)
  set(_copy ${CMAKE_CURRENT_BINARY_DIR}/fuzz_compat/${_n})
  add_custom_command(OUTPUT ${_copy}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/fuzz_compat
    COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/fuzz/clang14_compat.py ${_orig} ${_copy} ${_binding}
    DEPENDS ${_orig} ${PROJECT_SOURCE_DIR}/tests/fuzz/clang14_compat.py)
  list(REMOVE_ITEM _fuzz_srcs ${_orig})
  list(APPEND _fuzz_srcs ${_copy})
endforeach()

add_library(pgmoat_fuzz_core STATIC ${_fuzz_srcs})
target_include_directories(pgmoat_fuzz_core PUBLIC ${PROJECT_SOURCE_DIR}/include ${PG_QUERY_INCLUDE})
target_compile_definitions(pgmoat_fuzz_core PUBLIC TOML_HEADER_ONLY=0)
target_compile_options(pgmoat_fuzz_core PUBLIC ${_fuzz_flags} PRIVATE -fsanitize=fuzzer-no-link)
target_link_options(pgmoat_fuzz_core PUBLIC -fsanitize=${PGMOAT_FUZZ_SANITIZERS})
target_link_libraries(pgmoat_fuzz_core PUBLIC ${PG_QUERY_LIB} fmt::fmt OpenSSL::Crypto Threads::Threads)

add_custom_target(fuzzers)
file(GLOB _fuzz_targets CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_*.cpp)
foreach(src IN LISTS _fuzz_targets)
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/fuzz)
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE pgmoat_fuzz_core)
  target_compile_definitions(${name} PRIVATE PGMOAT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  add_dependencies(fuzzers ${name})
endforeach()
