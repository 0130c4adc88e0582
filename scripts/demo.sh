#!/usr/bin/env bash
# Installs, builds and runs pgmoat in front of a throwaway local PostgreSQL with a
# demo schema, then prints the psql command that connects through it. Ctrl-C stops
# both and removes the throwaway database.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target pgmoat
exec /usr/bin/python3 scripts/demo.py "$@"
