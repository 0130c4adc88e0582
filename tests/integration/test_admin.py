"""The admin console, as pgbouncer users expect one: `psql -d pgmoat` as an admin
identity answers SHOW commands about the running pgmoat (its real sessions with
their client addresses and states, targets, policies, rejections, counters) and
runs RELOAD, PAUSE/RESUME of a target and KILL of a session, each audited; no
other identity opens it. Driven through real psql and psycopg against the
harness's real PostgreSQL (log_statement=all shows what reached the server)."""
import os
import socket
import subprocess
import threading
import time

import psycopg
import pytest

from conftest import APP, APP_PASSWORD, OTHER_APP, OTHER_PASSWORD
from pgharness import PGMOAT_BIN, UPSTREAM_USER, Pgmoat

ADMIN = "ops-alice"
ADMIN_PASSWORD = "ops-alice-pass-1234"

# The other app runs in monitor mode, so its pg_sleep reaches the server (KILL).
MONITOR_OTHER = f"""
[policy]
extends = "baseline"
priority = 10
mode = "monitor"
[applies_to]
apps = ["{OTHER_APP}"]
"""


@pytest.fixture(scope="module")
def moat(workdir, postgres):
    postgres.sql("CREATE TABLE IF NOT EXISTS orders (id int, note text); "
                 f"ALTER TABLE orders OWNER TO {UPSTREAM_USER}", "app")
    m = Pgmoat(workdir,
               targets={"dev": {"port": postgres.port}, "prod": {"port": postgres.port}},
               apps={APP: (APP_PASSWORD, ["dev"]), OTHER_APP: (OTHER_PASSWORD, ["dev", "prod"]),
                     ADMIN: (ADMIN_PASSWORD, [], {"admin": True})},
               policies={"monitor-other.toml": MONITOR_OTHER},
               # Reloads here come from RELOAD only, not from the file watcher.
               extra='[policies]\nwatch_interval = "0"\n').start()
    yield m
    m.stop()
    assert m.proc.returncode == 0, m.log()


def console_psql(m, command, user=ADMIN, password=ADMIN_PASSWORD, check=True):
    """psql on the console, unaligned with '|' between columns and a header line."""
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    r = subprocess.run(["psql", "-X", "-A", "-F", "|", "-P", "footer=off", "-d",
                        m.dsn(user, password, "pgmoat"), "-c", command],
                       capture_output=True, text=True, env=env, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError(f"psql failed: {r.stderr}\n{m.log()[-3000:]}")
    return r


def table(output):
    lines = [line for line in output.strip().splitlines() if line]
    header = lines[0].split("|")
    return [dict(zip(header, line.split("|"))) for line in lines[1:]]


def show(m, what):
    return table(console_psql(m, f"SHOW {what}").stdout)


def admin(m):
    return psycopg.connect(m.dsn(ADMIN, ADMIN_PASSWORD, "pgmoat"), autocommit=True)


def app_conn(m, app=APP, password=APP_PASSWORD, target="dev", **kw):
    return psycopg.connect(m.dsn(app, password, target, application_name=kw.pop("application_name", "test")),
                           autocommit=kw.pop("autocommit", True), **kw)


def local_port(conn):
    s = socket.socket(fileno=os.dup(conn.pgconn.socket))
    try:
        return s.getsockname()[1]
    finally:
        s.close()


def wait_for(predicate, what, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = predicate()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def session_of(m, port):
    rows = [r for r in show(m, "SESSIONS") if r["client_port"] == str(port)]
    return rows[0] if rows else None


def test_show_sessions_lists_real_sessions_with_address_state_and_statement_kind(moat):
    with app_conn(moat, application_name="web-1") as a, \
            app_conn(moat, OTHER_APP, OTHER_PASSWORD, "prod", autocommit=False, application_name="report") as b:
        a.execute("SELECT id FROM orders WHERE id = %s", [1]).fetchall()
        b.execute("SELECT count(*) FROM orders").fetchall()  # psycopg opened a transaction
        pa, pb = local_port(a), local_port(b)
        rows = show(moat, "SESSIONS")
        assert list(rows[0]) == ["session", "app", "target", "application_name", "client_addr", "client_port",
                                 "state", "statement_kind", "connected_at"]
        ra = next(r for r in rows if r["client_port"] == str(pa))
        rb = next(r for r in rows if r["client_port"] == str(pb))
        assert (ra["app"], ra["target"], ra["application_name"], ra["client_addr"], ra["state"],
                ra["statement_kind"]) == (APP, "dev", "web-1", "127.0.0.1", "idle", "select")
        assert (rb["app"], rb["target"], rb["application_name"], rb["client_addr"], rb["state"],
                rb["statement_kind"]) == (OTHER_APP, "prod", "report", "127.0.0.1", "idle in transaction", "select")
        assert ra["session"] != rb["session"]
        # The console's own session is listed too, under the admin's name.
        assert any(r["app"] == ADMIN and r["target"] == "pgmoat" and r["state"] == "admin console" for r in rows)
        # The same through psycopg (simple queries in autocommit), and SHOW TARGETS counts them.
        with admin(moat) as c:
            cur = c.execute("SHOW SESSIONS")
            assert [d.name for d in cur.description][:3] == ["session", "app", "target"]
            assert {r[5] for r in cur.fetchall()} >= {str(pa), str(pb)}
            targets = {r[0]: r for r in c.execute("SHOW TARGETS").fetchall()}
            assert set(targets) == {"dev", "prod"}
            assert targets["dev"][1:4] == ("127.0.0.1", str(moat.targets["dev"]["port"]), "app")
            assert targets["dev"][5] == "no"  # not paused
            assert int(targets["dev"][6]) >= 1 and int(targets["prod"][6]) >= 1
            assert wait_for(lambda: c.execute("SHOW TARGETS").fetchall()[0][4] == "up", "the probe of dev")
    # Gone once they disconnect.
    assert wait_for(lambda: session_of(moat, pa) is None and session_of(moat, pb) is None, "sessions to leave")


def test_only_admin_identities_open_the_console(moat):
    r = console_psql(moat, "SHOW SESSIONS", user=APP, password=APP_PASSWORD, check=False)
    assert r.returncode == 2
    assert f'FATAL:  pgmoat: app "{APP}" may not open the admin console' in r.stderr
    assert f"admin = true under [apps.{APP}]" in r.stderr
    r = console_psql(moat, "SHOW SESSIONS", password="wrong-password-123", check=False)
    assert f'password authentication failed for user "{ADMIN}"' in r.stderr
    # An admin identity with no targets reaches none.
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    r = subprocess.run(["psql", "-X", "-d", moat.dsn(ADMIN, ADMIN_PASSWORD, "dev"), "-c", "SELECT 1"],
                       capture_output=True, text=True, env=env)
    assert f'pgmoat: app "{ADMIN}" may not connect to target "dev"' in r.stderr
    refused = wait_for(lambda: [r for r in moat.audit_records("target_denied")
                                if r.get("app") == APP and r.get("target") == "pgmoat"], "the refusal's audit record")
    assert "admin console" in refused[-1]["reason"]


def test_show_policies_version_rejections_stats_counters_help(moat):
    with app_conn(moat) as a:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            a.execute("SELECT id FROM orders WHERE note = 'secret-value-42'")
    policies = show(moat, "POLICIES")
    assert {p["policy"] for p in policies} >= {"baseline", "people", "monitor-other"}
    baseline = next(p for p in policies if p["policy"] == "baseline")
    assert (baseline["mode"], baseline["default"]) == ("enforce", "yes")
    assert baseline["file"].endswith("policies/baseline.toml")
    assert len({p["version"] for p in policies}) == 1 and len(policies[0]["version"]) == 12
    rejection = show(moat, "REJECTIONS")[0]  # newest first
    assert (rejection["app"], rejection["target"], rejection["rule"], rejection["sqlstate"]) == \
        (APP, "dev", "parameters", "42501")
    assert rejection["statement"] == "SELECT id FROM orders WHERE note = $1"  # never the value
    stats = {(s["app"], s["target"]): s for s in show(moat, "STATS")}
    assert int(stats[(APP, "dev")]["statements_rejected"]) >= 1
    assert int(stats[(APP, "dev")]["statements_allowed"]) >= 1
    counters = show(moat, "COUNTERS")
    assert any(c["metric"] == "pgmoat_rejections_total" and 'rule="parameters"' in c["labels"] for c in counters)
    assert any(c["metric"] == "pgmoat_client_connections" for c in counters)
    assert show(moat, "VERSION")[0]["version"].startswith("pgmoat ")
    assert len(show(moat, "HELP")) >= 12


def test_sql_meta_commands_transactions_and_extended_protocol_get_clear_errors(moat):
    r = console_psql(moat, "\\dt", check=False)
    assert "ERROR:  pgmoat:" in r.stderr and "is not an admin console command" in r.stderr
    assert "psql's meta-commands" in r.stderr
    r = console_psql(moat, "DROP TABLE orders", check=False)
    assert "is not an admin console command" in r.stderr
    with admin(moat) as c:
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="simple queries only"):
            c.execute("SHOW SESSIONS", prepare=True)
        assert c.execute("SHOW VERSION").fetchone()[0].startswith("pgmoat ")  # still usable
    with psycopg.connect(moat.dsn(ADMIN, ADMIN_PASSWORD, "pgmoat")) as c:  # not autocommit: psycopg sends BEGIN
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="no transactions"):
            c.execute("SHOW SESSIONS")


def test_reload_picks_up_a_changed_policy_and_a_broken_one_keeps_the_old(moat):
    before = show(moat, "POLICIES")[0]["version"]
    moat.write_policy("reports.toml", f'[policy]\nextends = "baseline"\npriority = 5\n'
                                      f'[applies_to]\napps = ["{APP}"]\n')
    try:
        r = console_psql(moat, "RELOAD")
        assert r.stdout.strip() == "RELOAD"
        assert "NOTICE:  pgmoat: configuration reloaded, policies version" in r.stderr
        after = show(moat, "POLICIES")
        assert "reports" in {p["policy"] for p in after} and after[0]["version"] != before
        moat.write_policy("broken.toml", '[policy]\nextends = "baseline"\nmod = "enforce"\n')
        r = console_psql(moat, "RELOAD", check=False)
        assert r.returncode != 0
        assert "ERROR:  pgmoat: reload failed, the previous configuration stays in force:" in r.stderr
        assert "broken.toml:3" in r.stderr and "mod" in r.stderr
        kept = show(moat, "POLICIES")
        assert kept[0]["version"] == after[0]["version"] and "reports" in {p["policy"] for p in kept}
    finally:
        for f in ("broken.toml", "reports.toml"):
            os.remove(os.path.join(moat.policies_dir, f))
        console_psql(moat, "RELOAD")


def test_pause_holds_new_statements_at_their_boundary_until_resume(moat, postgres):
    with app_conn(moat) as idle, app_conn(moat, autocommit=False) as busy, admin(moat) as c:
        busy.execute("SELECT id AS pause_tx_1 FROM orders WHERE id = %s", [1]).fetchall()  # a transaction is open
        notices = []
        c.add_notice_handler(lambda d: notices.append(d.message_primary))
        c.execute("PAUSE dev")
        assert any("inside a transaction or statement and pauses when it ends" in n for n in notices)
        assert c.execute("SHOW TARGETS").fetchall()[0][5] == "yes"

        done = []
        def run():
            done.append(idle.execute("SELECT id AS pause_marker_1 FROM orders WHERE id = %s", [2]).fetchall())
        t = threading.Thread(target=run)
        t.start()
        port = local_port(idle)
        wait_for(lambda: (session_of(moat, port) or {}).get("state") == "paused", "the statement to be held")
        # The session inside a transaction finishes it: pausing never holds a transaction's locks.
        busy.execute("SELECT id AS pause_tx_2 FROM orders WHERE id = %s", [3]).fetchall()
        busy.commit()
        assert "pause_tx_2" in postgres.log()
        # Its next statement, outside a transaction, waits too.
        assert not done and "pause_marker_1" not in postgres.log()
        c.execute("RESUME dev")
        t.join(timeout=30)
        assert done == [[]]
        assert "pause_marker_1" in postgres.log()
        assert c.execute("SHOW TARGETS").fetchall()[0][5] == "no"
        with pytest.raises(psycopg.errors.UndefinedObject, match='no target named "nope"'):
            c.execute("PAUSE nope")


def test_kill_ends_the_session_with_an_error_and_cancels_its_server_work(moat, postgres):
    victim = app_conn(moat, OTHER_APP, OTHER_PASSWORD, "dev", application_name="victim")
    port = local_port(victim)
    errors = []

    def sleep():
        try:
            victim.execute("SELECT pg_sleep(60) AS kill_marker")
        except psycopg.Error as e:
            errors.append(e)

    t = threading.Thread(target=sleep)
    t.start()
    running = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%kill_marker%' AND pid <> pg_backend_pid()"
    wait_for(lambda: postgres.sql(running) == "1", "pg_sleep to run on the server")
    session = wait_for(lambda: session_of(moat, port), "the victim's listing")
    assert session["state"] == "active"
    r = console_psql(moat, f"KILL {session['session']}")
    assert r.stdout.strip() == "KILL"
    t.join(timeout=30)
    assert not t.is_alive()
    # What libpq makes of it is what it makes of PostgreSQL's pg_terminate_backend():
    # the FATAL's text, then the closed connection (psycopg has no SQLSTATE there either).
    e = errors[0]
    assert isinstance(e, psycopg.OperationalError)
    assert "terminating connection due to administrator command" in str(e)
    assert f'pgmoat: session {session["session"]} was ended by admin "{ADMIN}" on the admin console.' in str(e)
    # The server stopped the statement: cancelled, not left to run out its 60 s.
    wait_for(lambda: postgres.sql(running) == "0", "the server backend's statement to stop", timeout=10)
    assert victim.closed or victim.broken
    victim.close()
    assert session_of(moat, port) is None
    r = console_psql(moat, "KILL 999999", check=False)
    assert "ERROR:  pgmoat: no session 999999" in r.stderr


def test_every_admin_command_is_audited_and_the_log_verifies(moat):
    console_psql(moat, "SHOW VERSION")
    console_psql(moat, "KILL nobody", check=False)
    # Written by the audit log's own thread.
    records = wait_for(lambda: [r for r in moat.audit_records("admin_command") if r["statement"] == "KILL nobody"]
                       and moat.audit_records("admin_command"), "the last command's record")
    texts = [r["statement"] for r in records]
    for t in ("SHOW SESSIONS", "SHOW TARGETS", "SHOW POLICIES", "SHOW REJECTIONS", "SHOW STATS", "SHOW COUNTERS",
              "RELOAD", "PAUSE dev", "RESUME dev", "PAUSE nope", "SHOW VERSION", "KILL nobody", "\\dt"):
        if t == "\\dt":
            assert any(x.startswith("SELECT n.nspname") for x in texts)
            continue
        assert t in texts, t
    assert all(r["app"] == ADMIN and r["target"] == "pgmoat" for r in records)
    assert any(r["statement"].startswith("KILL ") and r["decision"] == "allow" for r in records)
    refused = next(r for r in records if r["statement"] == "KILL nobody")
    assert (refused["decision"], refused["sqlstate"]) == ("reject", "22P02")
    r = subprocess.run([PGMOAT_BIN, "audit", "verify", moat.audit_path], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_kill_of_a_session_inside_a_transaction_rolls_it_back(moat, postgres):
    victim = app_conn(moat, OTHER_APP, OTHER_PASSWORD, "dev", autocommit=False)
    victim.execute("INSERT INTO orders VALUES (%s, %s)", [777, "uncommitted"])
    session = wait_for(lambda: session_of(moat, local_port(victim)), "the victim's listing")
    assert session["state"] == "idle in transaction" and session["statement_kind"] == "insert"
    assert console_psql(moat, f"KILL {session['session']}").stdout.strip() == "KILL"
    with pytest.raises(psycopg.OperationalError, match="terminating connection due to administrator command"):
        victim.execute("SELECT 1").fetchall()
        victim.commit()
    victim.close()
    # The server ended the backend and its transaction with it.
    wait_for(lambda: postgres.sql("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' "
                                  "AND query LIKE 'INSERT INTO orders%'", "postgres") == "0", "the backend to end")
    assert postgres.sql("SELECT count(*) FROM orders WHERE id = 777", "app") == "0"
