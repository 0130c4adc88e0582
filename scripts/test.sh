#!/usr/bin/env bash
# Installs what the tests need, checks the C++ files' format (scripts/lint.sh),
# builds pgmoat, and runs the whole test suite: unit tests and the integration
# suite against a real PostgreSQL, first in a normal build (then PostgreSQL's own
# regression suite through it, scripts/regress.sh), then again in an ASan+UBSan
# build; then each fuzz target for seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
# node-postgres for the client tests, at the version package-lock.json pins.
(cd tests/integration/node && npm ci --no-audit --no-fund --loglevel=error)
# The ORM matrix's Node.js apps, and Prisma's client generated from its schema.
# Prisma's install scripts would download engine binaries from outside npm: none
# is needed (its query compiler ships in @prisma/client, generate needs no schema
# engine), so they are skipped.
(cd tests/integration/orms/node && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error &&
  PRISMA_SCHEMA_ENGINE_BINARY=/bin/false CHECKPOINT_DISABLE=1 npm run --silent generate >/dev/null)

source scripts/ccache-env.sh

bash scripts/lint.sh

run_suite() {
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" "$@" >/dev/null
  cmake --build "$dir" -j2
  ctest --test-dir "$dir" --output-on-failure
  PGMOAT_BIN="$PWD/$dir/pgmoat" /usr/bin/python3 -m pytest tests/integration -q -p no:cacheprovider
}

echo "== build and test =="
# Warnings fail the release build. (Not the sanitized one: g++ 12's flow warnings
# misfire under ASan's instrumentation.)
run_suite build -DPGMOAT_WERROR=ON

echo "== PostgreSQL's regression suite, directly and through pgmoat =="
bash scripts/regress.sh

echo "== build and test with AddressSanitizer and UndefinedBehaviorSanitizer =="
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build-asan -DPGMOAT_SANITIZE=ON

echo "== fuzz every decoder of untrusted input briefly (the long runs: SECURITY.md) =="
bash scripts/fuzz.sh 10

echo "all tests passed"
