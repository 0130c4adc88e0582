"""[limits] max_rows_affected against a real PostgreSQL with real clients: an
UPDATE/DELETE/MERGE over the cap is undone and the client gets 54000 naming the
cap; under it the client sees what PostgreSQL sent. Simple and extended protocol,
in and outside transactions, pipelined, with the server's state asserted."""
import json
import os
import subprocess

import psycopg
import pytest

import pgwire
from conftest import psql
from pgharness import UPSTREAM_USER, Pgmoat

CAPPED, CAPPED_PASSWORD = "capped-writer", "capped-pass-123"
CAP = 10
NODE_DIR = os.path.join(os.path.dirname(__file__), "node")


@pytest.fixture(scope="module")
def capped(workdir, postgres):
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}},
               apps={CAPPED: (CAPPED_PASSWORD, ["dev"])},
               policies={"capped.toml": f"""
[policy]
extends = "baseline"
[applies_to]
apps = ["{CAPPED}"]
[parameters]
mode = "off"
[signatures]
stacked_statements = false
[statements]
allow = ["query", "dml", "transaction", "set", "show", "prepare", "execute", "deallocate"]
[limits]
max_rows_affected = {CAP}
"""}).start()
    yield m
    m.stop()


@pytest.fixture
def table(postgres, request):
    name = "cap_" + request.node.name[5:40].replace("-", "_").lower()
    postgres.sql(f"DROP TABLE IF EXISTS {name}; CREATE TABLE {name} (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);"
                 f"INSERT INTO {name} (id) SELECT generate_series(1, 30); ALTER TABLE {name} OWNER TO {UPSTREAM_USER}",
                 "app")
    return name


def changed(postgres, table):
    """Rows whose v is no longer 0, and rows left."""
    out = postgres.sql(f"SELECT count(*) FILTER (WHERE v <> 0), count(*) FROM {table}", "app")
    a, b = out.split("|")
    return int(a), int(b)


def connect(m, **kw):
    return psycopg.connect(m.dsn(CAPPED, CAPPED_PASSWORD), **kw)


def test_psycopg_extended_autocommit_over_and_under(capped, postgres, table):
    with connect(capped, autocommit=True) as c:
        with pytest.raises(psycopg.Error) as e:
            c.execute(f"UPDATE {table} SET v = 1 WHERE id <= %s", [CAP + 1])
        assert e.value.sqlstate == "54000"
        assert e.value.diag.message_primary == (
            f'pgmoat: UPDATE changed {CAP + 1} rows, more than max_rows_affected = {CAP} of policy "capped"; '
            "it is rolled back")
        assert 'rule "max_rows_affected"' in e.value.diag.message_detail
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert changed(postgres, table) == (0, 30)
        cur = c.execute(f"UPDATE {table} SET v = 1 WHERE id <= %s", [CAP])
        assert cur.rowcount == CAP and cur.statusmessage == f"UPDATE {CAP}"
        assert changed(postgres, table) == (CAP, 30)
        cur = c.execute(f"DELETE FROM {table} WHERE id > %s", [20])
        assert cur.rowcount == 10
        assert changed(postgres, table) == (CAP, 20)


def test_psycopg_in_a_transaction_over_the_cap_fails_it(capped, postgres, table):
    with connect(capped) as c:
        c.execute(f"UPDATE {table} SET v = 1 WHERE id = %s", [1])
        with pytest.raises(psycopg.Error) as e:
            c.execute(f"UPDATE {table} SET v = 2 WHERE id <= %s", [CAP + 5])
        assert e.value.sqlstate == "54000"
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            c.execute("SELECT 1")
        c.rollback()
        c.execute(f"UPDATE {table} SET v = 3 WHERE id <= %s", [CAP])
        c.commit()
    assert changed(postgres, table) == (CAP, 30)


def test_psycopg_pipeline_behind_a_capped_statement(capped, postgres, table):
    with connect(capped, autocommit=True) as c:
        with pytest.raises(psycopg.Error) as e:
            with c.pipeline():
                c.execute(f"UPDATE {table} SET v = 1 WHERE id <= %s", [CAP])
                c.execute(f"UPDATE {table} SET v = 2 WHERE id <= %s", [CAP + 1])
                c.execute(f"INSERT INTO {table} (id, v) VALUES (%s, %s)", [99, 9])
        assert e.value.sqlstate == "54000"
        assert c.execute("SELECT 1").fetchone() == (1,)
    # psycopg sends the pipeline as one batch up to its Sync: PostgreSQL runs it
    # as one implicit transaction, and the error undoes all of it, as it would
    # for any error of the server's own; the INSERT behind it never ran.
    assert changed(postgres, table) == (0, 30)
    assert f"INSERT INTO {table} (id, v)" not in postgres.log()


def test_psql_simple_query_autocommit_over_and_under(capped, postgres, table):
    r = psql(capped, f"UPDATE {table} SET v = 1 WHERE id <= {CAP + 1}", app=CAPPED, password=CAPPED_PASSWORD,
             check=False)
    assert r.returncode != 0
    assert f"ERROR:  pgmoat: UPDATE changed {CAP + 1} rows, more than max_rows_affected = {CAP}" in r.stderr
    assert changed(postgres, table) == (0, 30)
    r = psql(capped, f"UPDATE {table} SET v = 1 WHERE id <= {CAP}", app=CAPPED, password=CAPPED_PASSWORD)
    assert r.stdout.strip() == f"UPDATE {CAP}"
    assert changed(postgres, table) == (CAP, 30)
    # Several statements in one Query: atomic, as PostgreSQL runs them; one over
    # the cap undoes both.
    r = psql(capped, f"UPDATE {table} SET v = 7 WHERE id = 30; DELETE FROM {table} WHERE id > 5", app=CAPPED,
             password=CAPPED_PASSWORD, check=False)
    assert "DELETE changed 25 rows" in r.stderr
    assert changed(postgres, table) == (CAP, 30)


def test_psql_script_in_a_transaction_commit_rolls_back(capped, postgres, table):
    r = psql(capped, app=CAPPED, password=CAPPED_PASSWORD, args=["-v", "ON_ERROR_STOP=0"], check=False,
             input=f"BEGIN;\nUPDATE {table} SET v = 1 WHERE id = 1;\nUPDATE {table} SET v = 1 WHERE id > 0;\n"
                   "SELECT 1;\nCOMMIT;\n")
    assert "more than max_rows_affected" in r.stderr
    assert "current transaction is aborted" in r.stderr
    assert r.stdout.strip().splitlines()[-1] == "ROLLBACK"
    assert changed(postgres, table) == (0, 30)


def test_raw_pipelines_commit_behind_an_over_cap_write_never_commits_it(capped, postgres, table):
    c = pgwire.Conn(capped.port)
    c.login(CAPPED, CAPPED_PASSWORD)
    # Simple protocol: BEGIN, the write, COMMIT in one send.
    c.send(pgwire.query("BEGIN") + pgwire.query(f"UPDATE {table} SET v = 1 WHERE id <= 20") + pgwire.query("COMMIT"))
    got = c.read_until(b"Z") + c.read_until(b"Z") + c.read_until(b"Z")
    types = [m[0] for m in got]
    assert types == [b"C", b"Z", b"E", b"Z", b"C", b"Z"]
    assert pgwire.error_fields(got[2][1])["C"] == "54000"
    assert got[3][1] == b"E" and got[4][1] == b"ROLLBACK\x00" and got[5][1] == b"I"
    # Extended protocol: the write, then a marker insert, then Sync; nothing of
    # the batch survives and the insert never reaches the server.
    c.send(pgwire.parse("", f"UPDATE {table} SET v = 1 WHERE id <= 20") + pgwire.bind() + pgwire.execute() +
           pgwire.parse("", f"INSERT INTO {table} (id) VALUES (4242)") + pgwire.bind() + pgwire.execute() +
           pgwire.message(b"S"))
    got = c.read_until(b"Z")
    assert [m[0] for m in got] == [b"1", b"2", b"E", b"Z"]
    assert pgwire.error_fields(got[2][1])["C"] == "54000" and got[3][1] == b"I"
    # Under the cap in the same shape: both run, committed at Sync.
    c.send(pgwire.parse("", f"UPDATE {table} SET v = 1 WHERE id <= 3") + pgwire.bind() + pgwire.execute() +
           pgwire.parse("", f"INSERT INTO {table} (id) VALUES (4343)") + pgwire.bind() + pgwire.execute() +
           pgwire.message(b"S"))
    got = c.read_until(b"Z")
    assert [m[0] for m in got] == [b"1", b"2", b"C", b"1", b"2", b"C", b"Z"]
    c.close()
    assert changed(postgres, table) == (3, 31)
    assert "4242" not in postgres.log()


def test_node_postgres_both_protocols(capped, postgres, table):
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "pg")):
        pytest.fail("node-postgres is not installed: run `npm ci` in tests/integration/node")
    url = f"postgresql://{CAPPED}:{CAPPED_PASSWORD}@127.0.0.1:{capped.port}/dev"
    r = subprocess.run(["node", os.path.join(NODE_DIR, "client.js"), "affected_rows", url, table, str(CAP)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["extended_over"]["code"] == "54000"
    assert out["extended_under"]["value"] == CAP
    assert out["simple_over"]["code"] == "54000"
    assert out["simple_under"]["value"] == 10
    assert out["tx_over"]["code"] == "54000"
    assert out["tx_next"]["code"] == "25P02"
    assert out["tx_end"]["value"] == "ROLLBACK"
    assert out["after"]["value"] == 1
    assert changed(postgres, table) == (CAP, 20)
