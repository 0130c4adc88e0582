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

set(_fuzz_modules common protocol auth audit config metrics sql shapes policy session)
set(_fuzz_srcs)
foreach(m IN LISTS _fuzz_modules)
  file(GLOB _s CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/proxy/${m}/*.cpp)
  list(APPEND _fuzz_srcs ${_s})
endforeach()

add_library(pgmoat_fuzz_core STATIC ${_fuzz_srcs})
target_include_directories(pgmoat_fuzz_core PUBLIC ${PROJECT_SOURCE_DIR}/include ${PG_QUERY_INCLUDE})
target_compile_definitions(pgmoat_fuzz_core PUBLIC TOML_HEADER_ONLY=0)
target_compile_options(pgmoat_fuzz_core PUBLIC ${_fuzz_flags} PRIVATE -fsanitize=fuzzer-no-link)
target_link_options(pgmoat_fuzz_core PUBLIC -fsanitize=${PGMOAT_FUZZ_SANITIZERS})
target_link_libraries(pgmoat_fuzz_core PUBLIC ${PG_QUERY_LIB} fmt::fmt OpenSSL::Crypto simdjson::simdjson Threads::Threads)

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
