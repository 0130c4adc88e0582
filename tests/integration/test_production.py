"""Per-target production mode against a real PostgreSQL: `production = "read_only"`
makes agents' and people's identities read-only on the target (pgmoat refuses
their writes, and their server sessions carry the second lock, so PostgreSQL
refuses what pgmoat's analysis cannot see), `production = "no_ddl"` refuses their
DDL unless a grant lifts it; apps are not affected. No grant lifts read_only."""
import signal
import time

import psycopg
import pytest

from pgharness import UPSTREAM_USER, Pgmoat

PERSON, PERSON_PASSWORD = "person-pat", "person-pat-pass-1"
SERVICE, SERVICE_PASSWORD = "prod-service", "prod-service-pass-1"
ADMIN, ADMIN_PASSWORD = "ops-olga", "ops-olga-pass-1234"

# Wide on purpose: whatever the policy allows, the target's mode decides.
WIDE = f"""
[policy]
extends = "baseline"
priority = 60
[applies_to]
apps = ["{PERSON}", "{SERVICE}"]
[parameters]
mode = "off"
[statements]
allow = ["query", "dml", "ddl", "transaction", "set", "reset", "show", "discard"]
set_parameters = ["*"]
[relations]
write = {{ allow = ["*"] }}
ddl = {{ allow = ["*"] }}
"""


@pytest.fixture(scope="module")
def prod(workdir, postgres):
    postgres.sql(f"DROP TABLE IF EXISTS prod_rows; CREATE TABLE prod_rows (id int); "
                 f"ALTER TABLE prod_rows OWNER TO {UPSTREAM_USER}; "
                 f"CREATE OR REPLACE FUNCTION prod_sneaky_write() RETURNS int LANGUAGE sql AS "
                 f"'INSERT INTO prod_rows VALUES (99) RETURNING id'; "
                 f"ALTER FUNCTION prod_sneaky_write() OWNER TO {UPSTREAM_USER}", "app")
    m = Pgmoat(workdir, targets={"prod": {"port": postgres.port, "production": "read_only"}},
               apps={PERSON: (PERSON_PASSWORD, ["prod"], {"kind": "person"}),
                     SERVICE: (SERVICE_PASSWORD, ["prod"]),
                     ADMIN: (ADMIN_PASSWORD, [], {"admin": True})},
               policies={"wide.toml": WIDE}).start()
    yield m
    m.stop()
    assert m.proc.returncode == 0, m.log()


def set_mode(m, mode, outcome="configuration reloaded"):
    before = m.log().count(outcome)
    m.targets["prod"]["production"] = mode
    m._write_files()
    m.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while m.log().count(outcome) == before:
        assert time.time() < deadline, m.log()[-2000:]
        time.sleep(0.05)


def connect(m, who=PERSON, password=PERSON_PASSWORD, **kw):
    return psycopg.connect(m.dsn(who, password, "prod"), autocommit=True, **kw)


def rows(postgres):
    return int(postgres.sql("SELECT count(*) FROM prod_rows", "app"))


def test_read_only_refuses_a_persons_writes_not_an_apps(prod, postgres):
    set_mode(prod, "read_only")
    before = rows(postgres)
    with connect(prod) as c:
        assert c.execute("SELECT count(*) FROM prod_rows").fetchone() == (before,)
        for sql in ["INSERT INTO prod_rows VALUES (1)", "DELETE FROM prod_rows WHERE id = 1",
                    "CREATE TABLE prod_new (id int)", "WITH d AS (DELETE FROM prod_rows WHERE id = 7 RETURNING 1) SELECT 1"]:
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction) as e:
                c.execute(sql)
            assert 'target "prod" is in production mode read_only: person "person-pat" may not write' in str(e.value)
            assert 'production = "read_only"' in e.value.diag.message_detail
        # What could turn the second lock off is refused by pgmoat first.
        for sql in ["SET default_transaction_read_only = off", "BEGIN READ WRITE",
                    "SELECT set_config('default_transaction_read_only', 'off', false)"]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege) as e:
                c.execute(sql)
            assert "may not make its session writable" in str(e.value)
        # The second lock: the server session is read-only, and refuses the write
        # hidden in a function pgmoat's analysis cannot see into.
        assert c.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction) as e:
            c.execute("SELECT prod_sneaky_write()")
        assert "cannot execute INSERT in a read-only transaction" in str(e.value)
        # The extended protocol too (a prepared write).
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            c.execute("INSERT INTO prod_rows VALUES (%s)", [2], prepare=True)
    assert rows(postgres) == before
    # A startup parameter cannot turn the lock off.
    with pytest.raises(psycopg.OperationalError) as e:
        psycopg.connect(prod.dsn(PERSON, PERSON_PASSWORD, "prod") + " options='-c default_transaction_read_only=off'")
    assert "default_transaction_read_only" in str(e.value)
    # Apps (kind "app") keep writing.
    with connect(prod, SERVICE, SERVICE_PASSWORD) as c:
        assert c.execute("SHOW default_transaction_read_only").fetchone() == ("off",)
        c.execute("INSERT INTO prod_rows VALUES (3)")
    assert rows(postgres) == before + 1
    deadline = time.time() + 10  # the audit writer is asynchronous
    while True:
        rejected = [r for r in prod.audit_records("statement") if r.get("rule") == "production"]
        if len(rejected) >= 8 or time.time() > deadline:
            break
        time.sleep(0.1)
    assert len(rejected) >= 8 and all(r["app"] == PERSON for r in rejected)


def test_no_grant_lifts_read_only(prod, postgres):
    set_mode(prod, "read_only")
    with psycopg.connect(prod.dsn(ADMIN, ADMIN_PASSWORD, "pgmoat"), autocommit=True) as admin:
        gid = admin.execute(f"GRANT production TO {PERSON} ON prod FOR 5m REASON 'try'").fetchone()[0]
        with connect(prod) as c:
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction) as e:
                c.execute("INSERT INTO prod_rows VALUES (4)")
            assert "a grant does not lift read_only" in e.value.diag.message_hint
        admin.execute(f"REVOKE {gid}")


def test_no_ddl_refuses_a_persons_ddl_until_a_grant_lifts_it(prod, postgres):
    set_mode(prod, "no_ddl")
    postgres.sql("DROP TABLE IF EXISTS prod_ddl", "app")
    with connect(prod) as c:
        assert c.execute("SHOW default_transaction_read_only").fetchone() == ("off",)
        c.execute("INSERT INTO prod_rows VALUES (5)")  # data writes: the policy's business
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as e:
            c.execute("CREATE TABLE prod_ddl (id int)")
        assert 'production mode no_ddl: person "person-pat" may not change schema or roles' in str(e.value)
        assert "GRANT <kind> TO <app>" in e.value.diag.message_hint
        with psycopg.connect(prod.dsn(ADMIN, ADMIN_PASSWORD, "pgmoat"), autocommit=True) as admin:
            # A grant of one kind lifts it for that kind only, in the running session.
            gid = admin.execute(f"GRANT create_table TO {PERSON} ON prod FOR 5m REASON 'INC-9'").fetchone()[0]
            c.execute("CREATE TABLE prod_ddl (id int)")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute("ALTER TABLE prod_ddl ADD COLUMN note text")
            admin.execute(f"REVOKE {gid}")
            # The rule itself: every DDL.
            gid = admin.execute(f"GRANT production TO {PERSON} ON prod FOR 5m REASON 'INC-10'").fetchone()[0]
            c.execute("ALTER TABLE prod_ddl ADD COLUMN note text")
            admin.execute(f"REVOKE {gid}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("DROP TABLE prod_ddl")
    assert postgres.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'prod_ddl'", "app").strip() == "2"
    deadline = time.time() + 10
    while True:
        granted = [r for r in prod.audit_records("statement")
                   if r.get("grant") and r["statement"].startswith(("CREATE", "ALTER"))]
        if len(granted) >= 2 or time.time() > deadline:
            break
        time.sleep(0.1)
    assert [r["statement"].split()[0] for r in granted] == ["CREATE", "ALTER"]
    # Apps are not affected.
    with connect(prod, SERVICE, SERVICE_PASSWORD) as c:
        c.execute("DROP TABLE prod_ddl")
    set_mode(prod, "read_only")


def test_a_mode_that_does_not_read_is_a_config_error(prod):
    set_mode(prod, "readonly", outcome="configuration reload failed")
    assert 'production: expected one of off, read_only, no_ddl, found "readonly"' in prod.log()
    set_mode(prod, "read_only")
