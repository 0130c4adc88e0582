"""Policies enforced through pgmoat with real clients: rejections apps can act
on, exact transaction and pipeline semantics, monitor mode, reload."""
import json
import os
import signal
import subprocess
import time

import psycopg
import psycopg2
import pytest

import pgwire
from conftest import APP, APP_PASSWORD, psql
from pgharness import ROOT, UPSTREAM_USER, Pgmoat

LEGACY, LEGACY_PASSWORD = "legacy-php", "legacy-pass-123"
ANALYST, ANALYST_PASSWORD = "analyst-jane", "analyst-pass-123"
WATCHER, WATCHER_PASSWORD = "watched-app", "watched-pass-123"


@pytest.fixture(scope="module")
def enforcing(workdir, postgres):
    postgres.sql(f"""
        CREATE TABLE IF NOT EXISTS client_rows (id serial PRIMARY KEY, source text NOT NULL, n int NOT NULL);
        CREATE TABLE IF NOT EXISTS users (id serial PRIMARY KEY, email text UNIQUE, name text, password_hash text, ssn text);
        ALTER TABLE client_rows OWNER TO {UPSTREAM_USER};
        ALTER TABLE users OWNER TO {UPSTREAM_USER};
        INSERT INTO users (email, name, password_hash, ssn) VALUES ('a@example.com', 'Ann', 'x', '123') ON CONFLICT DO NOTHING;
    """, "app")
    legacy_fp = fingerprint("SELECT id, name FROM users WHERE email = 'x'")
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}},
               apps={APP: (APP_PASSWORD, ["dev"]), LEGACY: (LEGACY_PASSWORD, ["dev"]),
                     ANALYST: (ANALYST_PASSWORD, ["dev"]), WATCHER: (WATCHER_PASSWORD, ["dev"])},
               policies={
                   "legacy.toml": f"""
[policy]
extends = "baseline"
[applies_to]
apps = ["{LEGACY}"]
[parameters]
mode = "approved_structures"
[[parameters.approved]]
fingerprint = "{legacy_fp}"   # SELECT id, name FROM users WHERE email = $1
""",
                   "watched.toml": f"""
[policy]
extends = "baseline"
mode = "monitor"
[applies_to]
apps = ["{WATCHER}"]
""",
               }).start()
    yield m
    m.stop()


def fingerprint(sql):
    from pgharness import PGMOAT_BIN
    out = subprocess.run([PGMOAT_BIN, "explain", "--app", "x", "--policies", os.path.join(ROOT, "policies"), "--json", sql],
                         capture_output=True, text=True).stdout
    return json.loads(out)["analysis"]["statements"][0]["fingerprint"]


def server_rows(postgres, source):
    return int(postgres.sql(f"SELECT count(*) FROM client_rows WHERE source = '{source}'", "app"))


def test_psql_shows_the_rejection_with_detail_hint_and_caret(enforcing):
    r = psql(enforcing, "SELECT id FROM users WHERE email = 'a@example.com'", check=False)
    assert r.returncode != 0
    err = r.stderr
    assert "ERROR:  pgmoat: string literal compared in WHERE: values must be sent as bind parameters" in err
    assert "LINE 1: SELECT id FROM users WHERE email = 'a@example.com'" in err
    caret = err.splitlines()[[i for i, l in enumerate(err.splitlines()) if l.startswith("LINE 1:")][0] + 1]
    assert caret.index("^") == len("LINE 1: SELECT id FROM users WHERE email = ")
    assert 'DETAIL:  Rejected by rule "parameters" of policy "baseline" (' in err and "baseline.toml:" in err
    assert "HINT:  pass the value as a parameter: SELECT id FROM users WHERE email = $1" in err


def test_unparseable_text_is_rejected_by_pgmoat_with_the_parsers_position(enforcing, postgres):
    r = psql(enforcing, "SELECT * FORM users WHERE id = 1", check=False, args=["-v", "VERBOSITY=verbose"])
    assert "ERROR:  42601: pgmoat: syntax error at or near \"FORM\"" in r.stderr
    assert "FORM users WHERE id = 1" not in postgres.log()


# Errors PostgreSQL's grammar raises with a code of its own (PostgreSQL's
# regression suite has each): pgmoat, which parses with the same grammar and
# never sends what it cannot parse, answers with that code, as the server would.
GRAMMAR_ERRORS = [
    ("SELECT E'wrong: \\u061'", "22025"),
    ("SELECT E'wrong: \\U0061'", "22025"),
    ("ALTER INDEX attmp_idx ALTER COLUMN 0 SET STATISTICS 1000", "22023"),
    ("ALTER TABLE fktable ALTER CONSTRAINT fktable_fk_fkey NOT VALID", "0A000"),
    ("ALTER TABLE fktable ALTER CONSTRAINT fktable_fk_fkey NO INHERIT", "0A000"),
    ("CREATE TABLE fktable (tid int, id int, foo int, FOREIGN KEY (tid, foo) REFERENCES pktable "
     "ON UPDATE SET NULL (foo))", "0A000"),
    ("CREATE SCHEMA IF NOT EXISTS s CREATE TABLE abc (a int)", "0A000"),
    ("SELECT U&'wrong: \\061'", "42601"),  # the same message as 22025's, raised as a syntax error
]


@pytest.mark.parametrize("sql,code", GRAMMAR_ERRORS)
def test_grammar_errors_carry_postgresqls_own_sqlstate(enforcing, postgres, sql, code):
    with psycopg.connect(postgres.dsn()) as direct:
        with pytest.raises(psycopg.Error) as e:
            direct.execute(sql)
        assert e.value.sqlstate == code, e.value
    with psycopg.connect(enforcing.dsn(APP, APP_PASSWORD), autocommit=True) as c:
        with pytest.raises(psycopg.Error) as e:
            c.execute(sql)
        assert e.value.sqlstate == code, e.value
        assert str(e.value).startswith("pgmoat: "), e.value
        assert c.execute("SELECT 1").fetchone() == (1,)


def test_rejection_inside_a_transaction_fails_it_like_a_server_error(enforcing, postgres):
    with psycopg.connect(enforcing.dsn(APP, APP_PASSWORD)) as c:
        c.execute("INSERT INTO client_rows (source, n) VALUES (%s, %s)", ("txn", 1))
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as e:
            c.execute("DELETE FROM client_rows")
        assert str(e.value).startswith("pgmoat: DELETE without WHERE is not allowed")
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            c.execute("SELECT 1")
        c.commit()  # the server turns COMMIT of a failed transaction into ROLLBACK
    assert server_rows(postgres, "txn") == 0
    assert "DELETE FROM client_rows" not in postgres.log()


def test_a_rejected_parse_fails_the_pipeline_batch_up_to_sync(enforcing, postgres):
    c = pgwire.Conn(enforcing.port)
    c.login(APP, APP_PASSWORD)
    batch = (pgwire.parse("", "INSERT INTO client_rows (source, n) VALUES ($1, $2)") + pgwire.bind(params=["pipe", "1"]) +
             pgwire.execute() +
             pgwire.parse("", "SELECT * FROM users WHERE email = 'x@y'") + pgwire.bind() + pgwire.execute() +
             pgwire.parse("", "INSERT INTO client_rows (source, n) VALUES ($1, $2)") + pgwire.bind(params=["pipe", "2"]) +
             pgwire.execute() + pgwire.SYNC +
             pgwire.parse("", "SELECT count(*) FROM client_rows WHERE source = $1") + pgwire.bind(params=["pipe"]) +
             pgwire.execute() + pgwire.SYNC)
    c.send(batch)
    first = c.read_until(b"Z")
    kinds = [t for t, _ in first]
    assert kinds == [b"1", b"2", b"C", b"E", b"Z"]
    assert pgwire.error_fields(first[3][1])["M"].startswith("pgmoat: string literal compared in WHERE")
    assert first[-1] == (b"Z", b"I")
    second = c.read_until(b"Z")
    rows = [body for t, body in second if t == b"D"]
    assert rows and rows[0].endswith(b"0")  # the first INSERT was rolled back with the batch
    assert server_rows(postgres, "pipe") == 0


def test_psycopg_pipeline_mode_sees_the_rejection_in_order(enforcing, postgres):
    with psycopg.connect(enforcing.dsn(APP, APP_PASSWORD), autocommit=True) as c:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with c.pipeline():
                c.execute("INSERT INTO client_rows (source, n) VALUES (%s, %s)", ("pipe3", 1))
                c.execute("SELECT * FROM users WHERE email = 'x@y'", prepare=False)
                c.execute("INSERT INTO client_rows (source, n) VALUES (%s, %s)", ("pipe3", 2))
        assert c.execute("SELECT 'usable'").fetchone() == ("usable",)
    assert server_rows(postgres, "pipe3") == 0


def test_a_multi_statement_query_runs_none_of_its_statements_if_one_is_rejected(enforcing, postgres, workdir):
    # Even with stacked statements allowed, one bad statement stops all of them.
    c = pgwire.Conn(enforcing.port)
    c.login(WATCHER, WATCHER_PASSWORD)  # monitor mode: forwards; here we need enforce:
    c.close()
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={"batcher": ("batcher-pass-1", ["dev"])},
               policies={"batcher.toml": '[policy]\nextends = "baseline"\n[applies_to]\napps = ["batcher"]\n'
                                         '[signatures]\nstacked_statements = false\n[parameters]\nmode = "off"\n'}).start()
    try:
        r = psql(m, "INSERT INTO client_rows (source, n) VALUES ('multi', 1); DELETE FROM client_rows",
                 app="batcher", password="batcher-pass-1", check=False)
        assert "pgmoat: DELETE without WHERE is not allowed" in r.stderr
        assert server_rows(postgres, "multi") == 0
        psql(m, "INSERT INTO client_rows (source, n) VALUES ('multi', 1); INSERT INTO client_rows (source, n) VALUES ('multi', 2)",
             app="batcher", password="batcher-pass-1")
        assert server_rows(postgres, "multi") == 2
    finally:
        m.stop()


def test_the_session_stays_usable_after_many_rejections(enforcing):
    with psycopg.connect(enforcing.dsn(APP, APP_PASSWORD), autocommit=True) as c:
        for sql in ["SELECT pg_sleep(1)", "DROP TABLE users", "SET search_path = x", "SELECT * FROM pg_authid",
                    "SELECT 1; SELECT 2", "COPY users TO PROGRAM 'id'"]:
            with pytest.raises(psycopg.Error) as e:
                c.execute(sql)
            assert e.value.diag.message_primary.startswith("pgmoat:")
            assert e.value.diag.sqlstate == "42501"
        assert c.execute("SELECT email FROM users WHERE id = %s", (1,)).fetchone() == ("a@example.com",)


def test_client_side_binding_under_approved_structures(enforcing):
    c = psycopg2.connect(enforcing.dsn(LEGACY, LEGACY_PASSWORD))
    cur = c.cursor()
    cur.execute("SELECT id, name FROM users WHERE email = %s", ("a@example.com",))
    assert cur.fetchall() == [(1, "Ann")]
    cur.execute("SELECT id, name FROM users WHERE email = %s", ("nobody@example.com",))
    assert cur.fetchall() == []
    # Injection through a value the app spliced in itself: the structure changes.
    with pytest.raises(psycopg2.errors.InsufficientPrivilege) as e:
        cur.execute("SELECT id, name FROM users WHERE email = '%s'" % "' OR email LIKE '%")
    assert "is not approved for this app" in str(e.value)
    c.rollback()
    with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="like 1=1"):
        cur.execute("SELECT id, name FROM users WHERE email = '%s'" % "' OR '1'='1")
    c.rollback()
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute("SELECT id, name FROM users WHERE email = %s UNION SELECT 1, password_hash FROM users", ("x",))
    c.close()


def test_readonly_analyst_cannot_write_or_see_denied_columns(enforcing):
    with psycopg.connect(enforcing.dsn(ANALYST, ANALYST_PASSWORD), autocommit=True) as c:
        assert c.execute("SELECT email FROM users WHERE id = %s", (1,)).fetchone() == ("a@example.com",)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="column public.users.password_hash|column users.password_hash"):
            c.execute("SELECT password_hash FROM users WHERE id = %s", (1,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="includes the denied column"):
            c.execute("SELECT * FROM users WHERE id = %s", (1,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="INSERT statements are not allowed"):
            c.execute("INSERT INTO client_rows (source, n) VALUES (%s, %s)", ("analyst", 1))


def test_monitor_mode_forwards_and_records_what_it_would_reject(enforcing, postgres):
    line = 'monitor: app "watched-app" statement would be rejected by rule "parameters" of policy "watched"'
    # pgmoat's own log samples these lines (20 a second, shared with rejections, of
    # which the tests before this one make many): a statement in the next second
    # is logged if this one fell outside the sample.
    with psycopg.connect(enforcing.dsn(WATCHER, WATCHER_PASSWORD), autocommit=True) as c:
        for _ in range(3):
            assert c.execute("SELECT name FROM users WHERE email = 'a@example.com'").fetchone() == ("Ann",)
            if line in enforcing.log():
                break
            time.sleep(1.1)
    assert line in enforcing.log()
    assert "SELECT name FROM users WHERE email = 'a@example.com'" in postgres.log()


def test_reload_on_file_change_and_a_broken_file_keeps_the_old_policies(enforcing):
    def rejected(sql):
        with psycopg.connect(enforcing.dsn(APP, APP_PASSWORD), autocommit=True) as c:
            try:
                c.execute(sql)
                return False
            except psycopg.errors.InsufficientPrivilege:
                return True

    assert rejected("SELECT 1 FROM users WHERE id = 1 LIMIT 1")
    enforcing.write_policy("orders.toml", f"""
[policy]
extends = "baseline"
[applies_to]
apps = ["{APP}"]
[parameters]
mode = "off"
""")
    wait_for(lambda: "orders" in enforcing.log() and not rejected("SELECT 1 FROM users WHERE id = 1 LIMIT 1"))
    # A broken edit: the previous set stays in force, the error names file:line.
    enforcing.write_policy("orders.toml", '[policy]\nextends = "baseline"\n[applies_to]\napps = ["x"]\n[limits]\nmax_rowz = 1\n')
    wait_for(lambda: "orders.toml:6:1: unknown key" in enforcing.log())
    assert "configuration reload failed, keeping policies version" in enforcing.log()
    assert not rejected("SELECT 1 FROM users WHERE id = 1 LIMIT 1")
    os.remove(os.path.join(enforcing.policies_dir, "orders.toml"))
    enforcing.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: rejected("SELECT 1 FROM users WHERE id = 1 LIMIT 1"))


def test_pgbench_prepared_under_the_baseline(enforcing):
    env = dict(os.environ, PGPASSWORD=APP_PASSWORD)
    init = subprocess.run(["pgbench", "-i", "-s", "1", "-q", "-h", "127.0.0.1", "-p", str(enforcing.port), "-U", APP, "dev"],
                          capture_output=True, text=True, env=env)
    assert init.returncode != 0 and "pgmoat:" in init.stderr  # DDL is not for apps
    r = subprocess.run(["pgbench", "-S", "-M", "prepared", "-t", "5", "-h", "127.0.0.1", "-p", str(enforcing.port), "-U",
                        APP, "dev"], capture_output=True, text=True, env=env)
    # pgbench_accounts does not exist in this database: the server's error, not pgmoat's.
    assert "pgmoat:" not in r.stderr


def wait_for(cond, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_max_rows_stops_a_result_at_the_cap_with_54000(enforcing):
    with psycopg.connect(enforcing.dsn(ANALYST, ANALYST_PASSWORD), autocommit=True) as c:
        assert len(c.execute("SELECT g FROM generate_series(%s::int, %s::int) g", (1, 5000)).fetchall()) == 5000
        started = time.time()
        with pytest.raises(psycopg.errors.ProgramLimitExceeded) as e:
            c.execute("SELECT g FROM generate_series(%s::int, %s::int) g", (1, 50_000_000)).fetchall()
        assert "returned more than 10000 rows, the limit of policy \"readonly-analyst\"" in str(e.value)
        assert time.time() - started < 20  # cancelled, not run to the end
        assert c.execute("SELECT count(*) FROM users WHERE id > %s", (0,)).fetchone()[0] >= 1
    with psycopg.connect(enforcing.dsn(ANALYST, ANALYST_PASSWORD)) as c:
        with pytest.raises(psycopg.errors.ProgramLimitExceeded):
            c.execute("SELECT g FROM generate_series(%s::int, %s::int) g", (1, 20_000)).fetchall()
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        c.rollback()


def test_rate_limit_refuses_statements_over_the_limit_with_53400(workdir, postgres):
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={"busy": ("busy-pass-123", ["dev"])},
               policies={"busy.toml": '[policy]\nextends = "baseline"\n[applies_to]\napps = ["busy"]\n'
                                      '[limits]\nstatements_per_second = 5\n'}).start()
    try:
        refused = 0
        with psycopg.connect(m.dsn("busy", "busy-pass-123"), autocommit=True) as c:
            for i in range(20):
                try:
                    c.execute("SELECT %s::int", (i,))
                except psycopg.errors.ConfigurationLimitExceeded as e:
                    assert 'sent more than 5 statements per second' in str(e)
                    refused += 1
            assert refused >= 10
            time.sleep(1.2)
            assert c.execute("SELECT %s::int", (1,)).fetchone() == (1,)
    finally:
        m.stop()
