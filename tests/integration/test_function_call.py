"""FunctionCall messages (libpq's fast-path interface, which its large-object API
uses) through pgmoat: forwarded in monitor mode; judged in enforce mode by the
function their OID names in the target's catalog, so the large-object API works
where a policy allows lo_* and is refused where it does not; the audit record
names the function."""
import time

import psycopg2
import pytest

import pgwire
from pgharness import Pgmoat

LO_APP, LO_PASSWORD = "blobs-api", "blobs-pass-1234"
PLAIN_APP, PLAIN_PASSWORD = "plain-api", "plain-pass-1234"
WATCHED_APP, WATCHED_PASSWORD = "watched-api", "watched-pass-1234"

# libpq runs this once per connection before its first large-object call, to
# learn the functions' OIDs (fe-lobj.c, lo_initialize); it carries literals, so a
# policy approves it by text.
LIBPQ_LO_QUERY = ("select proname, oid from pg_catalog.pg_proc where proname in ('lo_open', 'lo_close', "
                  "'lo_creat', 'lo_create', 'lo_unlink', 'lo_lseek', 'lo_lseek64', 'lo_tell', 'lo_tell64', "
                  "'lo_truncate', 'lo_truncate64', 'loread', 'lowrite') and pronamespace = (select oid from "
                  "pg_catalog.pg_namespace where nspname = 'pg_catalog')")

LO_POLICY = f'''
[policy]
extends = "baseline"
[applies_to]
apps = ["{LO_APP}"]
[functions]
deny = ["pg_sleep*", "lo_import", "lo_export", "pg_read_file"]
[[parameters.approved]]
text = "{LIBPQ_LO_QUERY}"
'''

WATCHED_POLICY = f'''
[policy]
extends = "baseline"
mode = "monitor"
[applies_to]
apps = ["{WATCHED_APP}"]
'''


@pytest.fixture(scope="module")
def fastpath(workdir, postgres):
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}},
               apps={LO_APP: (LO_PASSWORD, ["dev"]), PLAIN_APP: (PLAIN_PASSWORD, ["dev"]),
                     WATCHED_APP: (WATCHED_PASSWORD, ["dev"])},
               policies={"blobs.toml": LO_POLICY, "watched.toml": WATCHED_POLICY},
               server={"log_level": "info"}).start()
    yield m
    m.stop()


def large_object_round_trip(dsn, size):
    """What an app does with libpq's large-object API: create, write, read back, unlink."""
    with psycopg2.connect(dsn) as conn:
        data = bytes(range(256)) * (size // 256)
        lo = conn.lobject(0, "wb")
        oid = lo.oid
        lo.write(data)
        lo.close()
        back = conn.lobject(oid, "rb").read()
        conn.lobject(oid).unlink()
        with conn.cursor() as cur:
            cur.execute("SELECT 7")
            usable = cur.fetchone()[0]
    return back == data, usable


def audited_calls(m, app, done, timeout=10):
    """The app's FunctionCall audit records, once done(records) holds (they are written off the session path)."""
    deadline = time.time() + timeout
    while True:
        calls = [r for r in m.audit_records("statement")
                 if r.get("app") == app and r.get("statement_kind") == "function_call"]
        if done(calls) or time.time() > deadline:
            return calls
        time.sleep(0.05)


@pytest.mark.parametrize("size", [1024, 10 << 20])
def test_the_large_object_api_works_where_a_policy_allows_lo(fastpath, size):
    # 10 MB goes in one lo_write FunctionCall and comes back in one FunctionCallResponse.
    assert large_object_round_trip(fastpath.dsn(LO_APP, LO_PASSWORD), size) == (True, 7)
    calls = audited_calls(fastpath, LO_APP, lambda calls: any("lowrite" in r["statement"] for r in calls))
    named = {r["statement"] for r in calls}
    assert any("lo_open" in s for s in named) and any("lowrite" in s for s in named), named
    assert all(r["decision"] == "allow" and r["sqlstate"] == "00000" for r in calls)


def test_the_large_object_api_works_in_monitor_mode(fastpath):
    assert large_object_round_trip(fastpath.dsn(WATCHED_APP, WATCHED_PASSWORD), 4096) == (True, 7)


def test_a_policy_that_denies_lo_refuses_the_call_naming_the_function(fastpath, postgres):
    oid = int(postgres.sql("SELECT 'lo_creat'::regproc::oid", "app"))
    c = pgwire.Conn(fastpath.port)
    assert c.login(PLAIN_APP, PLAIN_PASSWORD)[-1] == (b"Z", b"I")
    # lo_creat(mode): one int4 argument, binary.
    c.send(pgwire.message(b"F", oid.to_bytes(4, "big") + b"\0\x01\0\x01" + b"\0\x01" + b"\0\0\0\x04" +
                          (0x20000).to_bytes(4, "big") + b"\0\x01"))
    msgs = c.read_until(b"Z")
    err = pgwire.first_error(msgs)
    assert err["C"] == "42501" and "lo_creat" in err["M"], err
    assert msgs[-1] == (b"Z", b"I")
    assert postgres.sql("SELECT count(*) FROM pg_largeobject_metadata", "app") == "0"
    rejected = [r for r in audited_calls(fastpath, PLAIN_APP, lambda calls: calls) if r["decision"] == "reject"]
    assert rejected and rejected[-1]["statement_kind"] == "function_call" and "lo_creat" in rejected[-1]["statement"]
