# libFuzzer targets (tests/fuzz/*.cpp), built with clang and ASan+UBSan.
# Configure a separate build directory with clang, e.g.
#   cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++-14 -DPGMOAT_FUZZ=ON -DPGMOAT_TESTS=OFF
# and build the `fuzzers` target; scripts/fuzz.sh does both and runs them.
#
# The module libraries are compiled here with coverage instrumentation
# (-fsanitize=fuzzer-no-link) so libFuzzer sees their branches, and each target
# links the modules it needs as the proxy does (pgmoat_session brings every sans-io
# module); Asio and proxy/net are never linked. libpg_query, OpenSSL and fmt are
# linked uninstrumented.
if(NOT PGMOAT_FUZZ)
  return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "PGMOAT_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++-14")
endif()

set(PGMOAT_FUZZ_SANITIZERS "address,undefined" CACHE STRING "Sanitizers the fuzz targets are built with")
set(_fuzz_flags -fsanitize=${PGMOAT_FUZZ_SANITIZERS} -fno-sanitize-recover=undefined
                -fno-omit-frame-pointer -gline-tables-only)

get_property(_targets DIRECTORY ${PROJECT_SOURCE_DIR} PROPERTY BUILDSYSTEM_TARGETS)
foreach(t IN LISTS _targets)
  get_target_property(_type ${t} TYPE)
  if(t MATCHES "^pgmoat_" AND _type STREQUAL "STATIC_LIBRARY")
    target_compile_options(${t} PRIVATE ${_fuzz_flags} -fsanitize=fuzzer-no-link)
  endif()
endforeach()

add_custom_target(fuzzers)
file(GLOB _fuzz_targets CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_*.cpp)
foreach(src IN LISTS _fuzz_targets)
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/fuzz)
  target_compile_options(${name} PRIVATE ${_fuzz_flags} -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=${PGMOAT_FUZZ_SANITIZERS} -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE pgmoat_session)
  target_compile_definitions(${name} PRIVATE PGMOAT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  add_dependencies(fuzzers ${name})
endforeach()
