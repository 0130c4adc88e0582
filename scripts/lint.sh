#!/usr/bin/env bash
# The format and lint gates: fails when a C++ file is not as clang-format
# (.clang-format) would write it, or when clang-tidy (.clang-tidy) finds anything.
# Fix the format with: git ls-files '*.cpp' '*.h' '*.hpp' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== clang-format =="
git ls-files -z '*.cpp' '*.h' '*.hpp' | xargs -0 clang-format --dry-run -Werror
echo "formatting ok"

echo "== clang-tidy =="
# Only the compile commands are needed: nothing is built in this directory.
cmake -S . -B build-tidy -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
/usr/bin/python3 scripts/tidy.py build-tidy
