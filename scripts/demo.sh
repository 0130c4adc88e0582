#!/usr/bin/env bash
# The README's first command. Installs what is missing, builds pgmoat (a no-op
# when it is up to date), then runs scripts/demo.py: a throwaway PostgreSQL with
# a shop database, pgmoat in front of it with the audit log and metrics on, and
# a guided tour of what pgmoat does (`--tour` runs it). Ctrl-C stops both and
# removes the throwaway database.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[[ -x build/pgmoat ]] || echo "demo: building pgmoat (the first build takes a few minutes)" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target pgmoat >/dev/null   # compiler errors still show (stderr)
exec /usr/bin/python3 scripts/demo.py "$@"
