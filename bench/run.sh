#!/usr/bin/env bash
# Reproduces every figure of bench/README.md in one run: builds pgmoat and the
# analyzer benchmark (release), then runs the analyzer micro-benchmark, pgbench
# through pgmoat, pgbouncer and direct (all modes, audit cost, latency, TPC-B,
# 16 against 500 clients), 10,000 idle sessions, and 2,000 clients through a
# transaction pool of 20 (bench/pool_many.py). About 40 minutes with the
# defaults; SECONDS_PER_RUN=10 ROUNDS=3 gives a quick look in about 15.
# Installs what it needs with scripts/install-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${SECONDS_PER_RUN:-30}
ROUNDS=${ROUNDS:-3}
SESSIONS=${SESSIONS:-10000}

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target pgmoat analyzer_bench shapes_bench
export PGMOAT_BIN="$PWD/build/pgmoat"

echo "== analyzer micro-benchmark =="
./build/bench/analyzer_bench --rounds 20 --iterations 1000
echo
echo "== shape check =="
./build/bench/shapes_bench --rounds 20 --iterations 20000
echo
echo "== pgbench: pgmoat, pgbouncer, direct =="
/usr/bin/python3 bench/relay_bench.py --seconds "$SECONDS_PER_RUN" --rounds "$ROUNDS" --clients 16 --many-clients 500
echo
echo "== idle sessions =="
/usr/bin/python3 bench/idle_sessions.py --sessions "$SESSIONS"
echo
echo "== transaction pooling: many clients on few server connections =="
/usr/bin/python3 bench/pool_many.py --seconds "$SECONDS_PER_RUN" --rounds "$ROUNDS"
