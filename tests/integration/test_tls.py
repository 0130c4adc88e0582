"""TLS on both legs: clients to pgmoat, and pgmoat to its targets."""

import time

import psycopg
import pytest

import pgwire
from conftest import APP, APP_PASSWORD
from pgharness import Pgmoat, Postgres


@pytest.fixture(scope="module")
def tls_postgres(workdir):
    """A server that accepts only TLS connections (hostssl)."""
    pg = Postgres(workdir, ssl=True).start()
    yield pg
    pg.stop()


@pytest.fixture(scope="module")
def tls_pgmoat(workdir, tls_postgres):
    m = Pgmoat(workdir, tls=True,
               targets={"dev": {"port": tls_postgres.port, "sslmode": "verify-full",
                                "host": "localhost", "sslrootcert": tls_postgres.ca_cert},
                        "req": {"port": tls_postgres.port, "sslmode": "require"},
                        "plain": {"port": tls_postgres.port, "sslmode": "disable"},
                        "txtls": {"port": tls_postgres.port, "sslmode": "require", "pool_mode": "transaction",
                                  "pool_size": 2},
                        "txahead": {"port": tls_postgres.port, "sslmode": "verify-full", "host": "localhost",
                                    "sslrootcert": tls_postgres.ca_cert, "pool_mode": "transaction",
                                    "pool_size": 2, "min_pool_size": 2}},
               apps={APP: (APP_PASSWORD, ["dev", "req", "plain", "txtls", "txahead"])}, monitor=True).start()
    yield m
    m.stop()


def test_client_tls_with_sslmode_require(tls_pgmoat):
    with psycopg.connect(tls_pgmoat.dsn(APP, APP_PASSWORD, sslmode="require")) as c:
        assert c.pgconn.ssl_in_use
        assert c.execute("SELECT 1").fetchone() == (1,)


def test_client_tls_verified_against_pgmoats_certificate(tls_pgmoat):
    dsn = tls_pgmoat.dsn(APP, APP_PASSWORD, sslmode="verify-full", sslrootcert=tls_pgmoat.ca_cert, host="localhost")
    with psycopg.connect(dsn) as c:
        assert c.execute("SELECT 2").fetchone() == (2,)


def test_scram_channel_binding_over_tls(tls_pgmoat):
    # channel_binding=require makes libpq insist on SCRAM-SHA-256-PLUS bound to
    # pgmoat's certificate: a man in the middle with another certificate fails.
    with psycopg.connect(tls_pgmoat.dsn(APP, APP_PASSWORD, sslmode="require", channel_binding="require")) as c:
        assert c.execute("SELECT 3").fetchone() == (3,)


def test_wrong_password_over_tls_with_channel_binding(tls_pgmoat):
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(tls_pgmoat.dsn(APP, "nope-nope-nope", sslmode="require", channel_binding="require"))


def test_bytes_after_sslrequest_before_the_handshake_are_refused(tls_pgmoat):
    c = pgwire.Conn(tls_pgmoat.port)
    c.send(pgwire.SSL_REQUEST + pgwire.startup_message({"user": APP, "database": "dev"}))
    assert c.read_byte() == b"S"
    t, body = c.read_message()
    f = pgwire.error_fields(body)
    assert f["C"] == "08P01" and "unencrypted data after SSL request" in f["M"]
    assert c.closed()


def test_upstream_verify_full_require_and_a_target_that_refuses_plaintext(tls_pgmoat, tls_postgres):
    for target in ("dev", "req"):
        with psycopg.connect(tls_pgmoat.dsn(APP, APP_PASSWORD, target=target)) as c:
            # The server sees pgmoat's connection as TLS.
            assert c.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone() == (True,)
    with pytest.raises(psycopg.OperationalError, match='target "plain" refused the connection'):
        psycopg.connect(tls_pgmoat.dsn(APP, APP_PASSWORD, target="plain"))
    assert tls_pgmoat.alive()


def test_verify_full_refuses_a_certificate_from_another_ca(workdir, tls_postgres, tmp_path):
    from pgharness import make_certificates
    other_ca, _, _ = make_certificates(str(tmp_path))
    verified = {"port": tls_postgres.port, "host": "localhost", "sslmode": "verify-full", "sslrootcert": other_ca}
    m = Pgmoat(workdir, targets={"dev": verified,
                                 "txahead": dict(verified, pool_mode="transaction", pool_size=2, min_pool_size=1)},
               apps={APP: (APP_PASSWORD, ["dev", "txahead"])}, monitor=True).start()
    try:
        for target in ("dev", "txahead"):
            with pytest.raises(psycopg.OperationalError, match="TLS handshake failed: certificate verify failed"):
                psycopg.connect(m.dsn(APP, APP_PASSWORD, target))
        # The pool's own attempt to open one ahead is held to the same check.
        failed = ('pool of target "txahead": opening a server connection ahead (min_pool_size) failed: '
                  'TLS handshake failed: certificate verify failed')
        deadline = time.time() + 10
        while time.time() < deadline and failed not in m.log():
            time.sleep(0.05)
        assert failed in m.log()
        assert m.alive()
    finally:
        m.stop()


def test_transaction_pooling_over_tls_reuses_its_server_connections(tls_pgmoat):
    # An idle pooled connection is checked before each lease; over TLS what the
    # server sent after the handshake must not make it look gone.
    with psycopg.connect(tls_pgmoat.dsn(APP, APP_PASSWORD, "txtls"), autocommit=True) as a, \
            psycopg.connect(tls_pgmoat.dsn(APP, APP_PASSWORD, "txtls"), autocommit=True) as b:
        pids = set()
        for i in range(10):
            with a.transaction():
                pids.add(a.execute("SELECT pg_backend_pid()").fetchone()[0])
                assert a.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0]
            pids.add(b.execute("SELECT pg_backend_pid()").fetchone()[0])
        assert len(pids) <= 2, pids
    assert "closed by the server" not in tls_pgmoat.log()


def test_min_pool_size_opens_server_connections_ahead_over_verified_tls(tls_pgmoat, tls_postgres):
    def tls_backends():
        rows = tls_postgres.sql("SELECT string_agg(pid::text, ',') FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) "
                                "WHERE ssl AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
        return {int(p) for p in rows.split(",") if p}

    before = tls_backends()
    dsn = tls_pgmoat.dsn(APP, APP_PASSWORD, "txahead")
    with psycopg.connect(dsn, autocommit=True) as c:
        first = c.execute("SELECT pg_backend_pid()").fetchone()[0]
        # The pool's second server connection opens with no client asking for it.
        deadline = time.time() + 10
        while time.time() < deadline and not tls_backends() - before - {first}:
            time.sleep(0.05)
        ahead = tls_backends() - before - {first}
        assert len(ahead) == 1, ahead
        with psycopg.connect(dsn, autocommit=True) as d, c.transaction():
            held = c.execute("SELECT pg_backend_pid()").fetchone()[0]
            # Another client meanwhile gets the other one, over TLS, with no login to wait for.
            other, ssl = d.execute("SELECT pg_backend_pid(), ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
            assert {held, other} == {first} | ahead and ssl
    assert "opening a server connection ahead (min_pool_size) failed" not in tls_pgmoat.log()
