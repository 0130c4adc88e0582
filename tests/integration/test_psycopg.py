"""Python drivers through pgmoat: psycopg 3 (server-side binding, pipeline mode)
and psycopg2 (client-side binding), with cursors, COPY, cancel and LISTEN/NOTIFY."""
import threading
import time

import psycopg
import psycopg2
import psycopg2.extensions
import pytest

from conftest import APP, APP_PASSWORD


@pytest.fixture
def conn3(pgmoat):
    c = psycopg.connect(pgmoat.dsn(APP, APP_PASSWORD))
    yield c
    c.close()


@pytest.fixture
def conn2(pgmoat):
    c = psycopg2.connect(pgmoat.dsn(APP, APP_PASSWORD))
    yield c
    c.close()


@pytest.fixture(scope="module", autouse=True)
def schema(pgmoat):
    with psycopg.connect(pgmoat.dsn(APP, APP_PASSWORD), autocommit=True) as c:
        c.execute("CREATE TABLE IF NOT EXISTS py_users (id serial PRIMARY KEY, email text UNIQUE, score int)")


def test_psycopg3_parameterized_queries_and_transactions(conn3, postgres):
    with conn3.transaction():
        for i in range(50):
            conn3.execute("INSERT INTO py_users (email, score) VALUES (%s, %s)", (f"u{i}@example.com", i))
    row = conn3.execute("SELECT count(*), sum(score) FROM py_users WHERE email LIKE %s", ("u%@example.com",)).fetchone()
    assert row == (50, sum(range(50)))
    # A rolled-back transaction leaves nothing behind on the server.
    with pytest.raises(psycopg.errors.UniqueViolation):
        with conn3.transaction():
            conn3.execute("INSERT INTO py_users (email, score) VALUES (%s, %s)", ("new@example.com", 1))
            conn3.execute("INSERT INTO py_users (email, score) VALUES (%s, %s)", ("u1@example.com", 1))
    assert postgres.sql("SELECT count(*) FROM py_users WHERE email = 'new@example.com'", "app") == "0"


def test_psycopg3_prepared_statements_are_reused(pgmoat):
    with psycopg.connect(pgmoat.dsn(APP, APP_PASSWORD), prepare_threshold=0) as c:
        for i in range(20):
            assert c.execute("SELECT %s::int * 2", (i,)).fetchone()[0] == i * 2
        prepared = c.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0]
        assert prepared >= 1


def test_psycopg3_server_side_cursor_fetches_in_batches(conn3):
    with conn3.cursor(name="big") as cur:
        cur.itersize = 100
        cur.execute("SELECT g FROM generate_series(1, 10000) g WHERE g > %s", (0,))
        total = sum(r[0] for r in cur)
    assert total == sum(range(1, 10001))


def test_psycopg3_pipeline_mode(conn3):
    with conn3.pipeline():
        cursors = [conn3.execute("SELECT %s::int + 1", (i,)) for i in range(200)]
    assert [c.fetchone()[0] for c in cursors] == [i + 1 for i in range(200)]


def test_psycopg3_pipeline_error_fails_the_batch_up_to_sync(conn3):
    with pytest.raises(psycopg.errors.DivisionByZero):
        with conn3.pipeline():
            conn3.execute("SELECT 1")
            conn3.execute("SELECT 1/0")
            conn3.execute("SELECT 2")
    conn3.rollback()
    assert conn3.execute("SELECT 'recovered'").fetchone()[0] == "recovered"


def test_psycopg3_copy_both_ways(conn3, postgres):
    conn3.execute("CREATE TEMP TABLE py_copy (id int, v text)")
    with conn3.cursor().copy("COPY py_copy FROM STDIN") as copy:
        for i in range(20000):
            copy.write_row((i, f"value {i}"))
    with conn3.cursor().copy("COPY (SELECT id, v FROM py_copy ORDER BY id) TO STDOUT") as copy:
        rows = list(copy.rows())
    assert len(rows) == 20000
    assert rows[12345] == ("12345", "value 12345")


def test_psycopg3_cancel_stops_a_running_statement(conn3):
    timer = threading.Timer(0.5, conn3.cancel)
    timer.start()
    started = time.time()
    with pytest.raises(psycopg.errors.QueryCanceled):
        conn3.execute("SELECT pg_sleep(30)")
    assert time.time() - started < 10
    conn3.rollback()
    assert conn3.execute("SELECT 1").fetchone()[0] == 1


def test_psycopg3_listen_notify(pgmoat):
    with psycopg.connect(pgmoat.dsn(APP, APP_PASSWORD), autocommit=True) as listener, \
            psycopg.connect(pgmoat.dsn(APP, APP_PASSWORD), autocommit=True) as sender:
        got = []
        listener.add_notify_handler(lambda n: got.append((n.channel, n.payload)))
        listener.execute("LISTEN py_events")
        sender.execute("SELECT pg_notify('py_events', %s)", ("order-42",))
        deadline = time.time() + 5
        while not got and time.time() < deadline:
            listener.execute("SELECT 1")  # notifications arrive with the next result
            time.sleep(0.05)
    assert got == [("py_events", "order-42")]


def test_psycopg2_client_side_binding(conn2):
    cur = conn2.cursor()
    cur.execute("SELECT %s || %s, %s + 1", ("it's ", "quoted", 41))
    assert cur.fetchone() == ("it's quoted", 42)
    conn2.rollback()


def test_psycopg2_named_cursor_and_copy(conn2, tmp_path):
    import io
    cur = conn2.cursor()
    cur.execute("CREATE TEMP TABLE py2_copy (id int)")
    cur.copy_from(io.StringIO("".join(f"{i}\n" for i in range(1000))), "py2_copy")
    buf = io.StringIO()
    cur.copy_expert("COPY (SELECT sum(id) FROM py2_copy) TO STDOUT", buf)
    assert buf.getvalue().strip() == str(sum(range(1000)))
    named = conn2.cursor(name="n1")
    named.itersize = 50
    named.execute("SELECT id FROM py2_copy ORDER BY id")
    assert sum(r[0] for r in named) == sum(range(1000))
    conn2.rollback()


def test_psycopg2_cancel_and_notify(pgmoat):
    c = psycopg2.connect(pgmoat.dsn(APP, APP_PASSWORD))
    threading.Timer(0.5, c.cancel).start()
    with pytest.raises(psycopg2.errors.QueryCanceled):
        c.cursor().execute("SELECT pg_sleep(30)")
    c.rollback()
    c.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
    cur = c.cursor()
    cur.execute("LISTEN py2_events")
    cur.execute("NOTIFY py2_events, 'ping'")
    c.poll()
    assert [(n.channel, n.payload) for n in c.notifies] == [("py2_events", "ping")]
    c.close()
