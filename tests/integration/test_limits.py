"""A policy's [limits] on server settings, against a real PostgreSQL: pgmoat pins
them on its own session with the target, the server enforces them with its own
errors, a client may lower them but not raise them at startup, and one session
running into a limit leaves the others alone."""
import threading
import time

import psycopg
import pytest

import pgwire
from conftest import APP, APP_PASSWORD
from pgharness import UPSTREAM_USER, Pgmoat

TIGHT, TIGHT_PASSWORD = "tight-app", "tight-pass-1234"
SPILL, SPILL_PASSWORD = "spill-app", "spill-pass-1234"


@pytest.fixture(scope="module")
def limited(workdir, postgres):
    postgres.sql(f"""
        CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, balance int NOT NULL);
        INSERT INTO accounts VALUES (1, 100), (2, 200) ON CONFLICT DO NOTHING;
        ALTER TABLE accounts OWNER TO {UPSTREAM_USER};
    """, "app")
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}},
               apps={APP: (APP_PASSWORD, ["dev"]), TIGHT: (TIGHT_PASSWORD, ["dev"]),
                     SPILL: (SPILL_PASSWORD, ["dev"])},
               policies={
                   # Tight limits so that tests reach them in a moment; literals are
                   # allowed so that a long statement is easy to write.
                   "tight.toml": f"""
[policy]
extends = "baseline"
[applies_to]
apps = ["{TIGHT}"]
[parameters]
mode = "off"
[limits]
statement_timeout = "300ms"
idle_in_transaction_session_timeout = "1s"
lock_timeout = "200ms"
""",
                   "spill.toml": f"""
[policy]
extends = "baseline"
[applies_to]
apps = ["{SPILL}"]
[parameters]
mode = "off"
[limits]
work_mem = "64kB"
temp_file_limit = "1MB"
"""}).start()
    yield m
    m.stop()


def connect(m, app=APP, password=APP_PASSWORD, **kw):
    return psycopg.connect(m.dsn(app, password), autocommit=True, **kw)


def show(conn, name):
    return conn.execute(f"SHOW {name}").fetchone()[0]


def test_the_baseline_pins_its_limits_on_the_server_session(limited):
    with connect(limited) as c:
        assert show(c, "statement_timeout") == "2min"
        assert show(c, "idle_in_transaction_session_timeout") == "5min"
        assert show(c, "lock_timeout") == "30s"
        assert show(c, "work_mem") == "64MB"


def test_a_lower_setting_is_the_apps_own_and_reset_comes_back_to_the_limit(limited):
    with connect(limited) as c:
        c.execute("SET statement_timeout = '5s'")
        assert show(c, "statement_timeout") == "5s"
        c.execute("RESET statement_timeout")
        assert show(c, "statement_timeout") == "2min"


def test_a_startup_setting_above_the_limit_refuses_the_login_and_a_lower_one_is_kept(limited):
    c = pgwire.Conn(limited.port)
    msgs = c.login(APP, APP_PASSWORD, extra={"statement_timeout": "0"})
    err = pgwire.first_error(msgs)
    assert err and err["C"] == "42501", msgs
    assert "statement_timeout=0 is above the limit of policy \"baseline\"" in err["M"]
    assert "baseline.toml:" in err["H"]
    assert c.closed()
    c = pgwire.Conn(limited.port)
    msgs = c.login(APP, APP_PASSWORD, extra={"statement_timeout": "10s"})
    assert msgs[-1][0] == b"Z", msgs
    c.send(pgwire.query("SHOW statement_timeout"))
    rows = [body for t, body in c.read_until(b"Z") if t == b"D"]
    assert rows and b"10s" in rows[0]
    c.close()


def test_a_statement_over_its_time_limit_ends_with_postgresqls_error_and_others_go_on(limited):
    other_done = []

    def other_session():
        with connect(limited) as o:
            for _ in range(20):
                o.execute("SELECT id FROM accounts WHERE id = %s", (1,))
            other_done.append(True)

    with connect(limited, TIGHT, TIGHT_PASSWORD) as c:
        t = threading.Thread(target=other_session)
        t.start()
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled) as e:
            c.execute("SELECT count(*) FROM generate_series(1, 1000000000) a")
        assert "statement timeout" in str(e.value)
        assert time.monotonic() - started < 10
        t.join(timeout=30)
        assert other_done == [True]
        # The session that ran into its limit goes on.
        assert c.execute("SELECT balance FROM accounts WHERE id = 2").fetchone() == (200,)


def test_a_lock_wait_over_lock_timeout_fails_with_postgresqls_error(limited, postgres):
    holder = psycopg.connect(postgres.dsn("app"))
    try:
        holder.execute("SELECT balance FROM accounts WHERE id = 1 FOR UPDATE")
        with connect(limited, TIGHT, TIGHT_PASSWORD) as c:
            with pytest.raises(psycopg.errors.LockNotAvailable):
                c.execute("UPDATE accounts SET balance = balance + 1 WHERE id = 1")
            assert c.execute("SELECT balance FROM accounts WHERE id = 1").fetchone() == (100,)
    finally:
        holder.rollback()
        holder.close()


def test_an_idle_transaction_over_its_limit_ends_the_session_not_pgmoat(limited):
    c = psycopg.connect(limited.dsn(TIGHT, TIGHT_PASSWORD))
    c.execute("SELECT balance FROM accounts WHERE id = 1")  # opens a transaction
    time.sleep(2.5)
    with pytest.raises(psycopg.OperationalError) as e:
        c.execute("SELECT balance FROM accounts WHERE id = 2")
    assert "idle-in-transaction timeout" in str(e.value)
    c.close()
    assert limited.alive()
    with connect(limited, TIGHT, TIGHT_PASSWORD) as again:
        assert again.execute("SELECT balance FROM accounts WHERE id = 2").fetchone() == (200,)


def test_temp_file_limit_needs_the_grant_and_then_bounds_spills(limited, postgres):
    # Without the grant PostgreSQL refuses pgmoat's login: the client is told why.
    with pytest.raises(psycopg.OperationalError) as e:
        connect(limited, SPILL, SPILL_PASSWORD)
    assert "temp_file_limit" in str(e.value)
    postgres.sql(f"GRANT SET ON PARAMETER temp_file_limit TO {UPSTREAM_USER}")
    try:
        with connect(limited, SPILL, SPILL_PASSWORD) as c:
            assert show(c, "temp_file_limit") == "1MB"
            assert show(c, "work_mem") == "64kB"
            with pytest.raises(psycopg.errors.ConfigurationLimitExceeded) as e:
                c.execute("SELECT g FROM generate_series(1, 2000000) g ORDER BY g DESC")
            assert "temp_file_limit" in str(e.value)
            assert c.execute("SELECT 1").fetchone() == (1,)
    finally:
        postgres.sql(f"REVOKE SET ON PARAMETER temp_file_limit FROM {UPSTREAM_USER}")
