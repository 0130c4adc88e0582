"""Who may log in, and to what: pgmoat's own credentials, target grants, startup
parameters. Every refusal is the error PostgreSQL itself would give, or a clearly
worded pgmoat one."""
import os
import subprocess

import psycopg
import pytest

import pgwire
from conftest import APP, APP_PASSWORD, OTHER_APP, OTHER_PASSWORD, psql


def login_error(pgmoat, user, password, target="dev"):
    """The FATAL a client gets for this login, as fields (SQLSTATE in 'C'); libpq
    hides the SQLSTATE of connection errors, so this logs in on the wire."""
    c = pgwire.Conn(pgmoat.port)
    fields = pgwire.first_error(c.login(user, password, target))
    assert fields is not None, "login unexpectedly succeeded"
    assert c.closed()
    return fields


def connect_error(dsn):
    with pytest.raises(psycopg.OperationalError) as e:
        psycopg.connect(dsn)
    return str(e.value)


def test_wrong_password_is_28P01_exactly_like_postgres(pgmoat):
    f = login_error(pgmoat, APP, "wrong-password")
    assert (f["S"], f["C"], f["M"]) == ("FATAL", "28P01", f'password authentication failed for user "{APP}"')
    assert f'password authentication failed for user "{APP}"' in connect_error(pgmoat.dsn(APP, "wrong-password"))


def test_unknown_app_cannot_be_told_from_a_wrong_password(pgmoat):
    f = login_error(pgmoat, "no-such-app", "whatever-pass")
    assert (f["C"], f["M"]) == ("28P01", 'password authentication failed for user "no-such-app"')


def test_the_database_password_is_useless_to_apps(pgmoat):
    from pgharness import UPSTREAM_PASSWORD, UPSTREAM_USER
    assert login_error(pgmoat, UPSTREAM_USER, UPSTREAM_PASSWORD)["C"] == "28P01"


def test_a_target_not_granted_to_the_app_is_refused_with_28000(pgmoat):
    f = login_error(pgmoat, APP, APP_PASSWORD, "prod")
    assert f["C"] == "28000"
    assert f'app "{APP}" may not connect to target "prod"' in f["M"]
    assert "dev" in f["H"]  # says which targets the app may use
    # Another app that was granted prod gets in.
    with psycopg.connect(pgmoat.dsn(OTHER_APP, OTHER_PASSWORD, target="prod")) as c:
        assert c.execute("SELECT 1").fetchone() == (1,)


def test_an_unknown_target_is_named_in_the_error(pgmoat):
    f = login_error(pgmoat, APP, APP_PASSWORD, "staging")
    assert f["C"] == "3D000"
    assert 'no target named "staging"' in f["M"]
    assert 'no target named "staging"' in connect_error(pgmoat.dsn(APP, APP_PASSWORD, target="staging"))


@pytest.mark.parametrize("param", ["search_path", "role", "session_authorization"])
def test_forbidden_startup_parameters_are_refused_by_name(pgmoat, param):
    c = pgwire.Conn(pgmoat.port)
    c.send(pgwire.startup_message({"user": APP, "database": "dev", param: "x"}))
    t, body = c.read_message()
    fields = pgwire.error_fields(body)
    assert t == b"E" and fields["S"] == "FATAL"
    assert f'startup parameter "{param}" is not allowed' in fields["M"]
    assert "application_name" in fields["H"]
    assert c.closed()


def psql_with_pgoptions(pgmoat, sql, pgoptions):
    """psql through pgmoat with PGOPTIONS set, as pg_regress runs it."""
    env = dict(os.environ, PGOPTIONS=pgoptions)
    env.pop("PGPASSWORD", None)
    return subprocess.run(["psql", "-X", "-At", "-d", pgmoat.dsn(APP, APP_PASSWORD), "-c", sql], capture_output=True,
                          text=True, env=env, timeout=60)


def test_psql_options_with_allowed_settings_connect_as_pg_regress_does(pgmoat):
    r = psql_with_pgoptions(pgmoat, "SHOW intervalstyle", "-c intervalstyle=postgres_verbose")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "postgres_verbose"
    # A backslash keeps a space inside a value; --name=value works as -c does.
    r = psql_with_pgoptions(pgmoat, "SHOW datestyle", "--DateStyle=Postgres,\\ DMY -c geqo=off")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "Postgres, DMY"


@pytest.mark.parametrize("options,message", [
    ("-csearch_path=evil", 'setting "search_path" in startup parameter "options" is not allowed'),
    ("-c geqo=off -c role=admin", 'setting "role" in startup parameter "options" is not allowed'),
    ("-B 100", 'the server switch "-B" in startup parameter "options" is not supported'),
    ("oops", 'startup parameter "options": invalid command-line argument for server process: oops'),
])
def test_psql_options_with_other_settings_are_refused_naming_them(pgmoat, options, message):
    r = psql_with_pgoptions(pgmoat, "SELECT 1", options)
    assert r.returncode != 0
    assert message in r.stderr


def test_replication_connections_are_refused(pgmoat):
    c = pgwire.Conn(pgmoat.port)
    c.send(pgwire.startup_message({"user": APP, "database": "dev", "replication": "database"}))
    t, body = c.read_message()
    fields = pgwire.error_fields(body)
    assert fields["S"] == "FATAL" and fields["C"] == "0A000"
    assert "replication connections are not supported" in fields["M"]


def test_missing_user_is_refused(pgmoat):
    c = pgwire.Conn(pgmoat.port)
    c.send(pgwire.startup_message({"database": "dev"}))
    t, body = c.read_message()
    assert pgwire.error_fields(body)["C"] == "28000"


def test_newer_protocol_minor_and_extensions_are_negotiated_not_refused(pgmoat):
    c = pgwire.Conn(pgmoat.port)
    c.send(pgwire.startup_message({"user": APP, "database": "dev", "_pq_.compression": "on"},
                                  version=(3 << 16) | 2))
    t, body = c.read_message()
    assert t == b"v"
    newest, count = pgwire.struct.unpack("!ii", body[:8])
    assert newest == 3 << 16 and count == 1
    assert body[8:].split(b"\0")[0] == b"_pq_.compression"
    msgs = c.scram(APP, APP_PASSWORD)
    assert msgs[-1][0] == b"Z"


def test_gssencrequest_is_answered_N_and_login_continues(pgmoat):
    c = pgwire.Conn(pgmoat.port)
    c.send(pgwire.GSSENC_REQUEST)
    assert c.read_byte() == b"N"
    msgs = c.login(APP, APP_PASSWORD)
    assert msgs[-1] == (b"Z", b"I")


def test_sslrequest_without_tls_configured_is_answered_N(pgmoat):
    c = pgwire.Conn(pgmoat.port)
    c.send(pgwire.SSL_REQUEST)
    assert c.read_byte() == b"N"
    assert c.login(APP, APP_PASSWORD)[-1] == (b"Z", b"I")


def test_login_hands_out_pgmoats_own_backend_key(pgmoat, postgres):
    c = pgwire.Conn(pgmoat.port)
    msgs = c.login(APP, APP_PASSWORD)
    keys = [body for t, body in msgs if t == b"K"]
    assert len(keys) == 1
    pid, _ = pgwire.struct.unpack("!ii", keys[0])
    c.send(pgwire.query("SELECT pg_backend_pid()"))
    rows = [b for t, b in c.read_until(b"Z") if t == b"D"]
    server_pid = int(rows[0][6:].decode())
    assert pid != server_pid  # clients never learn the server's key


def test_pgmoat_passwd_makes_a_scram_verifier(tmp_path):
    from pgharness import PGMOAT_BIN
    r = subprocess.run([PGMOAT_BIN, "passwd", "svc"], input="correct horse battery\n", capture_output=True, text=True)
    assert r.returncode == 0
    line = r.stdout.strip()
    assert line.startswith('svc = "SCRAM-SHA-256$4096:') and "correct horse" not in line
    r = subprocess.run([PGMOAT_BIN, "passwd", "svc"], input="short\n", capture_output=True, text=True)
    assert r.returncode != 0 and "at least 8" in r.stderr


def startup_with_duplicates(params):
    """A StartupMessage that may name a parameter twice (libpq never does)."""
    import struct
    body = struct.pack("!i", 3 << 16)
    for k, v in params:
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    return struct.pack("!i", len(body) + 4) + body


@pytest.mark.parametrize("params", [
    [("statement_timeout", "5s"), ("statement_timeout", "0")],
    [("options", "-c statement_timeout=0")],
    [("options", "-c statement_timeout=5s -c statement_timeout=0")],
])
def test_a_setting_given_twice_cannot_pass_a_pinned_limit(enforcing_auth, postgres, params):
    # PostgreSQL applies startup settings in order (options first): the last one
    # counts, so it is the one pgmoat must check against the policy's limit (the
    # baseline pins statement_timeout at 2min; 0 is no limit at all).
    c = pgwire.Conn(enforcing_auth.port)
    c.send(startup_with_duplicates([("user", APP), ("database", "dev")] + params))
    msgs = c.scram(APP, APP_PASSWORD)
    f = pgwire.first_error(msgs)
    assert f is not None and f["C"] == "42501" and "statement_timeout" in f["M"], msgs


@pytest.fixture(scope="module")
def enforcing_auth(workdir, postgres):
    from pgharness import Pgmoat
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={APP: (APP_PASSWORD, ["dev"])}).start()
    yield m
    m.stop()
