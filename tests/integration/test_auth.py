"""Who may log in, and to what: pgmoat's own credentials, target grants, startup
parameters. Every refusal is the error PostgreSQL itself would give, or a clearly
worded pgmoat one."""
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


@pytest.mark.parametrize("param", ["options", "search_path", "role", "session_authorization"])
def test_forbidden_startup_parameters_are_refused_by_name(pgmoat, param):
    c = pgwire.Conn(pgmoat.port)
    c.send(pgwire.startup_message({"user": APP, "database": "dev", param: "x"}))
    t, body = c.read_message()
    fields = pgwire.error_fields(body)
    assert t == b"E" and fields["S"] == "FATAL"
    assert f'startup parameter "{param}" is not allowed' in fields["M"]
    assert "application_name" in fields["H"]
    assert c.closed()


def test_psql_options_parameter_is_refused(pgmoat):
    r = psql(pgmoat, "SELECT 1", options="-csearch_path=evil", check=False)
    assert r.returncode != 0
    assert 'startup parameter "options" is not allowed' in r.stderr


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
