#!/usr/bin/env bash
# Fails when a C++ file is not as clang-format (.clang-format) would write it. Fix
# with: git ls-files '*.cpp' '*.h' '*.hpp' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== clang-format =="
git ls-files -z '*.cpp' '*.h' '*.hpp' | xargs -0 clang-format --dry-run -Werror
echo "formatting ok"
