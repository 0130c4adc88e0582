#!/usr/bin/env bash
# Installs pgmoat's build and test dependencies from Debian's packages, pinned to
# the versions Debian 12 ships. Idempotent: packages already present are skipped.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config ccache
  libboost1.81-dev          # Asio with C++20 coroutines, Beast (1.74 lacks as_tuple and cancellation slots)
  libpg-query-dev           # PostgreSQL 15 parser as a library
  libsimdjson-dev           # on-demand JSON reader for the parser's output
  libfmt-dev libtomlplusplus-dev doctest-dev libssl-dev
  libpq-dev                 # pgmoat approve/deny/approvals reach the running pgmoat's admin console
  postgresql-15 postgresql-client-15   # the real server and clients the tests drive
  pgbouncer prometheus haproxy         # benchmark, monitoring and load-balancing peers
  python3-psycopg2 python3-psycopg python3-pytest  # Python clients for integration tests (/usr/bin/python3)
  libpostgresql-jdbc-java openjdk-17-jre-headless  # pgjdbc
  nodejs                                            # node-postgres (npm ships with the machine's Node.js)
  python3-sqlalchemy python3-django python3-asyncpg # ORM matrix (tests/integration/orms): SQLAlchemy 1.4, Django 3.2
  ruby ruby-activerecord ruby-pg                    # ORM matrix: ActiveRecord 6.1 on ruby-pg
  clang-14 libclang-rt-14-dev                       # libFuzzer and sanitizer runtimes
  clang-format clang-tidy                           # scripts/lint.sh: the format and lint gates (clang 14)
  procps iproute2 openssl curl                     # curl: the demo's tour reads /metrics with it
  systemd python3-yaml                              # deploy/ checks: systemd-analyze, the Kubernetes manifests
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  # libboost-dev (1.74) conflicts with libboost1.81-dev; remove it if an image brought it.
  if dpkg-query -W -f='${Status}' libboost-dev 2>/dev/null | grep -q "install ok installed"; then
    apt-get remove -y -qq libboost-dev libboost1.74-dev >/dev/null
  fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's nodejs comes without npm; the machine's own Node.js ships it.
if ! command -v npm >/dev/null; then
  [[ $(id -u) -eq 0 ]] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
