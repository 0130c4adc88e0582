"""Transaction pooling (pool_mode = "transaction") against a real PostgreSQL with
a small max_connections: many clients on a few server connections; psql,
pgbench, psycopg 2/3, node-postgres and pgjdbc; prepared statements that follow a
client across server connections; session state that pins or is refused; the
wait timeout; cancel; server connections killed idle and under load; the pool's
metrics."""
import hashlib
import json
import os
import subprocess
import threading
import time

import psycopg
import psycopg2
import pytest

import pgwire
from conftest import APP, APP_PASSWORD, psql
from pgharness import UPSTREAM_PASSWORD, UPSTREAM_USER, Pgmoat, Postgres, free_port, wait_for_port
from test_metrics import scrape, value

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def postgres(workdir):
    pg = Postgres(workdir, settings={"max_connections": "20"}).start()
    pg.sql(f"CREATE TABLE pool_items (id serial PRIMARY KEY, n int); ALTER TABLE pool_items OWNER TO {UPSTREAM_USER}",
           "app")
    yield pg
    pg.stop()


@pytest.fixture(scope="module")
def pgmoat(workdir, postgres):
    pooled = {"port": postgres.port, "pool_mode": "transaction", "pool_size": 3, "pool_wait_timeout": "3s"}
    metrics_port = free_port()
    m = Pgmoat(workdir,
               targets={"tx": pooled,
                        "txr": dict(pooled, session_state="reject"),
                        "tx1": dict(pooled, pool_size=1, pool_wait_timeout="1s"),
                        "txk": dict(pooled),
                        # The driver tests' pool, empty again a second after each.
                        "txd": dict(pooled, pool_size=2, server_idle_timeout="1s"),
                        "txm": dict(pooled, pool_size=2, min_pool_size=2),
                        # Nothing listens there.
                        "txdown": dict(pooled, port=free_port(), pool_size=2, min_pool_size=1),
                        "dev": {"port": postgres.port}},
               apps={APP: (APP_PASSWORD, ["tx", "txr", "tx1", "txk", "txd", "txm", "txdown", "dev"])},
               monitor=True, extra=f'[metrics]\nlisten = "127.0.0.1:{metrics_port}"\n').start()
    m.metrics_port = metrics_port
    m.postgres = postgres
    wait_for_port(metrics_port, proc=m.proc)
    yield m
    m.stop()
    assert m.proc.returncode == 0, m.log()


def connect(pgmoat, target="tx", **kw):
    return psycopg.connect(pgmoat.dsn(APP, APP_PASSWORD, target), autocommit=True, **kw)


def server_pids(postgres, database="app"):
    """Backends pgmoat's pools have open on the server."""
    rows = postgres.sql(f"SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE usename = '{UPSTREAM_USER}' "
                        f"AND backend_type = 'client backend' AND datname = '{database}'")
    return {int(p) for p in rows.split(",") if p}


def server_connections(postgres):
    return len(server_pids(postgres))


def test_many_clients_share_a_few_server_connections(pgmoat, postgres):
    clients = [connect(pgmoat) for _ in range(12)]
    try:
        for round_ in range(3):
            for i, c in enumerate(clients):
                assert c.execute("SELECT %s::int + 1", (i,)).fetchone()[0] == i + 1
        assert server_connections(postgres) <= 3
    finally:
        for c in clients:
            c.close()


def test_a_transaction_keeps_its_server_connection_and_statements_outside_move(pgmoat):
    with connect(pgmoat) as a, connect(pgmoat) as b:
        with a.transaction():
            pid = a.execute("SELECT pg_backend_pid()").fetchone()[0]
            # Another client's statements run on other server connections meanwhile.
            for _ in range(5):
                assert b.execute("SELECT pg_backend_pid()").fetchone()[0] != pid
            assert a.execute("SELECT pg_backend_pid()").fetchone()[0] == pid



def test_prepared_statements_are_prepared_again_on_each_server_connection(pgmoat, postgres):
    # Another client holds a server connection in a transaction meanwhile, and
    # every other step the backend `a` last ran on is terminated, so `a` moves
    # between server connections: its statement is prepared again on each, under
    # pgmoat's name.
    with connect(pgmoat) as a, connect(pgmoat) as holder:
        pids = []
        for step in range(6):
            if step % 2 == 1:
                assert postgres.sql(f"SELECT pg_terminate_backend({pids[-1]}, 5000)") == "t"
            row = a.execute("SELECT %s::int * 2, pg_backend_pid()", (step,), prepare=True).fetchone()
            assert row[0] == step * 2
            if step % 2 == 1:
                assert row[1] != pids[-1]
            pids.append(row[1])
            with holder.transaction():
                held = holder.execute("SELECT pg_backend_pid()").fetchone()[0]
                row = a.execute("SELECT %s::int * 2, pg_backend_pid()", (step + 100,), prepare=True).fetchone()
                assert row[0] == (step + 100) * 2
                assert row[1] != held
                pids.append(row[1])
        assert len(set(pids)) >= 2
        # On the server the statement lives under pgmoat's name, never the client's.
        names = [r[0] for r in a.execute("SELECT name FROM pg_prepared_statements").fetchall()]
        assert names and all(n.startswith("pgmoat_") for n in names)


def test_pgbench_through_a_pool_of_three(pgmoat, postgres):
    env = dict(os.environ, PGPASSWORD=APP_PASSWORD, PGHOST="127.0.0.1", PGPORT=str(pgmoat.port), PGUSER=APP)
    subprocess.run(["pgbench", "-i", "-s", "1", "-q", "tx"], env=env, check=True, capture_output=True, timeout=300)

    def run(*args, clients):
        r = subprocess.run(["pgbench", *args, "-c", str(clients), "-j", "2", "-t", "50", "--no-vacuum", "tx"],
                           env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr + pgmoat.log()[-3000:]
        assert f"number of transactions actually processed: {clients * 50}/{clients * 50}" in r.stdout

    for mode in ("simple", "extended", "prepared"):
        run("-M", mode, "-S", clients=16)
    for mode in ("simple", "extended"):
        run("-M", mode, clients=16)
    # TPC-B with -M prepared, as many clients as server connections: pgbench
    # prepares each statement on first use with a blocking PQprepare, so with more
    # clients per thread than server connections one client waits for a server
    # that other clients of the same (blocked) thread hold in open transactions:
    # the deadlock is pgbench's and happens through pgbouncer too.
    run("-M", "prepared", clients=3)
    assert server_connections(postgres) <= 3


def landings(pgmoat, a, b, statement, times=6, move=True):
    """Runs `statement` on a `times` times while b holds a transaction every other
    time, the backend a last ran on terminated before it (move), so that a lands
    on several server connections; a's answers and pids."""
    out = []
    for i in range(times):
        if i % 2 and move:
            assert pgmoat.postgres.sql(f"SELECT pg_terminate_backend({out[-1][1]}, 5000)") == "t"
        if i % 2:
            with b.transaction():
                b.execute("SELECT 1")
                out.append((a.execute(statement).fetchone()[0], a.execute("SELECT pg_backend_pid()").fetchone()[0]))
        else:
            out.append((a.execute(statement).fetchone()[0], a.execute("SELECT pg_backend_pid()").fetchone()[0]))
    return out


def test_a_plain_set_follows_the_client_to_every_server_connection_and_no_other_sees_it(pgmoat):
    before = value(scrape(pgmoat), "pgmoat_pool_pins_total", target="tx", reason="set")
    with connect(pgmoat) as a, connect(pgmoat) as b, connect(pgmoat) as c:
        a.execute("SET work_mem = '7MB'")
        a.execute("SET search_path TO pool_schema_x, \"Mixed Case\", public")
        a.execute("SET extra_float_digits = -2")
        seen = landings(pgmoat, a, b, "SHOW work_mem")
        assert {v for v, _ in seen} == {"7MB"}
        assert len({pid for _, pid in seen}) >= 2, seen  # not pinned: it moved
        assert a.execute("SHOW search_path").fetchone()[0] == 'pool_schema_x, "Mixed Case", public'
        assert a.execute("SHOW extra_float_digits").fetchone()[0] == "-2"
        # The other clients land on the same server connections and see the defaults.
        for _ in range(4):
            with c.transaction():
                assert c.execute("SHOW work_mem").fetchone()[0] != "7MB"
                assert c.execute("SHOW search_path").fetchone()[0] == '"$user", public'
                assert c.execute("SHOW extra_float_digits").fetchone()[0] == "1"
            assert b.execute("SHOW work_mem").fetchone()[0] != "7MB"
        # A later SET replaces the value.
        a.execute("SET work_mem = '9MB'")
        assert {v for v, _ in landings(pgmoat, a, b, "SHOW work_mem")} == {"9MB"}
    assert value(scrape(pgmoat), "pgmoat_pool_pins_total", target="tx", reason="set") == before
    assert "pins the session" not in pgmoat.log()


def failed_batches(c):
    """SETs in batches that fail after them, by simple Query and in a pipeline."""
    with pytest.raises(psycopg.errors.DivisionByZero):
        c.execute("SET work_mem = '6MB'; SELECT 1/0")
    with pytest.raises(psycopg.errors.DivisionByZero):
        with c.pipeline():
            c.execute("SET work_mem = '5MB'")
            c.execute("SELECT 1/0")


def test_a_set_whose_batch_failed_is_kept_only_as_postgresql_keeps_it(pgmoat):
    # The same on a session of its own (target dev, session mode) says what lasts.
    with connect(pgmoat, "dev") as direct:
        failed_batches(direct)
        expected = direct.execute("SHOW work_mem").fetchone()[0]
    with connect(pgmoat) as a, connect(pgmoat) as b:
        failed_batches(a)
        seen = landings(pgmoat, a, b, "SHOW work_mem")
        assert {v for v, _ in seen} == {expected}
        assert len({pid for _, pid in seen}) >= 2, seen


def test_a_set_in_a_transaction_block_pins_the_session(pgmoat):
    before = value(scrape(pgmoat), "pgmoat_pool_pins_total", target="tx", reason="set")
    with connect(pgmoat) as a, connect(pgmoat) as b:
        # Sent outside a block, run inside one: found at the batch's end.
        a.execute("BEGIN; SET work_mem = '3MB'; COMMIT")
        seen = landings(pgmoat, a, b, "SHOW work_mem", move=False)
        assert {v for v, _ in seen} == {"3MB"} and len({pid for _, pid in seen}) == 1
    assert value(scrape(pgmoat), "pgmoat_pool_pins_total", target="tx", reason="set") == before + 1
    assert "SET work_mem in a transaction block pins the session" in pgmoat.log()


def test_a_plain_set_is_accepted_when_the_target_rejects_session_state(pgmoat):
    with connect(pgmoat, "txr") as a, connect(pgmoat, "txr") as b:
        a.execute("SET work_mem = '8MB'")
        assert {v for v, _ in landings(pgmoat, a, b, "SHOW work_mem")} == {"8MB"}
        with pytest.raises(psycopg.errors.FeatureNotSupported):
            with a.transaction():
                a.execute("SET work_mem = '9MB'")


@pytest.mark.parametrize("statement, named", [
    ("SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE", "SET timezone"),
    ("LISTEN jobs", "LISTEN"),
    ("CREATE TEMP TABLE t (id int)", "CREATE TEMPORARY"),
    ("SELECT pg_advisory_lock(42)", "pg_advisory_lock()"),
    ("PREPARE p AS SELECT 1", "PREPARE"),
])
def test_session_state_is_refused_when_the_target_says_reject(pgmoat, statement, named):
    with connect(pgmoat, "txr") as c:
        with pytest.raises(psycopg.errors.FeatureNotSupported) as e:
            c.execute(statement)
        assert named in str(e.value)
        assert e.value.diag.message_hint
        # The session goes on.
        assert c.execute("SELECT 1").fetchone()[0] == 1


def test_reset_is_refused_in_transaction_pooling(pgmoat):
    with connect(pgmoat) as c:
        with pytest.raises(psycopg.errors.FeatureNotSupported):
            c.execute("RESET ALL")
        assert c.execute("SET LOCAL work_mem = '5MB'") is not None


def test_startup_parameters_are_applied_on_every_server_connection(pgmoat):
    with connect(pgmoat, application_name="billing-job", options="-c TimeZone=Asia/Tokyo") as a, \
            connect(pgmoat) as b:
        for _ in range(3):
            with b.transaction():
                b.execute("SELECT 1")
                assert a.execute("SHOW application_name").fetchone()[0] == "billing-job"
                assert a.execute("SHOW TimeZone").fetchone()[0] == "Asia/Tokyo"
            assert b.execute("SHOW TimeZone").fetchone()[0] != "Asia/Tokyo"


def test_a_waiting_client_times_out_with_its_error(pgmoat):
    holder = connect(pgmoat, "tx1")
    try:
        holder.execute("BEGIN")
        holder.execute("SELECT 1")
        w = connect(pgmoat, "tx1")
        started = time.monotonic()
        with pytest.raises(psycopg.OperationalError) as e:
            w.execute("SELECT 1")
        waited = time.monotonic() - started
        assert "query_wait_timeout" in str(e.value) and "pool_wait_timeout (1000 ms)" in str(e.value)
        assert 0.9 <= waited < 5
        # As pgbouncer: FATAL 08P01 naming query_wait_timeout (retry logic looks for it).
        r = psql(pgmoat, target="tx1", input="\\set VERBOSITY verbose\nSELECT 1;\n", check=False)
        assert r.returncode != 0 and "FATAL:  08P01: pgmoat: query_wait_timeout" in r.stderr, r.stderr
        # The holder's transaction goes on untouched.
        assert holder.execute("SELECT 2").fetchone()[0] == 2
        holder.execute("COMMIT")
    finally:
        holder.close()


def test_a_client_that_leaves_while_waiting_takes_nothing_from_the_pool(pgmoat):
    # tx1 has one server connection: the holder has it, three clients queue behind it and
    # hang up before it comes back. The pool then serves the next client at once.
    holder = connect(pgmoat, "tx1")
    try:
        holder.execute("BEGIN")
        pid = holder.execute("SELECT pg_backend_pid()").fetchone()[0]
        for _ in range(3):
            w = pgwire.Conn(pgmoat.port)
            w.login(APP, APP_PASSWORD, "tx1")
            w.send(pgwire.query("SELECT 1"))
            time.sleep(0.1)  # queued
            w.close()
        time.sleep(0.2)
        holder.execute("COMMIT")
        with connect(pgmoat, "tx1") as c:
            started = time.monotonic()
            assert c.execute("SELECT pg_backend_pid()").fetchone()[0] == pid
            assert time.monotonic() - started < 0.9  # not after pool_wait_timeout (1 s)
        assert pool_size_now(pgmoat, "tx1") == 1
        assert value(scrape(pgmoat), "pgmoat_pool_clients_waiting", target="tx1") == 0
    finally:
        holder.close()


def test_a_server_connection_killed_while_idle_is_replaced(pgmoat, postgres):
    with connect(pgmoat) as c:
        c.execute("SELECT 1")
        killed = server_pids(postgres)
        assert killed
        for pid in killed:
            postgres.sql(f"SELECT pg_terminate_backend({pid})")
        # The pool sees each one go (its FATAL, then its close) while it is idle.
        deadline = time.time() + 10
        while time.time() < deadline and not all(
                f"(backend {pid}) closed by the server" in pgmoat.log() for pid in killed):
            time.sleep(0.05)
        for _ in range(5):
            assert c.execute("SELECT 2").fetchone()[0] == 2
        assert c.execute("SELECT pg_backend_pid()").fetchone()[0] not in killed


def test_a_server_connection_killed_under_load_is_replaced(pgmoat, postgres):
    # Eight clients loop on a pool of three ("txk", its own pool); one backend is
    # killed while they run. A client whose statement was on it gets the server's
    # FATAL, as through pgbouncer; every other statement succeeds, and the pool
    # opens a replacement.
    stop = threading.Event()
    done, lost, other = [0], [], []

    def worker():
        c = None
        while not stop.is_set():
            try:
                if c is None:
                    c = connect(pgmoat, "txk")
                assert c.execute("SELECT 1 + 1").fetchone()[0] == 2
                done[0] += 1
            except psycopg.OperationalError as e:
                lost.append(str(e))
                c = None
            except Exception as e:  # noqa: BLE001 - asserted below
                other.append(repr(e))
                c = None
        if c is not None:
            c.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    try:
        deadline = time.time() + 10
        while len(server_pids(postgres, "app")) < 3 and time.time() < deadline:
            time.sleep(0.05)
        before = server_pids(postgres)
        victim = min(before)
        postgres.sql(f"SELECT pg_terminate_backend({victim})")
        time.sleep(0.5)
        count = done[0]
        time.sleep(0.5)
        assert done[0] > count, "the clients stopped making progress"
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert other == []
    assert len(lost) <= 1 and all("terminating connection" in m or "lost the connection" in m for m in lost), lost
    after = server_pids(postgres)
    assert victim not in after and len(after) <= 3
    with connect(pgmoat, "txk") as c:
        assert c.execute("SELECT pg_backend_pid()").fetchone()[0] != victim


def test_cancel_reaches_the_backend_running_the_statement(pgmoat):
    with connect(pgmoat) as a, connect(pgmoat) as b:
        other = {}

        def b_sleeps():
            try:
                other["pid"] = b.execute("SELECT pg_backend_pid() FROM pg_sleep(1.5)").fetchone()[0]
            except Exception as e:  # noqa: BLE001 - asserted below
                other["error"] = repr(e)

        t = threading.Thread(target=b_sleeps)
        t.start()
        time.sleep(0.2)
        threading.Timer(0.5, a.cancel).start()
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled):
            a.execute("SELECT pg_sleep(10)")
        assert time.monotonic() - started < 5
        t.join()
        # The other client's statement, on another server connection, was not cancelled.
        assert "error" not in other and other["pid"]
        assert a.execute("SELECT 3").fetchone()[0] == 3


@pytest.mark.parametrize("statement, reason", [
    ("SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE", "set"),
    ("LISTEN jobs", "listen"),
    ("CREATE TEMP TABLE pinned_t (id int)", "temporary_table"),
    ("DECLARE pinned_c CURSOR WITH HOLD FOR SELECT 1", "cursor_with_hold"),
    ("SELECT pg_advisory_lock(4242)", "advisory_lock"),
    ("PREPARE pinned_p AS SELECT 1", "prepare"),
])
def test_session_state_pins_the_client_to_its_server_connection(pgmoat, postgres, statement, reason):
    before = value(scrape(pgmoat), "pgmoat_pool_pins_total", target="tx", reason=reason)
    with connect(pgmoat) as a, connect(pgmoat) as b:
        pid = a.execute("SELECT pg_backend_pid()").fetchone()[0]
        a.execute(statement)
        pid = a.execute("SELECT pg_backend_pid()").fetchone()[0]
        for _ in range(3):
            # Another client's transactions take whatever connection is free: never a's.
            with b.transaction():
                assert b.execute("SELECT pg_backend_pid()").fetchone()[0] != pid
                assert a.execute("SELECT pg_backend_pid()").fetchone()[0] == pid
    assert value(scrape(pgmoat), "pgmoat_pool_pins_total", target="tx", reason=reason) == before + 1
    # The pinned connection carries a's session state: it is closed when a leaves.
    deadline = time.time() + 5
    while pid in server_pids(postgres) and time.time() < deadline:
        time.sleep(0.05)
    assert pid not in server_pids(postgres)


def test_psql_in_transaction_mode(pgmoat):
    r = psql(pgmoat, target="tx", input="BEGIN;\nSELECT pg_backend_pid() AS a \\gset\n"
                                         "SELECT pg_backend_pid() = :a AS same;\nCOMMIT;\n"
                                         "SELECT 40 + 2 AS answer;\n\\d pool_items\n")
    assert r.returncode == 0, r.stderr
    assert " t\n" in r.stdout and "42" in r.stdout and "pool_items" in r.stdout


def test_psycopg3_pipelines_and_server_side_cursors(pgmoat):
    with connect(pgmoat) as c, connect(pgmoat) as holder:
        # A pipeline: many Bind/Execute batches, one Sync at the end.
        with c.pipeline():
            curs = [c.execute("SELECT %s::int * 3", (i,), prepare=True) for i in range(20)]
        assert [cur.fetchone()[0] for cur in curs] == [i * 3 for i in range(20)]
        # A server-side cursor lives in its transaction (WITHOUT HOLD): it works within it.
        with c.transaction():
            with c.cursor(name="pool_cursor") as cur:
                cur.itersize = 7
                cur.execute("SELECT g FROM generate_series(1, 50) g")
                assert sum(row[0] for row in cur) == 1275
        # The pipeline again, while another client holds a server connection.
        with holder.transaction():
            holder.execute("SELECT 1")
            with c.pipeline():
                curs = [c.execute("SELECT %s::int * 3", (i,), prepare=True) for i in range(20)]
            assert [cur.fetchone()[0] for cur in curs] == [i * 3 for i in range(20)]


def test_psycopg2_named_cursor_and_client_side_binding(pgmoat):
    c = psycopg2.connect(pgmoat.dsn(APP, APP_PASSWORD, "tx"))
    try:
        cur = c.cursor()
        cur.execute("SELECT %s::int + %s", (40, 2))
        assert cur.fetchone()[0] == 42
        named = c.cursor(name="pool_named")  # psycopg2 opens a transaction for it
        named.itersize = 5
        named.execute("SELECT g FROM generate_series(1, 30) g")
        assert sum(row[0] for row in named) == 465
        named.close()
        c.commit()
        cur.execute("SELECT count(*) FROM generate_series(1, %s)", (12,))
        assert cur.fetchone()[0] == 12
        c.commit()
    finally:
        c.close()


def empty_driver_pool(pgmoat):
    """Waits for "txd"'s server connections to reach server_idle_timeout and close:
    a driver's first server connection is then the only idle one, which its holder
    takes next, moving the driver's statements to another one."""
    deadline = time.time() + 10
    while time.time() < deadline:
        samples = scrape(pgmoat)
        if sum(value(samples, "pgmoat_pool_server_connections", target="txd", state=state) or 0
               for state in ("active", "idle")) == 0:
            return
        time.sleep(0.1)
    pytest.fail("the txd pool did not empty")


def test_node_postgres_named_statements_across_server_connections(pgmoat):
    empty_driver_pool(pgmoat)
    if not os.path.isdir(os.path.join(HERE, "node", "node_modules", "pg")):
        pytest.fail("node-postgres is not installed: run `npm ci` in tests/integration/node")
    url = f"postgresql://{APP}:{APP_PASSWORD}@127.0.0.1:{pgmoat.port}/txd"
    direct = f"postgresql://{UPSTREAM_USER}:{UPSTREAM_PASSWORD}@127.0.0.1:{pgmoat.postgres.port}/app"
    r = subprocess.run(["node", os.path.join(HERE, "node", "pool_client.js"), url, direct], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr + pgmoat.log()[-3000:]
    out = json.loads(r.stdout)
    assert out["values"] == [v for i in range(6) for v in (i * 2, (i + 100) * 2)]
    # While the holder has a server connection, a's statement runs on another one.
    assert all(out["pids"][2 * i + 1] != out["held"][i] for i in range(6))
    # After its backend was terminated a's statement was prepared again elsewhere.
    assert all(out["pids"][2 * i] != out["pids"][2 * i - 1] for i in (1, 3, 5))
    assert out["pool_ok"]


def test_pgjdbc_server_prepared_statements_and_a_batch(pgmoat, postgres):
    # Without assumeMinServerVersion pgjdbc sends SET extra_float_digits and SET
    # application_name after login: replayed on every server connection, not pinned.
    empty_driver_pool(pgmoat)
    url = f"jdbc:postgresql://127.0.0.1:{pgmoat.port}/txd"
    direct = f"jdbc:postgresql://127.0.0.1:{postgres.port}/app"
    r = subprocess.run(["java", "-cp", "/usr/share/java/postgresql.jar", os.path.join(HERE, "java", "PoolClient.java"),
                        url, APP, APP_PASSWORD, direct, UPSTREAM_USER, UPSTREAM_PASSWORD], capture_output=True,
                       text=True, timeout=180)
    assert r.returncode == 0, r.stderr + pgmoat.log()[-3000:]
    out = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    assert out["right"] == "12" and int(out["pids"]) >= 2, [l for l in pgmoat.log().splitlines() if "pins" in l]
    assert out["batch"] == "20"
    assert int(postgres.sql("SELECT count(*) FROM pool_items", "app")) >= 20


def test_pool_metrics(pgmoat):
    holder = connect(pgmoat, "tx1")
    try:
        holder.execute("BEGIN")
        holder.execute("SELECT 1")
        samples = scrape(pgmoat)
        assert value(samples, "pgmoat_pool_server_connections", target="tx1", state="active") == 1
        waiter = {}

        def wait():
            with connect(pgmoat, "tx1") as w:
                waiter["value"] = w.execute("SELECT 5").fetchone()[0]

        t = threading.Thread(target=wait)
        t.start()
        deadline = time.time() + 5
        while value(scrape(pgmoat), "pgmoat_pool_clients_waiting", target="tx1") != 1 and time.time() < deadline:
            time.sleep(0.05)
        assert value(scrape(pgmoat), "pgmoat_pool_clients_waiting", target="tx1") == 1
        waits_before = value(scrape(pgmoat), "pgmoat_pool_wait_seconds_count", target="tx1")
        time.sleep(0.3)
        holder.execute("COMMIT")
        t.join()
        assert waiter["value"] == 5
        samples = scrape(pgmoat)
        assert value(samples, "pgmoat_pool_clients_waiting", target="tx1") == 0
        assert value(samples, "pgmoat_pool_wait_seconds_count", target="tx1") == waits_before + 1
        # The waiter waited about 0.3 s: not in the buckets below it.
        assert value(samples, "pgmoat_pool_wait_seconds_bucket", target="tx1", le="0.1") < \
            value(samples, "pgmoat_pool_wait_seconds_bucket", target="tx1", le="0.5")
        assert value(samples, "pgmoat_pool_server_connections", target="tx1", state="idle") == 1
        assert value(samples, "pgmoat_pool_server_connections", target="tx1", state="active") == 0
    finally:
        holder.close()


def test_three_hundred_clients_connected_at_once_on_a_pool_of_three(pgmoat, postgres):
    # PostgreSQL allows 20 connections: 300 clients, all connected at the same
    # time, each running transactions and single statements, on 3 of them.
    n = 300
    errors, peak = [], [0]
    connected = threading.Barrier(n + 1, timeout=60)

    def client(i):
        c = None
        try:
            c = connect(pgmoat)
            connected.wait()
            for j in range(3):
                assert c.execute("SELECT %s::int", (i * 10 + j,)).fetchone()[0] == i * 10 + j
            with c.transaction():
                assert c.execute("SELECT %s::int + 1", (i,)).fetchone()[0] == i + 1
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(e))
        finally:
            if c is not None:
                c.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    connected.wait()
    while any(t.is_alive() for t in threads):
        samples = scrape(pgmoat)
        peak[0] = max(peak[0], sum(value(samples, "pgmoat_pool_server_connections", target="tx", state=state)
                                   for state in ("active", "idle")))
        time.sleep(0.05)
    for t in threads:
        t.join()
    assert errors == []
    assert 1 <= peak[0] <= 3
    assert server_connections(postgres) <= 14  # every pool of the module at its pool_size


def test_audit_records_name_the_backend(pgmoat):
    with connect(pgmoat) as c:
        pid = c.execute("SELECT pg_backend_pid() AS marker_backend").fetchone()[0]
    records = [r for r in pgmoat.audit_records("statement") if "marker_backend" in (r.get("statement") or "")]
    assert records and records[-1]["backend_pid"] == pid
    assert records[-1]["app"] == APP and records[-1]["target"] == "tx"


def test_a_large_bind_of_a_named_statement_follows_the_client_to_any_server_connection(pgmoat, postgres):
    # A Bind over 256 kB streams through as it arrives; its statement's name is
    # still the client's, so pgmoat renames its head for the server connection
    # and, where that connection lacks the statement, prepares it there first.
    # Sizes around the stream threshold and well past it.
    sizes = [256 * 1024 - 64, 256 * 1024 + 1, 1024 * 1024, 8 * 1024 * 1024]
    query = "SELECT length(%s::text), md5(%s::text), pg_backend_pid()"

    def run(c, size, seed):
        pattern = f"{seed}-"
        value = (pattern * (size // len(pattern) + 1))[:size]
        length, digest, pid = c.execute(query, (value, value), prepare=True).fetchone()
        assert (length, digest) == (size, hashlib.md5(value.encode()).hexdigest())
        return pid

    with connect(pgmoat, target="txk") as c:
        before = {run(c, size, i) for i, size in enumerate(sizes)}
        # Every backend of the pool goes; the next Binds land on new ones that
        # have never seen the statement.
        for pid in server_pids(postgres):
            postgres.sql(f"SELECT pg_terminate_backend({pid})")
        deadline = time.time() + 10
        while time.time() < deadline and server_pids(postgres) & before:
            time.sleep(0.05)
        time.sleep(0.2)  # the pool has dropped them (their close reached it)
        after = {run(c, size, i + 10) for i, size in enumerate(reversed(sizes))}
        assert not after & before
        # Several clients at once on three server connections, the statement
        # prepared wherever each lands.
        errors = []

        def client(n):
            try:
                with connect(pgmoat, target="txk") as own:
                    for round_ in range(3):
                        run(own, sizes[(n + round_) % len(sizes)], n * 10 + round_)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors


def test_a_server_connection_killed_while_idle_is_noticed_without_a_client(pgmoat, postgres):
    # No client asks for it: the pool's sweep notices the close within about a second.
    with connect(pgmoat) as c:
        c.execute("SELECT 1")
        pid = c.execute("SELECT pg_backend_pid()").fetchone()[0]
        assert postgres.sql(f"SELECT pg_terminate_backend({pid}, 5000)") == "t"
        deadline = time.time() + 5
        while time.time() < deadline and f"(backend {pid}) closed by the server" not in pgmoat.log():
            time.sleep(0.05)
        assert f"(backend {pid}) closed by the server" in pgmoat.log()
        assert c.execute("SELECT pg_backend_pid()").fetchone()[0] != pid


def test_a_server_connection_killed_while_idle_is_replaced_at_the_next_lease(pgmoat, postgres):
    # Killed (and gone: pg_terminate_backend waits for it) just before the client's
    # next statement: the lease finds the FATAL and the close on the idle socket and
    # takes another server connection, and the statement runs as if nothing happened.
    with connect(pgmoat, "txk") as c:
        for _ in range(5):
            pid = c.execute("SELECT pg_backend_pid()").fetchone()[0]
            assert postgres.sql(f"SELECT pg_terminate_backend({pid}, 5000)") == "t"
            assert c.execute("SELECT 7").fetchone()[0] == 7
            assert c.execute("SELECT pg_backend_pid()").fetchone()[0] != pid
            deadline = time.time() + 5
            while time.time() < deadline and f"(backend {pid}) closed by the server" not in pgmoat.log():
                time.sleep(0.05)
            assert f"(backend {pid}) closed by the server" in pgmoat.log()


def test_clients_on_both_threads_share_one_server_connection(pgmoat, postgres):
    # pgmoat runs 2 I/O threads here and deals clients out in turn: four clients of
    # a pool of one are on both, and the one server connection moves between them,
    # each transaction whole, each client's results its own.
    clients = [connect(pgmoat, "tx1") for _ in range(4)]
    try:
        pids = set()
        for round_ in range(10):
            for i, c in enumerate(clients):
                with c.transaction():
                    c.execute("INSERT INTO pool_items (n) VALUES (%s)", (1000 + round_ * 10 + i,))
                    row = c.execute("SELECT n, pg_backend_pid() FROM pool_items WHERE n = %s",
                                    (1000 + round_ * 10 + i,)).fetchone()
                assert row[0] == 1000 + round_ * 10 + i
                pids.add(row[1])
        assert len(pids) == 1
        # All at once, from threads of their own.
        errors, done = [], [0] * len(clients)

        def worker(i, c):
            try:
                for k in range(50):
                    assert c.execute("SELECT %s::int * 2", (i * 100 + k,)).fetchone()[0] == (i * 100 + k) * 2
                    done[i] += 1
            except Exception as e:  # noqa: BLE001 - asserted below
                errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and done == [50] * len(clients)
        assert clients[0].execute("SELECT count(*) FROM pool_items WHERE n >= 1000 AND n < 1100").fetchone()[0] == 40
    finally:
        for c in clients:
            c.close()
        postgres.sql("DELETE FROM pool_items WHERE n >= 1000 AND n < 1100", "app")


def pool_size_now(pgmoat, target, states=("active", "idle")):
    samples = scrape(pgmoat)
    return sum(value(samples, "pgmoat_pool_server_connections", target=target, state=state) for state in states)


def test_min_pool_size_connections_are_opened_ahead_and_reopened_when_closed(pgmoat, postgres):
    def wait_for(condition, what):
        deadline = time.time() + 10
        while time.time() < deadline and not condition():
            time.sleep(0.05)
        assert condition(), what

    with connect(pgmoat, "txm") as c:
        first = c.execute("SELECT pg_backend_pid()").fetchone()[0]
        # The pool keeps min_pool_size = 2 open: the second is opened in the background.
        wait_for(lambda: pool_size_now(pgmoat, "txm", ("idle",)) == 2, "a second server connection opened ahead")
        before = server_pids(postgres)
        with connect(pgmoat, "txm") as d:
            with c.transaction():
                assert c.execute("SELECT pg_backend_pid()").fetchone()[0] in before
                # Another client meanwhile lands on the one opened ahead: no login to wait for.
                assert d.execute("SELECT pg_backend_pid()").fetchone()[0] in before
        assert pool_size_now(pgmoat, "txm") == 2
        # One the server closes is noticed and opened again, with no client asking.
        assert postgres.sql(f"SELECT pg_terminate_backend({first}, 5000)") == "t"
        wait_for(lambda: f"(backend {first}) closed by the server" in pgmoat.log(), "the close noticed")
        wait_for(lambda: pool_size_now(pgmoat, "txm", ("idle",)) == 2, "a replacement opened ahead")
        after = server_pids(postgres)
        assert first not in after and len(after - before) == 1
        assert c.execute("SELECT 5").fetchone()[0] == 5
        assert pool_size_now(pgmoat, "txm") == 2


def test_a_server_connection_opened_ahead_that_fails_is_logged_and_tried_again_a_second_later(pgmoat):
    with pytest.raises(psycopg.OperationalError):
        connect(pgmoat, "txdown")
    failed = 'pool of target "txdown": opening a server connection ahead (min_pool_size) failed: connect:'
    deadline = time.time() + 10
    while time.time() < deadline and failed not in pgmoat.log():
        time.sleep(0.05)
    first = pgmoat.log().count(failed)
    assert first >= 1
    time.sleep(2.5)
    # Once a second at most (the pool's tick is a tenth of one), and pgmoat serves on.
    assert 1 <= pgmoat.log().count(failed) - first <= 4
    with connect(pgmoat) as c:
        assert c.execute("SELECT 6").fetchone()[0] == 6
