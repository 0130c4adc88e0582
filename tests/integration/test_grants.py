"""Time-boxed elevation: `pgmoat grant` widens one app's policy on one target for a
bounded time. The grant lives in the grants file beside the config (written
atomically), the running pgmoat picks it up with its policies and after a
restart, it expires on its own mid-session, every statement it let through names
it in the audit log, and SHOW GRANTS and /metrics show it. Real psycopg against
the harness's real PostgreSQL."""
import json
import os
import subprocess
import time
import uuid

import psycopg
import pytest

from conftest import APP, APP_PASSWORD, OTHER_APP, OTHER_PASSWORD
from pgharness import PGMOAT_BIN, UPSTREAM_USER, Pgmoat

ADMIN, ADMIN_PASSWORD = "ops-alice", "ops-alice-pass-1234"

# The app may not TRUNCATE, and its unrestricted DELETEs wait for approval.
STRICT = f"""
[policy]
extends = "baseline"
priority = 10
[applies_to]
apps = ["{APP}", "{OTHER_APP}"]
[parameters]
mode = "off"
[statements]
require_where = []
[holds]
unrestricted_writes = true
timeout = "1s"
notice = false
"""


@pytest.fixture(scope="module")
def moat(workdir, postgres):
    m = Pgmoat(workdir,
               targets={"dev": {"port": postgres.port}},
               apps={APP: (APP_PASSWORD, ["dev"]), OTHER_APP: (OTHER_PASSWORD, ["dev"]),
                     ADMIN: (ADMIN_PASSWORD, [], {"admin": True})},
               policies={"strict.toml": STRICT},
               extra='[policies]\nwatch_interval = "200ms"\n').start()
    yield m
    m.stop()
    assert m.proc.returncode == 0, m.log()


def pgmoat_cli(m, *args):
    return subprocess.run([PGMOAT_BIN, *args, "-c", m.config], capture_output=True, text=True, timeout=30)


def new_table(postgres):
    name = "granted_" + uuid.uuid4().hex[:10]
    postgres.sql(f"CREATE TABLE {name} (id int); INSERT INTO {name} VALUES (1), (2); "
                 f"ALTER TABLE {name} OWNER TO {UPSTREAM_USER}", "app")
    return name


def count(postgres, table):
    return int(postgres.sql(f"SELECT count(*) FROM {table}", "app").strip())


def console(m, command):
    with psycopg.connect(m.dsn(ADMIN, ADMIN_PASSWORD, "pgmoat"), autocommit=True) as c:
        cur = c.execute(command)
        if cur.description is None:
            return []
        cols = [d.name for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


def wait_grant(m, grant_id, present=True, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(g["grant"] == grant_id for g in console(m, "SHOW GRANTS")) == present:
            return
        time.sleep(0.1)
    raise AssertionError(f"grant {grant_id} {'never appeared' if present else 'never went'}:\n{m.log()[-2000:]}")


def grant(m, *args):
    r = pgmoat_cli(m, "grant", *args)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()[0]


def test_a_grant_widens_one_app_until_it_expires_mid_session(moat, postgres):
    table = new_table(postgres)
    conn = psycopg.connect(moat.dsn(APP, APP_PASSWORD, "dev"), autocommit=True)
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as e:
        conn.execute(f"TRUNCATE {table}")
    assert "truncate statements are not allowed" in str(e.value).lower()
    gid = grant(moat, "--app", APP, "--allow", "truncate", "--target", "dev", "--for", "4s", "--reason",
                "INC-42 clean up")
    assert gid.startswith("g") and len(gid) == 9
    wait_grant(moat, gid)
    row = [g for g in console(moat, "SHOW GRANTS") if g["grant"] == gid][0]
    assert row["app"] == APP and row["allow"] == "truncate" and row["reason"] == "INC-42 clean up"
    assert 0 < int(row["seconds_left"]) <= 4
    counters = console(moat, "SHOW COUNTERS")
    assert any(c["metric"] == "pgmoat_grants_active" and float(c["value"]) >= 1 for c in counters)
    # The same session, judged by the widened policy now.
    conn.execute(f"TRUNCATE {table}")
    assert count(postgres, table) == 0
    # Only the granted app: the other one is still refused.
    with psycopg.connect(moat.dsn(OTHER_APP, OTHER_PASSWORD, "dev"), autocommit=True) as other:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            other.execute(f"TRUNCATE {table}")
    # Expired: the next statement of the same session is judged without it.
    expires = time.time() + 5
    while time.time() < expires:
        time.sleep(0.2)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(f"TRUNCATE {table}")
    conn.close()
    deadline = time.time() + 10
    while True:
        records = [json.loads(line) for line in open(moat.audit_path) if line.strip()]
        ran = [r for r in records if r["event"] == "statement" and r.get("grant") == gid]
        if ran or time.time() > deadline:
            break
        time.sleep(0.1)
    assert len(ran) == 1 and ran[0]["statement"] == f"TRUNCATE {table}" and ran[0]["decision"] == "allow"
    added = [r for r in records if r["event"] == "grant" and r.get("grant") == gid]
    assert added and added[0]["reason"].startswith(f'added: app "{APP}" allow truncate on target "dev"')
    # Statements the policy allows anyway carry no grant.
    assert not any(r.get("grant") and r["statement"].startswith("SELECT") for r in records if r["event"] == "statement")


def test_a_grant_lifts_a_hold_and_survives_reload_and_restart(moat, postgres):
    table = new_table(postgres)
    gid = grant(moat, "--app", APP, "--allow", "hold_unrestricted_writes", "--target", "dev", "--for", "30m",
                "--reason", "bulk fix")
    wait_grant(moat, gid)
    with psycopg.connect(moat.dsn(APP, APP_PASSWORD, "dev"), autocommit=True) as conn:
        assert conn.execute(f"DELETE FROM {table}").rowcount == 2  # not held
    console(moat, "RELOAD")
    assert any(g["grant"] == gid for g in console(moat, "SHOW GRANTS"))
    moat.stop()
    moat.start()
    assert any(g["grant"] == gid for g in console(moat, "SHOW GRANTS"))
    postgres.sql(f"INSERT INTO {table} VALUES (3)", "app")
    with psycopg.connect(moat.dsn(APP, APP_PASSWORD, "dev"), autocommit=True) as conn:
        assert conn.execute(f"DELETE FROM {table}").rowcount == 1
    listed = pgmoat_cli(moat, "grants", "list")
    assert listed.returncode == 0 and gid in listed.stdout and "bulk fix" in listed.stdout
    # Revoked: gone from the running pgmoat, and the hold is back (it times out: 1s).
    r = pgmoat_cli(moat, "revoke", gid)
    assert r.returncode == 0, r.stderr
    wait_grant(moat, gid, present=False)
    postgres.sql(f"INSERT INTO {table} VALUES (4)", "app")
    with psycopg.connect(moat.dsn(APP, APP_PASSWORD, "dev"), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute(f"DELETE FROM {table}")
    assert count(postgres, table) == 1


@pytest.mark.parametrize("args, says", [
    (["--app", "nobody", "--allow", "drop", "--target", "dev", "--for", "5m", "--reason", "x"], 'no app named "nobody"'),
    (["--app", APP, "--allow", "drop", "--target", "prod", "--for", "5m", "--reason", "x"], 'no target named "prod"'),
    (["--app", APP, "--allow", "dorp", "--target", "dev", "--for", "5m", "--reason", "x"], "is neither a statement kind"),
    (["--app", APP, "--allow", "read_only", "--target", "dev", "--for", "5m", "--reason", "x"], "second lock"),
    (["--app", APP, "--allow", "drop", "--target", "dev", "--for", "8d", "--reason", "x"], "at most 7d"),
    (["--app", APP, "--allow", "drop", "--target", "dev", "--for", "0m", "--reason", "x"], "expected a duration"),
    (["--app", APP, "--allow", "drop", "--target", "dev", "--for", "5m"], "usage"),
])
def test_grants_that_make_no_sense_are_refused(moat, args, says):
    r = pgmoat_cli(moat, "grant", *args)
    assert r.returncode != 0 and says in r.stderr


def test_revoking_what_is_not_granted(moat):
    r = pgmoat_cli(moat, "revoke", "g00000000")
    assert r.returncode == 1 and "no grant g00000000" in r.stderr


def console_psql(m, command, user=ADMIN, password=ADMIN_PASSWORD):
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    return subprocess.run(["psql", "-X", "-A", "-F", "|", "-P", "footer=off", "-v", "ON_ERROR_STOP=1", "-d",
                           m.dsn(user, password, "pgmoat"), "-c", command],
                          capture_output=True, text=True, env=env, timeout=60)


def test_grant_and_revoke_on_the_admin_console(moat, postgres):
    """GRANT and REVOKE from psql: the same grants file as `pgmoat grant`, in force
    when the command completes, granted by the admin identity, audited."""
    table = new_table(postgres)
    with psycopg.connect(moat.dsn(APP, APP_PASSWORD, "dev"), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"TRUNCATE {table}")
        r = console_psql(moat, f"GRANT TRUNCATE TO {APP} ON dev FOR 30m REASON 'INC-7: reset the  queue';")
        assert r.returncode == 0, r.stderr + moat.log()[-2000:]
        lines = r.stdout.strip().splitlines()
        row = dict(zip(lines[0].split("|"), lines[1].split("|")))
        gid = row["grant"]
        assert gid.startswith("g") and row["app"] == APP and row["allow"] == "truncate"
        assert row["granted_by"] == ADMIN and row["reason"] == "INC-7: reset the  queue"
        assert f"grant {gid}: app \"{APP}\" may truncate" in r.stderr  # the NOTICE
        # In force for the running session's next statement: no wait for the watcher.
        conn.execute(f"TRUNCATE {table}")
        assert count(postgres, table) == 0
        # The file the CLI reads, naming the admin identity.
        listed = pgmoat_cli(moat, "grants", "list")
        assert gid in listed.stdout and f"by={ADMIN}" in listed.stdout and "INC-7: reset the  queue" in listed.stdout
        shown = [g for g in console(moat, "SHOW GRANTS") if g["grant"] == gid]
        assert shown and shown[0]["granted_by"] == ADMIN
        # REVOKE through psycopg: refused again at once.
        with psycopg.connect(moat.dsn(ADMIN, ADMIN_PASSWORD, "pgmoat"), autocommit=True) as admin:
            notices = []
            admin.add_notice_handler(lambda d: notices.append(d.message_primary))
            assert admin.execute(f"REVOKE {gid}").statusmessage == "REVOKE"
            assert any(f"grant {gid} revoked" in n for n in notices)
            with pytest.raises(psycopg.errors.UndefinedObject) as e:
                admin.execute(f"REVOKE {gid}")
            assert f"no grant {gid}" in str(e.value)
        postgres.sql(f"INSERT INTO {table} VALUES (5)", "app")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"TRUNCATE {table}")
        assert count(postgres, table) == 1
    assert gid not in pgmoat_cli(moat, "grants", "list").stdout
    deadline = time.time() + 10
    while time.time() < deadline:
        grants = [r for r in moat.audit_records("grant") if r.get("grant") == gid]
        if len(grants) == 2:
            break
        time.sleep(0.1)
    assert grants[0]["reason"].startswith(f'added: app "{APP}" allow truncate on target "dev"')
    assert f"granted by {ADMIN}: INC-7" in grants[0]["reason"]
    assert grants[1]["reason"].startswith("removed:")
    commands = [r for r in moat.audit_records("admin_command") if r["statement"].startswith(("GRANT", "REVOKE"))]
    assert any(c["statement"].startswith(f"GRANT TRUNCATE TO {APP}") and c["decision"] == "allow" for c in commands)
    assert any(c["statement"] == f"REVOKE {gid}" and c["decision"] == "allow" for c in commands)


@pytest.mark.parametrize("command, sqlstate, says", [
    (f"GRANT drop TO {ADMIN} ON dev FOR 5m REASON 'me'", "42501", f'"{ADMIN}" cannot grant to itself'),
    (f"GRANT drop TO {APP} ON dev FOR 5m", "42601", "GRANT needs REASON"),
    (f"GRANT drop TO {APP} ON dev FOR 5m REASON 'x' WITH GRANT OPTION", "42601", 'unexpected "WITH"'),
    (f"GRANT drop TO {APP} ON dev FOR 5m REASON 'x'; SELECT 1", "42601", "text follows the ';'"),
    (f"GRANT drop TO {APP} ON prod FOR 5m REASON 'x'", "42704", 'no target named "prod"'),
    ("GRANT drop TO nobody ON dev FOR 5m REASON 'x'", "42704", 'no app named "nobody"'),
    (f"GRANT read_only TO {APP} ON dev FOR 5m REASON 'x'", "22023", "second lock"),
    (f"GRANT drop TO {APP} ON dev FOR 8d REASON 'x'", "42601", "at most 7d"),
])
def test_console_grants_that_make_no_sense_are_refused(moat, command, sqlstate, says):
    def ids():
        return [line.split()[0] for line in pgmoat_cli(moat, "grants", "list").stdout.splitlines()]
    before = ids()
    with psycopg.connect(moat.dsn(ADMIN, ADMIN_PASSWORD, "pgmoat"), autocommit=True) as admin:
        with pytest.raises(psycopg.Error) as e:
            admin.execute(command)
    assert e.value.sqlstate == sqlstate and says in str(e.value)
    assert ids() == before
