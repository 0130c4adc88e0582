"""Messages of every size PostgreSQL accepts, through pgmoat as directly, with
psycopg 3 and node-postgres under the shipped baseline (enforcing): Bind
parameters of 0.3 to 60 MB in text and binary, Parse and simple Query texts of
300 kB and 2 MB, a COPY row of 5 MB, a 50 MB result value, and a 300 kB NOTICE and
ERROR from the server. Each leaves its session usable, and pgmoat's memory stays
bounded far below the sizes that cross (large messages stream through)."""
import json
import os
import subprocess
import threading
import time

import psycopg
import pytest

from conftest import APP, APP_PASSWORD
from pgharness import UPSTREAM_PASSWORD, UPSTREAM_USER, Pgmoat

HERE = os.path.dirname(os.path.abspath(__file__))
MB = 1 << 20
BIND_SIZES = [300 * 1024, MB, 10 * MB, 60 * MB]
TEXT_SIZES = [300 * 1024, 2 * MB]
# What pgmoat may grow by while any of these crosses: its read buffers and the
# statement texts it analyzes (at most 2 MB here), never a whole message.
# Under ASan (scripts/test.sh sets ASAN_OPTIONS for that build) freed memory sits in
# its quarantine and RSS does not say what pgmoat holds: the bound applies to the
# release build only.
RSS_BOUND_KB = 32 * 1024 if "ASAN_OPTIONS" not in os.environ else 1 << 30


@pytest.fixture(scope="module")
def large(workdir, postgres):
    postgres.sql(f"""
        DROP TABLE IF EXISTS big_rows;
        CREATE TABLE big_rows (id serial PRIMARY KEY, v text);
        ALTER TABLE big_rows OWNER TO {UPSTREAM_USER};
        CREATE OR REPLACE FUNCTION big_notice(n int) RETURNS int LANGUAGE plpgsql AS
          $$ BEGIN RAISE NOTICE '%', repeat('n', n); RETURN n; END $$;
        CREATE OR REPLACE FUNCTION big_error(n int) RETURNS int LANGUAGE plpgsql AS
          $$ BEGIN RAISE EXCEPTION '%', repeat('e', n); END $$;
    """, "app")
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={APP: (APP_PASSWORD, ["dev"])},
               server={"log_level": "info"}).start()
    yield m
    m.stop()
    assert m.proc.returncode == 0, m.log()[-3000:]


def direct_dsn(postgres):
    return postgres.dsn("app", UPSTREAM_USER, UPSTREAM_PASSWORD)


class PeakRss:
    """pgmoat's resident memory sampled while a block runs: its growth at the peak."""

    def __init__(self, m):
        self.m = m

    def __enter__(self):
        self.base = self.m.rss_kb()
        self.peak = self.base
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, self.m.rss_kb())
            time.sleep(0.005)

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, self.m.rss_kb())

    @property
    def growth_kb(self):
        return self.peak - self.base


def run_psycopg(dsn, scenario, size):
    """What the app observes: a value, or the error's SQLSTATE and message length."""
    notices = []
    with psycopg.connect(dsn, autocommit=True) as c:
        c.add_notice_handler(lambda d: notices.append(d.message_primary))
        try:
            if scenario == "bind_text":
                out = c.execute("SELECT length(%s::text)", ("t" * size,)).fetchone()[0]
            elif scenario == "bind_binary":
                out = c.execute("SELECT length(%b::bytea)", (os.urandom(16) * (size // 16),)).fetchone()[0]
            elif scenario == "parse":
                pad = "x" * (size - 40)
                out = c.execute(f"SELECT %s::int + 1 AS n /*{pad}*/", (41,)).fetchone()[0]
            elif scenario == "simple_query":
                pad = "x" * (size - 30)
                r = c.pgconn.exec_(f"SELECT /*{pad}*/ 42".encode())
                out = (r.status, r.get_value(0, 0).decode() if r.ntuples else r.error_message.decode())
            elif scenario == "copy_row":
                with c.cursor() as cur:
                    with cur.copy("COPY big_rows (v) FROM STDIN") as copy:
                        copy.write_row(("c" * size,))
                out = c.execute("SELECT length(v) FROM big_rows ORDER BY id DESC LIMIT %s", (1,)).fetchone()[0]
            elif scenario == "big_value":
                out = len(c.execute("SELECT repeat(%s::text, %s::int)", ("v", size)).fetchone()[0])
            elif scenario == "notice":
                c.execute("SELECT big_notice(%s)", (size,))
                out = [len(n) for n in notices]
            elif scenario == "error":
                c.execute("SELECT big_error(%s)", (size,))
                out = "no error"
        except psycopg.Error as e:
            out = {"sqlstate": e.sqlstate, "message_length": len(e.diag.message_primary or "")}
        usable = c.execute("SELECT 7").fetchone()[0]
    return out, usable


CASES = ([("bind_text", s) for s in BIND_SIZES] + [("bind_binary", s) for s in BIND_SIZES] +
         [("parse", s) for s in TEXT_SIZES] + [("simple_query", s) for s in TEXT_SIZES] +
         [("copy_row", 5 * MB), ("big_value", 50 * MB), ("notice", 300 * 1024), ("error", 300 * 1024)])


@pytest.mark.parametrize("scenario,size", CASES, ids=[f"{s}-{n // 1024}kB" for s, n in CASES])
def test_psycopg_large_message_as_directly(large, postgres, scenario, size):
    expected = run_psycopg(direct_dsn(postgres), scenario, size)
    with PeakRss(large) as rss:
        got = run_psycopg(large.dsn(APP, APP_PASSWORD), scenario, size)
    assert got == expected
    assert got[1] == 7  # the session is usable afterwards
    if scenario in ("bind_text", "bind_binary", "copy_row", "big_value"):
        assert got[0] == size
    assert rss.growth_kb < RSS_BOUND_KB, f"pgmoat grew by {rss.growth_kb} kB while {scenario} of {size} bytes crossed"
    print(f"\n{scenario} {size // 1024} kB: pgmoat RSS +{rss.growth_kb} kB at the peak")


def run_node(dsn, scenario, size):
    if not os.path.isdir(os.path.join(HERE, "node", "node_modules", "pg")):
        pytest.fail("node-postgres is not installed: run `npm ci` in tests/integration/node (scripts/test.sh does)")
    r = subprocess.run(["node", "--max-old-space-size=2048", os.path.join(HERE, "node", "client.js"), "large", dsn,
                        scenario, str(size)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


NODE_CASES = ([("bind_text", s) for s in BIND_SIZES] + [("bind_binary", s) for s in BIND_SIZES] +
              [("parse", s) for s in TEXT_SIZES] + [("simple_query", s) for s in TEXT_SIZES] +
              [("big_value", 50 * MB), ("notice", 300 * 1024), ("error", 300 * 1024)])


@pytest.mark.parametrize("scenario,size", NODE_CASES, ids=[f"{s}-{n // 1024}kB" for s, n in NODE_CASES])
def test_node_postgres_large_message_as_directly(large, postgres, scenario, size):
    direct = f"postgresql://{UPSTREAM_USER}:{UPSTREAM_PASSWORD}@127.0.0.1:{postgres.port}/app"
    through = f"postgresql://{APP}:{APP_PASSWORD}@127.0.0.1:{large.port}/dev"
    expected = run_node(direct, scenario, size)
    with PeakRss(large) as rss:
        got = run_node(through, scenario, size)
    assert got == expected
    assert got["usable"] == 7
    assert rss.growth_kb < RSS_BOUND_KB, f"pgmoat grew by {rss.growth_kb} kB while {scenario} of {size} bytes crossed"
