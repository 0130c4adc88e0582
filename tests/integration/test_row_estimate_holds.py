"""[holds] rows_over: an UPDATE/DELETE/MERGE the planner expects to change more
rows than the policy allows waits for approval. pgmoat asks the server for the
plan (EXPLAIN (FORMAT JSON)) on the client's own connection, inside its
transaction, where the client never sees it; the harness's real PostgreSQL logs
every statement (log_statement = all) and shows each backend's state, so the tests
assert both what the server saw and what the client saw. psycopg2 speaks the
simple protocol, psycopg 3 the extended one."""
import re
import time
import uuid

import psycopg
import psycopg2
import psycopg2.extensions
import pytest

from conftest import APP, APP_PASSWORD
from pgharness import UPSTREAM_USER, Pgmoat
from test_approval_holds import ADMIN, ADMIN_PASSWORD, Background, console, pending


ROWS = f"""
[policy]
extends = "baseline"
priority = 10
[applies_to]
apps = ["{APP}"]
[statements]
allow = ["query", "dml", "transaction"]
require_where = []
[parameters]
mode = "off"
[signatures]
stacked_statements = false
[holds]
rows_over = 50
timeout = "60s"
"""


@pytest.fixture(scope="module")
def moat(workdir, postgres):
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}},
               apps={APP: (APP_PASSWORD, ["dev"]), ADMIN: (ADMIN_PASSWORD, [], {"admin": True})},
               policies={"rows.toml": ROWS}).start()
    yield m
    m.stop()
    assert m.proc.returncode == 0, m.log()


def new_table(postgres, rows=200):
    """A table of `rows` rows (id 1..rows), analyzed so the planner's estimates are close."""
    name = "est_" + uuid.uuid4().hex[:10]
    postgres.sql(f"CREATE TABLE {name} (id int PRIMARY KEY, note text); "
                 f"INSERT INTO {name} SELECT g, 'n' FROM generate_series(1, {rows}) g; ANALYZE {name}; "
                 f"ALTER TABLE {name} OWNER TO {UPSTREAM_USER}", "app")
    return name


def count(postgres, table):
    return int(postgres.sql(f"SELECT count(*) FROM {table}", "app").strip())


def simple(moat):
    conn = psycopg2.connect(moat.dsn(APP, APP_PASSWORD, "dev"))
    return conn


def server_state(postgres, pid):
    return postgres.sql(f"SELECT state FROM pg_stat_activity WHERE pid = {pid}").strip()


def test_a_delete_under_the_estimate_runs_at_once_one_over_waits(moat, postgres):
    table = new_table(postgres)
    conn = simple(moat)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute(f"DELETE FROM {table} WHERE id <= 10")
    assert cur.rowcount == 10
    assert f"EXPLAIN (FORMAT JSON) DELETE FROM {table} WHERE id <= 10" in postgres.log()
    assert conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE

    job = Background(lambda: cur.execute(f"DELETE FROM {table} WHERE id > 100") or cur.rowcount)
    row = pending(moat, table)
    assert row["rule"] == "hold_rows" and row["policy"] == "rows"
    assert "delete is estimated to change 100 rows, over rows_over = 50" in row["why"], row["why"]
    time.sleep(0.3)
    assert job.thread.is_alive() and count(postgres, table) == 190
    assert f"statement: DELETE FROM {table} WHERE id > 100" not in postgres.log()
    _, _, err = console(moat, f"APPROVE {row['approval']}")
    assert err is None, err
    job.join()
    assert job.error is None and job.result == 100
    assert count(postgres, table) == 90
    conn.close()


def test_update_and_merge_are_estimated_too(moat, postgres):
    table = new_table(postgres)
    conn = simple(moat)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute(f"UPDATE {table} SET note = 'x' WHERE id BETWEEN 1 AND 5")
    assert cur.rowcount == 5
    cur.execute(f"MERGE INTO {table} t USING (SELECT 3 AS id) s ON t.id = s.id WHEN MATCHED THEN DELETE")
    assert cur.rowcount == 1
    job = Background(lambda: cur.execute(f"UPDATE {table} SET note = 'y'"))
    row = pending(moat, table)
    # The statistics are from before the MERGE: 200 rows, or close.
    assert re.search(r"update is estimated to change 19\d|200 rows", row["why"]), row["why"]
    _, _, err = console(moat, f"DENY {row['approval']} too many")
    assert err is None
    job.join()
    assert isinstance(job.error, psycopg2.errors.InsufficientPrivilege)
    assert postgres.sql(f"SELECT count(*) FROM {table} WHERE note = 'y'", "app").strip() == "0"
    conn.close()


def test_inside_a_transaction_the_estimate_is_invisible(moat, postgres):
    table = new_table(postgres)
    conn = simple(moat)  # psycopg2 opens a transaction at the first statement
    cur = conn.cursor()
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    cur.execute(f"INSERT INTO {table} VALUES (1000, 'mine')")
    cur.execute(f"DELETE FROM {table} WHERE id <= 3")
    assert cur.rowcount == 3
    # The client is in its transaction, as is the server; the plan was asked in a savepoint.
    assert conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_INTRANS
    assert server_state(postgres, pid) == "idle in transaction"
    log = postgres.log()
    assert "SAVEPOINT pgmoat_row_estimate" in log and "RELEASE SAVEPOINT pgmoat_row_estimate" in log
    # Over the estimate: held with the transaction open and healthy on the server.
    job = Background(lambda: cur.execute(f"DELETE FROM {table} WHERE id > 100"))
    row = pending(moat, table)
    assert row["rule"] == "hold_rows"
    assert server_state(postgres, pid) == "idle in transaction"
    _, _, err = console(moat, f"APPROVE {row['approval']}")
    assert err is None
    job.join()
    assert job.error is None and cur.rowcount == 101  # 101..200 and the row inserted
    cur.execute(f"SELECT count(*) FROM {table}")
    assert cur.fetchone() == (97,)
    conn.rollback()
    # Everything the transaction did is undone together, as without pgmoat.
    assert count(postgres, table) == 200
    conn.close()


def test_an_explain_that_fails_holds_and_leaves_the_transaction_as_it_was(moat, postgres):
    table = new_table(postgres)
    missing = "missing_" + uuid.uuid4().hex[:8]
    conn = simple(moat)
    cur = conn.cursor()
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    cur.execute(f"DELETE FROM {table} WHERE id = 1")
    job = Background(lambda: cur.execute(f"DELETE FROM {missing} WHERE id > 0"))
    row = pending(moat, missing)
    assert row["rule"] == "hold_rows"
    assert "has no row estimate" in row["why"] and f'EXPLAIN failed: relation "{missing}" does not exist' in row["why"]
    # The failed EXPLAIN was rolled back to pgmoat's savepoint: not aborted.
    assert server_state(postgres, pid) == "idle in transaction"
    _, _, err = console(moat, f"APPROVE {row['approval']}")
    assert err is None
    job.join()
    # Approved, it runs, and the client gets the server's own error for it.
    assert isinstance(job.error, psycopg2.errors.UndefinedTable), job.error
    conn.rollback()
    cur.execute(f"SELECT count(*) FROM {table}")
    assert cur.fetchone() == (200,)
    conn.close()


def test_extended_protocol_without_and_with_parameters(moat, postgres):
    table = new_table(postgres)
    with psycopg.connect(moat.dsn(APP, APP_PASSWORD, "dev"), autocommit=True) as conn:
        # Parse/Bind/Execute/Sync without parameters: estimated at the Parse.
        assert conn.execute(f"DELETE FROM {table} WHERE id <= 20").rowcount == 20
        job = Background(lambda: conn.execute(f"DELETE FROM {table} WHERE id > 120").rowcount)
        row = pending(moat, table)
        assert "delete is estimated to change 80 rows" in row["why"], row["why"]
        _, _, err = console(moat, f"APPROVE {row['approval']}")
        assert err is None
        job.join()
        assert job.error is None and job.result == 80
        # With parameters PostgreSQL 15 cannot plan it before Bind: held, to be safe.
        job = Background(lambda: conn.execute(f"DELETE FROM {table} WHERE id = %s", [50]).rowcount)
        row = pending(moat, table)
        assert "has no row estimate" in row["why"] and "it has parameters ($1)" in row["why"], row["why"]
        _, _, err = console(moat, f"APPROVE {row['approval']}")
        job.join()
        assert job.error is None and job.result == 1
        # A transaction in the extended protocol: the client's status is untouched.
        with conn.transaction():
            assert conn.execute(f"DELETE FROM {table} WHERE id <= 25").rowcount == 5
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    assert count(postgres, table) == 94


def test_a_pipeline_and_several_statements_are_held_unknown(moat, postgres):
    table = new_table(postgres)
    conn = simple(moat)
    conn.autocommit = True
    cur = conn.cursor()
    job = Background(lambda: cur.execute(f"SELECT 1; DELETE FROM {table} WHERE id = 1"))
    row = pending(moat, table)
    assert "it is one of several statements in a Query" in row["why"], row["why"]
    console(moat, f"DENY {row['approval']}")
    job.join()
    assert isinstance(job.error, psycopg2.errors.InsufficientPrivilege)
    conn.close()
    with psycopg.connect(moat.dsn(APP, APP_PASSWORD, "dev"), autocommit=True) as c:
        def pipeline():
            with c.pipeline():
                c.execute("SELECT 1")
                cur = c.execute(f"DELETE FROM {table} WHERE id = 2")
            return cur.rowcount
        job = Background(pipeline)
        row = pending(moat, table)
        assert "behind requests the server has not answered" in row["why"], row["why"]
        console(moat, f"APPROVE {row['approval']}")
        job.join()
        assert job.error is None and job.result == 1
    assert count(postgres, table) == 199
