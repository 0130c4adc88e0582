"""Approval holds: a statement the policy's [holds] names waits, not forwarded, with
everything its client sends after it, until a person approves or denies it on the
admin console or with `pgmoat approve/deny` (which reach the running pgmoat over the
console), or its time runs out. Real psycopg and raw-protocol clients against the
harness's real PostgreSQL, whose log (log_statement = all) shows what reached it."""
import os
import subprocess
import threading
import time
import uuid

import psycopg
import pytest

import pgwire
from conftest import APP, APP_PASSWORD, OTHER_APP, OTHER_PASSWORD
from pgharness import PGMOAT_BIN, UPSTREAM_USER, Pgmoat

ADMIN, ADMIN_PASSWORD = "ops-alice", "ops-alice-pass-1234"
DBA, DBA_PASSWORD = "dba-bob", "dba-bob-pass-1234"  # an admin who also runs statements

HOLDS = f"""
[policy]
extends = "baseline"
priority = 10
[applies_to]
apps = ["{APP}", "{DBA}"]
[statements]
allow = ["query", "dml", "transaction", "set", "reset", "show", "drop", "truncate", "alter_table", "deallocate"]
require_where = []
[parameters]
mode = "off"
[relations]
ddl = {{ allow = ["*"] }}
[holds]
statements = ["drop", "truncate"]
unrestricted_writes = true
timeout = "60s"
"""

# The other app's holds time out quickly, and tell its client nothing.
QUICK = f"""
[policy]
extends = "baseline"
priority = 10
[applies_to]
apps = ["{OTHER_APP}"]
[statements]
allow = ["query", "dml", "transaction", "set", "reset", "show", "drop"]
[relations]
ddl = {{ allow = ["*"] }}
[parameters]
mode = "off"
[holds]
statements = ["drop"]
timeout = "2s"
notice = false
"""


@pytest.fixture(scope="module")
def moat(workdir, postgres):
    m = Pgmoat(workdir,
               targets={"dev": {"port": postgres.port},
                        "frozen": {"port": postgres.port, "freeze": True, "freeze_action": "hold"}},
               apps={APP: (APP_PASSWORD, ["dev", "frozen"]), OTHER_APP: (OTHER_PASSWORD, ["dev"]),
                     ADMIN: (ADMIN_PASSWORD, [], {"admin": True}),
                     DBA: (DBA_PASSWORD, ["dev"], {"admin": True})},
               policies={"holds.toml": HOLDS, "quick.toml": QUICK}).start()
    yield m
    m.stop()
    assert m.proc.returncode == 0, m.log()


def new_table(postgres):
    name = "held_" + uuid.uuid4().hex[:10]
    postgres.sql(f"CREATE TABLE {name} (id int, note text); INSERT INTO {name} VALUES (1, 'a'), (2, 'b'); "
                 f"ALTER TABLE {name} OWNER TO {UPSTREAM_USER}", "app")
    return name


def exists(postgres, table):
    return postgres.sql(f"SELECT to_regclass('public.{table}') IS NOT NULL", "app").strip() == "t"


def console(m, command, user=ADMIN, password=ADMIN_PASSWORD):
    """(rows, notices, error) of one console command over psycopg."""
    notices = []
    with psycopg.connect(m.dsn(user, password, "pgmoat"), autocommit=True) as c:
        c.add_notice_handler(lambda d: notices.append(d.message_primary))
        try:
            cur = c.execute(command)
            rows = cur.fetchall() if cur.description else []
            cols = [d.name for d in cur.description] if cur.description else []
            return [dict(zip(cols, r)) for r in rows], notices, None
        except psycopg.Error as e:
            return [], notices, e


def pending(m, marker=None, timeout=10):
    """Waits for a pending approval whose statement contains marker; returns its row."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows, _, _ = console(m, "SHOW APPROVALS")
        for r in rows:
            if marker is None or marker in r["statement"]:
                return r
        time.sleep(0.1)
    raise AssertionError(f"no pending approval for {marker}:\n{m.log()[-3000:]}")


def cli(m, *args, user=ADMIN, password=ADMIN_PASSWORD):
    return subprocess.run([PGMOAT_BIN, *args, "--connect", m.dsn(user, password, "pgmoat")],
                          capture_output=True, text=True, timeout=30)


class Background:
    """Runs f in a thread; .result / .error once joined."""

    def __init__(self, f):
        self.result = self.error = None
        self.thread = threading.Thread(target=self._run, args=(f,), daemon=True)
        self.thread.start()

    def _run(self, f):
        try:
            self.result = f()
        except Exception as e:  # noqa: BLE001 - handed to the test
            self.error = e

    def join(self, timeout=30):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the held client never got its answer"
        return self


def steps(m, approval, count=2, timeout=10):
    """The approval's audit records, once there are `count` of them (the writer
    thread writes them a moment after the fact)."""
    deadline = time.time() + timeout
    while True:
        got = [r for r in m.audit_records("approval") if r.get("approval") == approval]
        if len(got) >= count or time.time() > deadline:
            return got
        time.sleep(0.05)


def wait_records(m, event, match, count=1, timeout=10):
    deadline = time.time() + timeout
    while True:
        got = [r for r in m.audit_records(event) if match(r)]
        if len(got) >= count or time.time() > deadline:
            return got
        time.sleep(0.05)


def test_held_drop_waits_until_approved_on_the_console(moat, postgres):
    table = new_table(postgres)
    notices = []
    conn = psycopg.connect(moat.dsn(APP, APP_PASSWORD, "dev"), autocommit=True)
    conn.add_notice_handler(lambda d: notices.append(d.message_primary))
    job = Background(lambda: conn.execute(f"DROP TABLE {table}"))
    row = pending(moat, table)
    assert row["app"] == APP and row["target"] == "dev" and row["rule"] == "hold_statements"
    assert row["policy"] == "holds" and "drop statements are held" in row["why"]
    # Held: the client waits, the server has not seen it, the table is there.
    time.sleep(0.5)
    assert job.thread.is_alive()
    assert f"DROP TABLE {table}" not in postgres.log()
    assert exists(postgres, table)
    counters, _, _ = console(moat, "SHOW COUNTERS")
    assert any(c["metric"] == "pgmoat_approvals_pending" and float(c["value"]) >= 1 for c in counters)

    rows, said, err = console(moat, f"APPROVE {row['approval']}")
    assert err is None, err
    assert any(f"approval {row['approval']} approved" in n for n in said)
    job.join()
    assert job.error is None, job.error
    assert not exists(postgres, table)
    assert any(f"held for approval {row['approval']}" in n for n in notices), notices
    conn.close()

    approval = int(row["approval"])
    got = steps(moat, approval)
    assert [s["approval_step"] for s in got] == ["held", "approved"]
    assert got[1]["approver"] == ADMIN and got[0]["rule"] == "hold_statements"
    assert got[0]["statement"] == f"DROP TABLE {table}" and got[0]["app"] == APP
    ran = wait_records(moat, "statement", lambda r: r.get("approval") == approval)
    assert len(ran) == 1 and ran[0]["decision"] == "allow" and ran[0]["sqlstate"] == "00000"
    # Decided: neither APPROVE nor DENY can decide it again.
    _, _, err = console(moat, f"DENY {approval}")
    assert err is not None and err.sqlstate == "55000" and "it was approved" in str(err)


def test_cli_approves_an_unrestricted_delete_in_the_extended_protocol(moat, postgres):
    table = new_table(postgres)
    conn = psycopg.connect(moat.dsn(APP, APP_PASSWORD, "dev"), autocommit=True)
    # psycopg sends it with parameters: Parse, Bind, Execute, Sync; the Parse waits.
    job = Background(lambda: conn.execute(f"DELETE FROM {table} WHERE %s::int > 0", [1]).rowcount)
    row = pending(moat, table)
    assert row["rule"] == "hold_unrestricted_writes"
    r = cli(moat, "approvals")
    assert r.returncode == 0 and f"approval: {row['approval']}" in r.stdout, r
    r = cli(moat, "approve", row["approval"])
    assert r.returncode == 0, r.stderr
    assert "approved" in r.stderr  # the console's notice
    job.join()
    assert job.error is None and job.result == 2
    conn.close()


def test_denied_statement_fails_the_transaction(moat, postgres):
    table = new_table(postgres)
    conn = psycopg.connect(moat.dsn(APP, APP_PASSWORD, "dev"))
    conn.execute(f"INSERT INTO {table} VALUES (3, 'c')")
    job = Background(lambda: conn.execute(f"TRUNCATE {table}"))
    row = pending(moat, table)
    r = cli(moat, "deny", row["approval"], "--reason", "not during business hours")
    assert r.returncode == 0, r.stderr
    job.join()
    assert isinstance(job.error, psycopg.errors.InsufficientPrivilege), job.error
    assert f'"{ADMIN}" denied this statement (approval {row["approval"]}): not during business hours' in str(job.error)
    # As PostgreSQL fails a transaction after an error: the next statement is refused.
    with pytest.raises(psycopg.errors.InFailedSqlTransaction):
        conn.execute("SELECT 1")
    conn.rollback()
    assert postgres.sql(f"SELECT count(*) FROM {table}", "app").strip() == "2"
    assert f"TRUNCATE {table}" not in postgres.log()
    conn.close()
    got = steps(moat, int(row["approval"]))
    assert [s["approval_step"] for s in got] == ["held", "denied"]
    assert got[1]["approver"] == ADMIN and got[1]["reason"] == "not during business hours"
    rejected = wait_records(moat, "statement",
                            lambda r: r.get("decision") == "reject" and r.get("statement") == f"TRUNCATE {table}")
    assert len(rejected) == 1 and rejected[0]["rule"] == "hold_statements"


def test_nobody_decides_in_time(moat, postgres):
    table = new_table(postgres)
    conn = psycopg.connect(moat.dsn(OTHER_APP, OTHER_PASSWORD, "dev"), autocommit=True)
    started = time.time()
    with pytest.raises(psycopg.errors.QueryCanceled) as e:
        conn.execute(f"DROP TABLE {table}")
    assert 1.8 <= time.time() - started < 10
    assert "nobody approved this statement within 2 s" in str(e.value)
    assert exists(postgres, table)
    assert conn.execute("SELECT 1").fetchone() == (1,)  # the session goes on
    conn.close()
    timed_out = wait_records(moat, "approval", lambda r: r.get("approval_step") == "timed_out")
    assert any(r["statement"] == f"DROP TABLE {table}" for r in timed_out)
    rows, _, _ = console(moat, "SHOW APPROVALS")
    assert not any(table in r["statement"] for r in rows)


def test_nobody_approves_their_own_statement(moat, postgres):
    table = new_table(postgres)
    conn = psycopg.connect(moat.dsn(DBA, DBA_PASSWORD, "dev"), autocommit=True)
    job = Background(lambda: conn.execute(f"DROP TABLE {table}"))
    row = pending(moat, table)
    _, _, err = console(moat, f"APPROVE {row['approval']}", DBA, DBA_PASSWORD)
    assert err is not None and err.sqlstate == "42501" and "the statement is its own" in str(err)
    r = cli(moat, "approve", row["approval"], user=DBA, password=DBA_PASSWORD)
    assert r.returncode == 1 and "the statement is its own" in r.stderr
    assert job.thread.is_alive() and exists(postgres, table)
    refused = wait_records(moat, "admin_command",
                           lambda r: r["statement"] == f"APPROVE {row['approval']}" and r["app"] == DBA, count=2)
    assert len(refused) == 2 and all(r["decision"] == "reject" and r["sqlstate"] == "42501" for r in refused)
    _, _, err = console(moat, f"APPROVE {row['approval']}")
    assert err is None
    job.join()
    assert job.error is None and not exists(postgres, table)
    conn.close()


def test_a_pipeline_waits_behind_its_held_statement(moat, postgres):
    table = new_table(postgres)
    mark = uuid.uuid4().hex[:10]
    c = pgwire.Conn(moat.port, timeout=30)
    assert pgwire.first_error(c.login(APP, APP_PASSWORD)) is None
    # One batch: an INSERT, the held DELETE, an INSERT behind it, then Sync.
    c.send(pgwire.parse("", f"INSERT INTO {table} VALUES (10, 'before-{mark}')") + pgwire.bind() + pgwire.execute() +
           pgwire.parse("", f"DELETE FROM {table}") + pgwire.bind() + pgwire.execute() +
           pgwire.parse("", f"INSERT INTO {table} VALUES (11, 'after-{mark}')") + pgwire.bind() + pgwire.execute() +
           pgwire.SYNC)
    row = pending(moat, f"DELETE FROM {table}")
    time.sleep(0.3)
    assert f"after-{mark}" not in postgres.log()
    _, _, err = console(moat, f"DENY {row['approval']} pipeline test")
    assert err is None
    got = c.read_until(b"Z")
    errors = [pgwire.error_fields(b) for t, b in got if t == b"E"]
    assert len(errors) == 1 and errors[0]["C"] == "42501" and "pipeline test" in errors[0]["M"]
    # The batch failed as a rejection fails it: nothing of it ran, nothing after it.
    assert got[-1] == (b"Z", b"I")
    assert postgres.sql(f"SELECT count(*) FROM {table}", "app").strip() == "2"
    assert f"after-{mark}" not in postgres.log()
    # Approved, the same batch runs in order: the INSERT behind it after the DELETE.
    c.send(pgwire.parse("", f"DELETE FROM {table}") + pgwire.bind() + pgwire.execute() +
           pgwire.parse("", f"INSERT INTO {table} VALUES (11, 'after2-{mark}')") + pgwire.bind() +
           pgwire.execute() + pgwire.SYNC)
    row = pending(moat, f"DELETE FROM {table}")
    assert f"after2-{mark}" not in postgres.log()
    console(moat, f"APPROVE {row['approval']}")
    got = c.read_until(b"Z")
    assert pgwire.first_error(got) is None
    assert postgres.sql(f"SELECT note FROM {table}", "app").strip() == f"after2-{mark}"
    c.close()


def test_a_client_that_leaves_while_held(moat, postgres):
    table = new_table(postgres)
    c = pgwire.Conn(moat.port)
    assert pgwire.first_error(c.login(APP, APP_PASSWORD)) is None
    c.send(pgwire.query(f"DROP TABLE {table}"))
    row = pending(moat, table)
    c.close()
    deadline = time.time() + 10
    while time.time() < deadline:
        rows, _, _ = console(moat, "SHOW APPROVALS")
        if not any(r["approval"] == row["approval"] for r in rows):
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the pending approval outlived its client")
    _, _, err = console(moat, f"APPROVE {row['approval']}")
    assert err is not None and err.sqlstate == "55000" and "it was abandoned" in str(err)
    assert exists(postgres, table)
    got = steps(moat, int(row["approval"]))
    assert [s["approval_step"] for s in got] == ["held", "abandoned"]
    assert got[1]["reason"].startswith("client")  # closed the connection, or reset it


def test_kill_of_a_held_session(moat, postgres):
    table = new_table(postgres)
    c = pgwire.Conn(moat.port)
    assert pgwire.first_error(c.login(APP, APP_PASSWORD)) is None
    c.send(pgwire.query(f"DROP TABLE {table}"))
    row = pending(moat, table)
    _, _, err = console(moat, f"KILL {row['session']}")
    assert err is None
    got = c.read_until(b"Z")
    fatal = [pgwire.error_fields(b) for t, b in got if t == b"E"]
    assert fatal and fatal[-1]["C"] == "57P01"
    assert c.closed()
    rows, _, _ = console(moat, "SHOW APPROVALS")
    assert not any(r["approval"] == row["approval"] for r in rows)
    got = steps(moat, int(row["approval"]))
    assert [s["approval_step"] for s in got] == ["held", "abandoned"]
    assert got[1]["reason"] == f'killed by admin "{ADMIN}"'
    assert exists(postgres, table)


@pytest.mark.parametrize("command, sqlstate, says", [
    ("APPROVE 999999", "42704", "no approval 999999 is pending"),
    ("DENY 999999 why not", "42704", "no approval 999999 is pending"),
    ("APPROVE x1", "22P02", "is not an approval number"),
    ("APPROVE 0", "22P02", "is not an approval number"),
    ("APPROVE -1", "22P02", "is not an approval number"),
])
def test_approving_what_is_not_pending(moat, command, sqlstate, says):
    _, _, err = console(moat, command)
    assert err is not None and err.sqlstate == sqlstate and says in str(err)


def test_only_admins_decide(moat):
    r = cli(moat, "approve", "1", user=APP, password=APP_PASSWORD)
    assert r.returncode == 1 and "cannot reach pgmoat's admin console" in r.stderr


def test_a_freeze_that_holds_lets_a_write_through_once_approved(moat, postgres):
    table = new_table(postgres)
    conn = psycopg.connect(moat.dsn(APP, APP_PASSWORD, "frozen"), autocommit=True)
    assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (2,)  # reads go on
    job = Background(lambda: conn.execute(f"INSERT INTO {table} VALUES (%s, %s)", [5, "e"]))
    row = pending(moat, table)
    assert row["rule"] == "hold_freeze" and row["target"] == "frozen"
    assert 'target "frozen" is frozen' in row["why"]
    assert postgres.sql(f"SELECT count(*) FROM {table}", "app").strip() == "2"
    console(moat, f"APPROVE {row['approval']}")
    job.join()
    assert job.error is None
    assert postgres.sql(f"SELECT count(*) FROM {table}", "app").strip() == "3"
    conn.close()
