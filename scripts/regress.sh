#!/usr/bin/env bash
# PostgreSQL's own regression suite, run directly and through pgmoat and compared
# test by test (tests/regress/compare.py). The suite comes from Debian's source
# package of the installed server version, fetched here at test time into the
# build directory (never committed); its C functions (regress.so) are built
# against the installed server's headers, next to contrib's autoinc and refint.
# Run as root (apt-get; PostgreSQL runs as the postgres user).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
WORK=${REGRESS_WORK:-$BUILD_DIR/regress}
export PGMOAT_BIN=${PGMOAT_BIN:-$PWD/$BUILD_DIR/pgmoat}
PG_LIB=/usr/lib/postgresql/15/lib

version=$(dpkg-query -W -f='${Version}' postgresql-15)
upstream=${version%%-*}
src="$WORK/postgresql-15-$upstream/src/test/regress"
export DEBIAN_FRONTEND=noninteractive

if [[ ! -f "$src/parallel_schedule" ]]; then
  # Source entries for the machine's own Debian suites, unless some are there.
  if ! apt-cache showsrc postgresql-15 2>/dev/null | grep -qx "Version: $version"; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
      >/etc/apt/sources.list.d/pgmoat-deb-src.sources
    apt-get update -qq
  fi
  rm -rf "$WORK/postgresql-15-$upstream"
  mkdir -p "$WORK"
  (cd "$WORK" && apt-get source -qq "postgresql-15=$version" >/dev/null 2>&1)
fi

# The server headers of exactly the installed version (a newer one would pull a
# newer server with it).
if [[ $(dpkg-query -W -f='${Version}' postgresql-server-dev-15 2>/dev/null || true) != "$version" ]]; then
  apt-get install -y -qq --no-install-recommends "postgresql-server-dev-15=$version" >/dev/null
fi
lib="$WORK/lib"
mkdir -p "$lib"
if [[ ! -f "$lib/regress.so" || "$src/regress.c" -nt "$lib/regress.so" ]]; then
  cc -O2 -fPIC -shared -I"$(pg_config --includedir-server)" "$src/regress.c" -o "$lib/regress.so"
fi
cp "$PG_LIB/autoinc.so" "$PG_LIB/refint.so" "$lib/"
# The server (user postgres) reads the suite's data files and loads the libraries.
chmod -R a+rX "$WORK"

rm -rf "$WORK/run"
/usr/bin/python3 tests/regress/compare.py "$src" "$lib" "$WORK/run"
