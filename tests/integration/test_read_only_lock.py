"""The second lock of a read-only policy against a real PostgreSQL: pgmoat starts
the identity's server session with default_transaction_read_only = on, so a write
that a misconfigured policy lets through is refused by the server itself (25006),
and every statement that could turn the lock off is refused by pgmoat first."""
import psycopg
import pytest

from conftest import psql
from pgharness import UPSTREAM_USER, Pgmoat

LOCKED, LOCKED_PASSWORD = "locked-app", "locked-pass-123"


@pytest.fixture(scope="module")
def locked(workdir, postgres):
    postgres.sql(f"DROP TABLE IF EXISTS lock_rows; CREATE TABLE lock_rows (id int PRIMARY KEY, note text);"
                 f"INSERT INTO lock_rows VALUES (1, 'one'); ALTER TABLE lock_rows OWNER TO {UPSTREAM_USER}", "app")
    # Misconfigured on purpose: read_only, yet DML and writes of every table are
    # allowed, so pgmoat's analysis lets writes through and only the server's
    # lock stands.
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}},
               apps={LOCKED: (LOCKED_PASSWORD, ["dev"])},
               policies={"locked.toml": f"""
[policy]
extends = "baseline"
read_only = true
[applies_to]
apps = ["{LOCKED}"]
[parameters]
mode = "off"
[statements]
allow = ["query", "dml", "transaction", "set", "reset", "show", "discard"]
set_parameters = ["*"]
[relations]
write = {{ allow = ["*"] }}
"""}).start()
    yield m
    m.stop()


def connect(m, **kw):
    return psycopg.connect(m.dsn(LOCKED, LOCKED_PASSWORD), autocommit=True, **kw)


def rows(postgres):
    return postgres.sql("SELECT count(*) FROM lock_rows", "app")


def test_the_server_refuses_a_write_the_policy_let_through(locked, postgres):
    with connect(locked) as c:
        assert c.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction) as e:
            c.execute("INSERT INTO lock_rows VALUES (%s, %s)", [2, "two"])
        assert e.value.sqlstate == "25006"
        assert "read-only transaction" in str(e.value)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            c.execute("UPDATE lock_rows SET note = 'x' WHERE id = 1")
        # RESET and DISCARD ALL come back to the start, where the lock is.
        c.execute("RESET ALL")
        c.execute("DISCARD ALL")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            c.execute("DELETE FROM lock_rows WHERE id = 1")
        assert c.execute("SELECT count(*) FROM lock_rows").fetchone() == (1,)
    assert rows(postgres) == "1"


@pytest.mark.parametrize("sql", [
    "SET default_transaction_read_only = off",
    "SET SESSION default_transaction_read_only TO false",
    "SET transaction_read_only = off",
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SELECT set_config('transaction_read_only', 'off', true)",
    "BEGIN READ WRITE",
    "START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE",
])
def test_pgmoat_refuses_what_would_turn_the_lock_off(locked, postgres, sql):
    with connect(locked) as c:
        with pytest.raises(psycopg.Error) as e:
            c.execute(sql)
        assert e.value.sqlstate == "42501"
        assert 'rule "read_only"' in e.value.diag.message_detail
        assert c.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            c.execute("INSERT INTO lock_rows VALUES (%s, %s)", [3, "three"])
    assert "pgmoat_rejected_statement" in postgres.log()
    assert rows(postgres) == "1"


def test_set_transaction_read_write_inside_a_transaction_is_refused(locked, postgres):
    with connect(locked) as c:
        c.execute("BEGIN")
        with pytest.raises(psycopg.Error) as e:
            c.execute("SET TRANSACTION READ WRITE")
        assert e.value.sqlstate == "42501"
        c.execute("ROLLBACK")
    assert rows(postgres) == "1"


def test_a_startup_parameter_cannot_turn_it_off(locked):
    with pytest.raises(psycopg.OperationalError) as e:
        psycopg.connect(locked.dsn(LOCKED, LOCKED_PASSWORD) + " options='-c default_transaction_read_only=off'")
    assert "default_transaction_read_only" in str(e.value)


def test_psql_sees_the_servers_refusal(locked, postgres):
    r = psql(locked, "INSERT INTO lock_rows VALUES (9, 'nine')", app=LOCKED, password=LOCKED_PASSWORD, check=False)
    assert "ERROR:  cannot execute INSERT in a read-only transaction" in r.stderr
    r = psql(locked, "BEGIN READ WRITE", app=LOCKED, password=LOCKED_PASSWORD, check=False)
    assert "ERROR:  pgmoat: BEGIN READ WRITE is not allowed: this identity is read-only" in r.stderr
    assert rows(postgres) == "1"
