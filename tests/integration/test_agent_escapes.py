"""The shipped agent policy (policies/agent.toml, for identities with kind = "agent")
against the escapes read-only database wrappers for AI agents are known to fall to,
through pgmoat to a real PostgreSQL. Each escape carries a unique marker; the
server's own log (log_statement = all) must show that it never arrived, and the
data must be intact. The list, from the incidents and write-ups on read-only agent
tools (MCP "read-only" servers broken by `COMMIT; DROP ...`, SET
default_transaction_read_only = off, writable CTEs, side-effect functions):"""
import uuid

import psycopg
import pytest

import pgwire
from pgharness import UPSTREAM_USER, Pgmoat

AGENT, AGENT_PASSWORD = "support-agent", "agent-pass-1234"


def marker():
    return "mk" + uuid.uuid4().hex[:12]


# (name, SQL with {m} for the marker, where {m} also names an object or value)
ESCAPES = [
    ("commit then write", "COMMIT; INSERT INTO agent_data (note) VALUES ('{m}')"),
    ("rollback then write", "ROLLBACK; DELETE FROM agent_data WHERE note <> '{m}'"),
    ("end then drop", "END; DROP TABLE agent_data /* {m} */"),
    ("select then commit then write", "SELECT 1; COMMIT; UPDATE agent_data SET note = '{m}'"),
    ("begin read write", "BEGIN READ WRITE /* {m} */"),
    ("start transaction read write", "START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE /* {m} */"),
    ("set transaction read write", "SET TRANSACTION READ WRITE /* {m} */"),
    ("set session characteristics", "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE /* {m} */"),
    ("set default_transaction_read_only off", "SET default_transaction_read_only = off /* {m} */"),
    ("set transaction_read_only off", "SET transaction_read_only = off /* {m} */"),
    ("set_config read_only off", "SELECT set_config('default_transaction_read_only', 'off', false) /* {m} */"),
    ("set_config transaction", "SELECT set_config('transaction_read_only', 'off', true), '{m}'"),
    ("reset session authorization", "SET SESSION AUTHORIZATION DEFAULT /* {m} */"),
    ("set role", "SET ROLE postgres /* {m} */"),
    ("writable CTE in a SELECT", "WITH d AS (DELETE FROM agent_data RETURNING *) SELECT count(*), '{m}' FROM d"),
    ("writable CTE update", "WITH u AS (UPDATE agent_data SET note = '{m}' RETURNING id) SELECT * FROM u"),
    ("insert select", "INSERT INTO agent_data (note) SELECT '{m}'"),
    ("select into", "SELECT * INTO agent_copy_{m} FROM agent_data"),
    ("create temp table as", "CREATE TEMP TABLE t_{m} AS SELECT * FROM agent_data"),
    ("create table", "CREATE TABLE t_{m} (a int)"),
    ("truncate", "TRUNCATE agent_data /* {m} */"),
    ("merge", "MERGE INTO agent_data a USING (SELECT 1 AS id) s ON a.id = s.id WHEN MATCHED THEN DELETE /* {m} */"),
    ("select for update", "SELECT * FROM agent_data FOR UPDATE /* {m} */"),
    ("nextval", "SELECT nextval('agent_data_id_seq'), '{m}'"),
    ("setval", "SELECT setval('agent_data_id_seq', 1), '{m}'"),
    ("large object import", "SELECT lo_import('/etc/passwd'), '{m}'"),
    ("large object create", "SELECT lo_create(0), '{m}'"),
    ("read a server file", "SELECT pg_read_file('/etc/passwd'), '{m}'"),
    ("list server files", "SELECT pg_ls_dir('.'), '{m}'"),
    ("terminate backends", "SELECT pg_terminate_backend(pid), '{m}' FROM pg_stat_activity"),
    ("dblink loopback write", "SELECT dblink_exec('dbname=app', 'DELETE FROM agent_data'), '{m}'"),
    ("notify", "SELECT pg_notify('c', '{m}')"),
    ("advisory lock", "SELECT pg_advisory_lock(1), '{m}'"),
    ("sleep", "SELECT pg_sleep(1), '{m}'"),
    ("copy to program", "COPY agent_data TO PROGRAM 'touch /tmp/{m}'"),
    ("copy from file", "COPY agent_data FROM '/tmp/{m}'"),
    ("copy to stdout", "COPY (SELECT '{m}') TO STDOUT"),
    ("do block", "DO $$BEGIN DELETE FROM agent_data; RAISE NOTICE '{m}'; END$$"),
    ("call procedure", "CALL agent_proc('{m}')"),
    ("explain analyze of a write", "EXPLAIN ANALYZE DELETE FROM agent_data WHERE note <> '{m}'"),
    ("prepare a write", "PREPARE p_{m} AS DELETE FROM agent_data"),
    ("execute a prepared write", "EXECUTE p_{m}"),
    ("declare cursor over a write", "DECLARE c_{m} CURSOR FOR DELETE FROM agent_data RETURNING *"),
    ("lock table", "LOCK TABLE agent_data IN ACCESS EXCLUSIVE MODE /* {m} */"),
    ("alter system", "ALTER SYSTEM SET default_transaction_read_only = off /* {m} */"),
    ("alter role", "ALTER ROLE CURRENT_USER SET default_transaction_read_only = off /* {m} */"),
    ("grant", "GRANT ALL ON agent_data TO public /* {m} */"),
    ("vacuum", "VACUUM agent_data /* {m} */"),
    ("discard then write", "DISCARD ALL; DELETE FROM agent_data /* {m} */"),
    ("listen", "LISTEN c_{m}"),
    ("load a library", "LOAD '/tmp/{m}.so'"),
    ("comment-hidden stack", "SELECT 1 /* ; */; DELETE FROM agent_data /* {m} */"),
    ("unicode-escaped identifier write", "INSERT INTO U&\"agent\\005fdata\" (note) VALUES ('{m}')"),
    ("function in a view", "SELECT * FROM agent_data WHERE pg_catalog.set_config('x.y', '{m}', false) IS NOT NULL"),
]


@pytest.fixture(scope="module")
def agent(workdir, postgres):
    postgres.sql(f"""
        DROP TABLE IF EXISTS agent_data;
        CREATE TABLE agent_data (id serial PRIMARY KEY, note text);
        INSERT INTO agent_data (note) VALUES ('one'), ('two'), ('three');
        ALTER TABLE agent_data OWNER TO {UPSTREAM_USER};
        CREATE OR REPLACE PROCEDURE agent_proc(t text) LANGUAGE sql AS $$DELETE FROM agent_data$$;
        CREATE EXTENSION IF NOT EXISTS dblink;
    """, "app")
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}},
               apps={AGENT: (AGENT_PASSWORD, ["dev"], {"kind": "agent"})}).start()
    yield m
    m.stop()


def data(postgres):
    return postgres.sql("SELECT string_agg(note, ',' ORDER BY id) FROM agent_data", "app")


@pytest.mark.parametrize("name,sql", ESCAPES, ids=[e[0] for e in ESCAPES])
def test_each_escape_is_refused_and_never_reaches_the_server(agent, postgres, name, sql):
    import time
    m = marker()
    c = pgwire.Conn(agent.port)
    assert c.login(AGENT, AGENT_PASSWORD)[-1][0] == b"Z"
    c.send(pgwire.query(sql.format(m=m)))
    got = c.read_until(b"Z")
    err = pgwire.first_error(got)
    assert err is not None and err["M"].startswith("pgmoat:"), (name, got)
    assert err["C"] in ("42501", "42601"), err
    # The session goes on, still read-only on the server.
    c.send(pgwire.query("SHOW default_transaction_read_only"))
    rows = [b for t, b in c.read_until(b"Z") if t == b"D"]
    assert rows and rows[0].endswith(b"on")
    c.close()
    time.sleep(0.2)  # the server writes its log asynchronously
    assert m not in postgres.log(), f"{name}: {m} reached the server"
    assert data(postgres) == "one,two,three"


def test_reads_work_for_the_agent(agent):
    with psycopg.connect(agent.dsn(AGENT, AGENT_PASSWORD), autocommit=True) as c:
        assert c.execute("SELECT note FROM agent_data WHERE id = 1").fetchone() == ("one",)
        assert c.execute("SELECT count(*) FROM agent_data WHERE 1 = 1").fetchone() == (3,)
        with c.transaction():
            assert c.execute("SELECT count(*) FROM agent_data").fetchone() == (3,)
        assert c.execute("SHOW transaction_read_only").fetchone() == ("on",)


def test_extended_protocol_escapes(agent, postgres):
    m = marker()
    with psycopg.connect(agent.dsn(AGENT, AGENT_PASSWORD), autocommit=True) as c:
        for sql, params in [("INSERT INTO agent_data (note) VALUES (%s)", [m]),
                            ("SELECT set_config('default_transaction_read_only', %s, false)", ["off"]),
                            ("WITH d AS (DELETE FROM agent_data WHERE note = %s RETURNING 1) SELECT * FROM d", [m])]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute(sql, params)
    assert m not in postgres.log()
    assert data(postgres) == "one,two,three"


def test_an_agent_hits_its_row_cap(agent, postgres):
    with psycopg.connect(agent.dsn(AGENT, AGENT_PASSWORD), autocommit=True) as c:
        with pytest.raises(psycopg.Error) as e:
            c.execute("SELECT g FROM generate_series(1, 5000) g").fetchall()
        assert e.value.sqlstate == "54000"
        assert c.execute("SHOW statement_timeout").fetchone() == ("15s",)
