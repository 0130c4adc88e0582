"""Abuse of the protocol by hostile clients: messages out of order, truncated
messages, absurd startup packets, connection floods, SCRAM forgeries and channel-
binding mismatches, and a client that stops reading. Every test runs bystander
sessions meanwhile and asserts they never saw an error (test_protocol.py covers
the framing limits themselves)."""
import base64
import contextlib
import hashlib
import hmac
import os
import socket
import ssl
import struct
import threading
import time

import psycopg
import pytest

import pgwire
from conftest import APP, APP_PASSWORD
from pgharness import Pgmoat

LIMIT = 40


@pytest.fixture(scope="module")
def abuse(workdir, postgres):
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={APP: (APP_PASSWORD, ["dev"])}, monitor=True,
               server={"max_client_connections": LIMIT, "startup_timeout": "3s"}).start()
    yield m
    m.stop()
    assert m.proc.returncode == 0, m.log()[-3000:]


@pytest.fixture(scope="module")
def tls_abuse(workdir, postgres):
    m = Pgmoat(workdir, tls=True, targets={"dev": {"port": postgres.port}}, apps={APP: (APP_PASSWORD, ["dev"])},
               monitor=True).start()
    yield m
    m.stop()


class Bystanders:
    """Sessions that keep running statements while a test abuses pgmoat; any
    error they see fails the test."""

    def __init__(self, m, n=2):
        self.m, self.n = m, n
        self.errors, self.count = [], 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.conns = [psycopg.connect(m.dsn(APP, APP_PASSWORD), autocommit=True) for _ in range(n)]

    def _run(self, conn):
        i = 0
        while not self.stop.is_set():
            try:
                assert conn.execute("SELECT %s::int * 2", (i,)).fetchone() == (i * 2,)
                with self.lock:
                    self.count += 1
            except Exception as e:  # noqa: BLE001
                with self.lock:
                    self.errors.append(repr(e))
                return
            i += 1
            time.sleep(0.005)

    def __enter__(self):
        self.threads = [threading.Thread(target=self._run, args=(c,), daemon=True) for c in self.conns]
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        time.sleep(0.1)
        self.stop.set()
        for t in self.threads:
            t.join(timeout=10)
        for c in self.conns:
            c.close()
        if exc[0] is None:
            assert not self.errors, f"bystander sessions failed: {self.errors[:3]}"
            assert self.count > 0
            assert self.m.alive()
        return False


def logged_in(m):
    c = pgwire.Conn(m.port)
    assert c.login(APP, APP_PASSWORD)[-1] == (b"Z", b"I")
    return c


def simple(c, sql):
    c.send(pgwire.query(sql))
    msgs = c.read_until(b"Z")
    return pgwire.first_error(msgs), [b for t, b in msgs if t == b"D"], msgs[-1]


def still_usable(c):
    err, rows, last = simple(c, "SELECT 'usable'")
    assert err is None and rows and rows[0].endswith(b"usable"), (err, rows)
    return last


# ---- messages out of order ----------------------------------------------------


def test_bind_before_parse_is_the_servers_error_and_the_session_goes_on(abuse):
    with Bystanders(abuse):
        c = logged_in(abuse)
        c.send(pgwire.bind("", "never_parsed", ["1"]) + pgwire.execute() + pgwire.SYNC)
        msgs = c.read_until(b"Z")
        assert pgwire.first_error(msgs)["C"] == "26000"
        assert msgs[-1] == (b"Z", b"I")
        still_usable(c)


def test_execute_describe_and_close_of_unknown_names(abuse):
    with Bystanders(abuse):
        c = logged_in(abuse)
        c.send(pgwire.execute("no_such_portal") + pgwire.SYNC)
        msgs = c.read_until(b"Z")
        assert pgwire.first_error(msgs)["C"] == "34000"
        for m in (pgwire.describe(b"S", "nope"), pgwire.describe(b"P", "nope")):
            c.send(m + pgwire.SYNC)
            assert pgwire.first_error(c.read_until(b"Z"))["C"] in ("26000", "34000")
        c.send(pgwire.message(b"C", b"Snope\0") + pgwire.message(b"C", b"Pnope\0") + pgwire.SYNC)
        msgs = c.read_until(b"Z")
        assert pgwire.first_error(msgs) is None  # closing what does not exist is not an error
        # Inside a transaction an unknown portal fails it, as on the server.
        simple(c, "BEGIN")
        c.send(pgwire.execute("ghost") + pgwire.SYNC)
        assert c.read_until(b"Z")[-1] == (b"Z", b"E")
        simple(c, "ROLLBACK")
        still_usable(c)


def test_copy_messages_outside_copy_and_in_a_batch(abuse):
    with Bystanders(abuse):
        c = logged_in(abuse)
        c.send(pgwire.message(b"f", b"client gave up\0") + pgwire.message(b"c") + pgwire.message(b"d", b"x" * 70000) +
               pgwire.parse("", "SELECT 1") + pgwire.message(b"d", b"in a batch") + pgwire.bind() + pgwire.execute() +
               pgwire.SYNC)
        msgs = c.read_until(b"Z")
        assert pgwire.first_error(msgs) is None
        assert [b for t, b in msgs if t == b"D"]
        still_usable(c)


def test_a_query_during_copy_in_ends_only_that_session(abuse):
    with Bystanders(abuse):
        c = logged_in(abuse)
        c.send(pgwire.query("CREATE TEMP TABLE t_copy (v text)"))
        c.read_until(b"Z")
        c.send(pgwire.query("COPY t_copy FROM STDIN"))
        assert c.read_message()[0] == b"G"
        # PostgreSQL reads this as a COPY protocol violation and ends the session.
        c.send(pgwire.query("SELECT 1"))
        msgs = []
        with contextlib.suppress(ConnectionError, OSError):
            while True:
                msgs.append(c.read_message())
        assert any(t == b"E" for t, _ in msgs)
        assert c.closed()


def test_copy_data_pipelined_behind_its_copy_statement(abuse):
    with Bystanders(abuse):
        c = logged_in(abuse)
        simple(c, "CREATE TEMP TABLE t_pipe (v text)")
        c.sock.settimeout(5)
        try:
            c.send(pgwire.query("COPY t_pipe FROM STDIN") + pgwire.message(b"d", b"pipelined\n") +
                   pgwire.message(b"c"))
            msgs = c.read_until(b"Z")
            assert (b"C", b"COPY 1\0") in msgs, msgs
        finally:
            c.close()  # a session stuck in COPY would hold up pgmoat's shutdown


def test_sync_and_flush_storms(abuse):
    with Bystanders(abuse):
        c = logged_in(abuse)
        c.send((pgwire.SYNC + pgwire.FLUSH) * 5000)
        for _ in range(5000):
            assert c.read_message() == (b"Z", b"I")
        still_usable(c)


def test_messages_that_belong_to_the_login_are_refused_after_it(abuse):
    with Bystanders(abuse):
        # (An untyped startup packet would read as a type byte 0 and a length: pgmoat
        # waits for that many bytes, as PostgreSQL does.)
        for m in (pgwire.message(b"p", b"password\0"), pgwire.message(b"p", b"c=biws,r=x,p=AAAA"),
                  pgwire.message(b"\0")):
            c = logged_in(abuse)
            c.send(m)
            msgs = []
            with contextlib.suppress(ConnectionError, OSError):
                msgs = c.read_until(b"Z")
            f = pgwire.first_error(msgs)
            assert f is not None and f["S"] == "FATAL" and f["C"] == "08P01", msgs
            assert c.closed()


def test_terminate_in_the_middle_of_a_batch(abuse):
    with Bystanders(abuse):
        for _ in range(20):
            c = logged_in(abuse)
            c.send(pgwire.parse("", "SELECT pg_sleep(0.05)") + pgwire.bind() + pgwire.execute() + pgwire.TERMINATE +
                   pgwire.SYNC)
            assert c.closed()


# ---- truncated messages, then close -------------------------------------------


def test_truncated_messages_then_close(abuse):
    startup = pgwire.startup_message({"user": APP, "database": "dev"})
    q = pgwire.query("SELECT 1")
    big = pgwire.query("SELECT '" + "x" * 100000 + "'")
    with Bystanders(abuse, n=3):
        for i in range(60):
            cut = [startup[:3], startup[:9], startup[:-1], pgwire.SSL_REQUEST[:5]][i % 4]
            s = socket.create_connection(("127.0.0.1", abuse.port))
            s.sendall(cut)
            s.close()
        for i in range(60):
            c = logged_in(abuse)
            c.send([q[:1], q[:4], q[:-1], big[:50000], pgwire.parse("s", "SELECT 1")[:7]][i % 5])
            c.close()
        # Half way through SCRAM.
        for i in range(20):
            c = pgwire.Conn(abuse.port)
            c.send(startup)
            c.read_message()
            c.send(pgwire.message(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", 40) + b"n,,n=,r=abc")[:-3])
            c.close()
    time.sleep(0.5)
    with psycopg.connect(abuse.dsn(APP, APP_PASSWORD)) as c:
        assert c.execute("SELECT 1").fetchone() == (1,)


# ---- startup packets ------------------------------------------------------------


def startup_packet(pairs, version=3 << 16):
    body = struct.pack("!i", version) + b"".join(k + b"\0" + v + b"\0" for k, v in pairs) + b"\0"
    return struct.pack("!i", len(body) + 4) + body


@pytest.mark.parametrize("name", [b"geqo", b"GEQO", b"application_name"])
def test_thousands_of_startup_parameters(abuse, name):
    pairs = [(b"user", APP.encode()), (b"database", b"dev")]
    while len(startup_packet(pairs + [(name, b"on")])) <= 10000:
        pairs.append((name, b"on"))
    assert len(pairs) > 400
    with Bystanders(abuse):
        c = pgwire.Conn(abuse.port)
        c.send(startup_packet(pairs))
        msgs = c.scram(APP, APP_PASSWORD)
        f = pgwire.first_error(msgs)
        if f is None:
            assert msgs[-1][0] == b"Z"
            still_usable(c)
        else:
            # Forwarded as they came, they may not fit PostgreSQL's own startup limit.
            assert f["S"] == "FATAL" and f["C"] in ("08006", "08P01", "54000"), f
            assert c.closed()


def test_thousands_of_refused_and_odd_parameters(abuse):
    with Bystanders(abuse):
        for pairs in ([(b"user", APP.encode())] + [(b"x%d" % i, b"") for i in range(1500)],
                      [(b"user", APP.encode())] + [(b"_pq_.opt%d" % i, b"1") for i in range(700)],
                      [(b"user", APP.encode()), (b"user", b"other")] * 700,
                      [(b"user", APP.encode()), (b"database", b"dev"), (b"replication", b"database")] * 300):
            packet = startup_packet(pairs)[:10000]
            packet = struct.pack("!i", len(packet)) + packet[4:]
            c = pgwire.Conn(abuse.port)
            c.send(packet)
            msgs = []
            while not msgs or msgs[-1][0] not in (b"E", b"R"):
                msgs.append(c.read_message())
            if msgs[-1][0] == b"E":
                assert pgwire.error_fields(msgs[-1][1])["S"] == "FATAL"
                assert c.closed()
            c.close()


# ---- connection floods ------------------------------------------------------------


def test_a_flood_beyond_the_limit_is_answered_53300_while_sessions_run_on(abuse):
    refused, accepted, other = [], [], []
    lock = threading.Lock()
    held = []

    def attempt():
        try:
            c = pgwire.Conn(abuse.port, timeout=20)
            msgs = c.login(APP, APP_PASSWORD)
            f = pgwire.first_error(msgs)
            with lock:
                if f is None:
                    accepted.append(c)
                    held.append(c)
                elif f["C"] == "53300":
                    refused.append(f)
                    c.close()
                else:
                    other.append(f)
        except Exception as e:  # noqa: BLE001
            with lock:
                other.append(repr(e))

    with Bystanders(abuse, n=2):
        threads = [threading.Thread(target=attempt) for _ in range(250)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        try:
            assert not other, other[:3]
            assert refused and all(f["M"] == "sorry, too many clients already" for f in refused)
            # The bystanders hold 2 of the LIMIT slots.
            assert len(accepted) <= LIMIT - 2
            for c in held:
                assert still_usable(c) == (b"Z", b"I")
        finally:
            for c in held:  # the module's later tests need the slots
                c.close()
    time.sleep(0.5)
    with psycopg.connect(abuse.dsn(APP, APP_PASSWORD)) as c:
        assert c.execute("SELECT 1").fetchone() == (1,)


def test_far_past_the_limit_connections_get_53300_without_a_startup_exchange(abuse):
    # Silent connections fill the limit and the slack pgmoat allows past it (64 for
    # a limit of 40); the next ones are refused at accept, still with a 53300.
    silent = [socket.create_connection(("127.0.0.1", abuse.port)) for _ in range(LIMIT + 64)]
    try:
        time.sleep(0.3)
        for _ in range(20):
            c = pgwire.Conn(abuse.port)
            c.send(pgwire.startup_message({"user": APP, "database": "dev"}))
            t, body = c.read_message()
            assert t == b"E" and pgwire.error_fields(body)["C"] == "53300", body
            c.close()
    finally:
        for s in silent:
            s.close()
    time.sleep(0.5)
    with psycopg.connect(abuse.dsn(APP, APP_PASSWORD), connect_timeout=10) as c:
        assert c.execute("SELECT 1").fetchone() == (1,)


def test_silent_connections_are_closed_at_the_startup_timeout_and_free_their_slots(abuse):
    silent = [socket.create_connection(("127.0.0.1", abuse.port)) for _ in range(LIMIT)]
    try:
        time.sleep(4.5)  # startup_timeout is 3s
        with psycopg.connect(abuse.dsn(APP, APP_PASSWORD), connect_timeout=10) as c:
            assert c.execute("SELECT 1").fetchone() == (1,)
        for s in silent:
            s.settimeout(1)
            with contextlib.suppress(OSError):
                assert s.recv(1024) is not None
    finally:
        for s in silent:
            s.close()


# ---- SCRAM on the wire ------------------------------------------------------------


def start_sasl(m, tls=False, user=APP):
    c = pgwire.Conn(m.port)
    cert = None
    if tls:
        c.send(pgwire.SSL_REQUEST)
        assert c.read_byte() == b"S"
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c.sock = ctx.wrap_socket(c.sock)
        cert = c.sock.getpeercert(binary_form=True)
    c.send(pgwire.startup_message({"user": user, "database": "dev"}))
    t, body = c.read_message()
    assert t == b"R" and struct.unpack("!i", body[:4])[0] == 10
    mechs = [x.decode() for x in body[4:].split(b"\0") if x]
    return c, mechs, cert


def sasl_initial(mechanism, data):
    return pgwire.message(b"p", mechanism.encode() + b"\0" + struct.pack("!i", len(data)) + data)


def server_first(c):
    t, body = c.read_message()
    if t == b"E":
        return None, pgwire.error_fields(body)
    assert struct.unpack("!i", body[:4])[0] == 11
    return body[4:].decode(), None


def proof_for(password, first_bare, sfirst, final_bare):
    attrs = dict(kv.split("=", 1) for kv in sfirst.split(","))
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored = hashlib.sha256(client_key).digest()
    sig = hmac.new(stored, f"{first_bare},{sfirst},{final_bare}".encode(), "sha256").digest()
    return base64.b64encode(bytes(a ^ b for a, b in zip(client_key, sig))).decode()


def refused(c, codes=("08P01", "28P01")):
    msgs = []
    with contextlib.suppress(ConnectionError, OSError):
        msgs = c.read_until(b"Z")
    f = pgwire.first_error(msgs)
    assert f is not None and f["S"] == "FATAL" and f["C"] in codes, msgs
    assert not any(t == b"Z" for t, _ in msgs)
    assert c.closed()
    return f


MALFORMED_FIRST = [
    ("SCRAM-SHA-256", b""), ("SCRAM-SHA-256", b"n"), ("SCRAM-SHA-256", b"n,,"), ("SCRAM-SHA-256", b"x,,n=,r=abc"),
    ("SCRAM-SHA-256", b"n,a=admin,n=,r=abc"), ("SCRAM-SHA-256", b"n,,m=ext,n=,r=abc"),
    ("SCRAM-SHA-256", b"n,,n=,r="), ("SCRAM-SHA-256", b"n,,n=,r=a\x01b"), ("SCRAM-SHA-256", b"n,,n=,r=abc,junk"),
    ("SCRAM-SHA-256", b"n,,r=abc"), ("SCRAM-SHA-256", b"n,,n=,r=\xff\xfe"), ("SCRAM-SHA-256", b"n,," + b"A" * 60000),
    ("SCRAM-SHA-256", b"p=tls-server-end-point,,n=,r=abc"), ("SCRAM-SHA-256-PLUS", b"p=tls-server-end-point,,n=,r=abc"),
    ("SCRAM-SHA-1", b"n,,n=,r=abc"), ("", b"n,,n=,r=abc"), ("PLAIN", b"\0orders-api\0" + APP_PASSWORD.encode()),
]


@pytest.mark.parametrize("mechanism,data", MALFORMED_FIRST, ids=[f"first{i}" for i in range(len(MALFORMED_FIRST))])
def test_malformed_client_first_messages_are_refused(abuse, mechanism, data):
    c, mechs, _ = start_sasl(abuse)
    assert mechs == ["SCRAM-SHA-256"]  # no -PLUS without TLS
    c.send(sasl_initial(mechanism, data))
    refused(c)


def test_sasl_initial_response_with_lying_lengths(abuse):
    with Bystanders(abuse):
        for claimed in (-1, -2, 1000, 2**31 - 1, 0):
            c, _, _ = start_sasl(abuse)
            data = b"n,,n=,r=abcdef"
            c.send(pgwire.message(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", claimed) + data))
            refused(c)


def client_final_cases(sfirst, first_bare, good_nonce):
    bad_proof = base64.b64encode(b"\0" * 32).decode()
    return [
        f"c=biws,r={good_nonce}",                                  # no proof
        f"c=biws,r={good_nonce},p=!!notbase64!!",
        f"c=biws,r={good_nonce},p={base64.b64encode(b'short').decode()}",
        f"c=eSws,r={good_nonce},p={bad_proof}",                    # c= says 'y' but client-first said 'n'
        f"c=biws,p={bad_proof}",                                    # no nonce
        f"c=biws,r={good_nonce},p={bad_proof},x=1",                 # garbage after the proof
        f"c=biws,r={good_nonce},p={bad_proof},p={bad_proof}",
        f"r={good_nonce},c=biws,p={bad_proof}",                    # out of order
        f"c=biws,r={good_nonce}tampered,p={bad_proof}",             # wrong nonce
        f"c=biws,r={good_nonce[:-1]},p={bad_proof}",                # truncated nonce
        f"c=biws,r={good_nonce},p={bad_proof}",                     # well formed, wrong proof
        "",
    ]


@pytest.mark.parametrize("case", range(12))
def test_malformed_or_forged_client_final_messages_are_refused(abuse, case):
    c, _, _ = start_sasl(abuse)
    first_bare = "n=,r=clientnonce12345"
    c.send(sasl_initial("SCRAM-SHA-256", ("n,," + first_bare).encode()))
    sfirst, err = server_first(c)
    assert err is None
    nonce = dict(kv.split("=", 1) for kv in sfirst.split(","))["r"]
    final = client_final_cases(sfirst, first_bare, nonce)[case]
    c.send(pgwire.message(b"p", final.encode()))
    f = refused(c)
    if case == 10:
        assert f["C"] == "28P01"  # a wrong password, exactly like PostgreSQL


def test_a_proof_replayed_from_another_connection_is_refused(abuse):
    with Bystanders(abuse):
        # A successful login, recorded.
        c1, _, _ = start_sasl(abuse)
        first_bare = "n=,r=replayednonce0001"
        c1.send(sasl_initial("SCRAM-SHA-256", ("n,," + first_bare).encode()))
        sfirst1, _ = server_first(c1)
        nonce1 = dict(kv.split("=", 1) for kv in sfirst1.split(","))["r"]
        final_bare1 = f"c=biws,r={nonce1}"
        final1 = f"{final_bare1},p={proof_for(APP_PASSWORD, first_bare, sfirst1, final_bare1)}"
        c1.send(pgwire.message(b"p", final1.encode()))
        assert c1.read_until(b"Z")[-1] == (b"Z", b"I")
        # Replayed verbatim on a new connection with the same client nonce.
        c2, _, _ = start_sasl(abuse)
        c2.send(sasl_initial("SCRAM-SHA-256", ("n,," + first_bare).encode()))
        sfirst2, _ = server_first(c2)
        assert sfirst2 != sfirst1  # a fresh server nonce
        c2.send(pgwire.message(b"p", final1.encode()))
        refused(c2)
        # The old proof under the new connection's nonce.
        c3, _, _ = start_sasl(abuse)
        c3.send(sasl_initial("SCRAM-SHA-256", ("n,," + first_bare).encode()))
        sfirst3, _ = server_first(c3)
        nonce3 = dict(kv.split("=", 1) for kv in sfirst3.split(","))["r"]
        c3.send(pgwire.message(b"p", f"c=biws,r={nonce3},p={final1.rsplit(',p=', 1)[1]}".encode()))
        assert refused(c3)["C"] == "28P01"
        c1.close()


def scram_login(c, mechanism, gs2, password=APP_PASSWORD, cbind=b""):
    first_bare = "n=,r=" + base64.b64encode(os.urandom(12)).decode()
    c.send(sasl_initial(mechanism, (gs2 + first_bare).encode()))
    sfirst, err = server_first(c)
    if err is not None:
        return err
    nonce = dict(kv.split("=", 1) for kv in sfirst.split(","))["r"]
    final_bare = f"c={base64.b64encode(gs2.encode() + cbind).decode()},r={nonce}"
    c.send(pgwire.message(b"p", f"{final_bare},p={proof_for(password, first_bare, sfirst, final_bare)}".encode()))
    msgs = []
    with contextlib.suppress(ConnectionError, OSError):
        msgs = c.read_until(b"Z")
    return pgwire.first_error(msgs) or msgs[-1]


def test_channel_binding_flags_over_plain_tcp(abuse):
    with Bystanders(abuse):
        # 'y': the client could bind but believes the server cannot; over plain TCP
        # that is the truth, so the login succeeds (as with PostgreSQL).
        c, _, _ = start_sasl(abuse)
        assert scram_login(c, "SCRAM-SHA-256", "y,,") == (b"Z", b"I")
        still_usable(c)
        # 'p=' over plain TCP: no binding is possible.
        c, _, _ = start_sasl(abuse)
        f = scram_login(c, "SCRAM-SHA-256", "p=tls-server-end-point,,", cbind=b"\0" * 32)
        assert f["S"] == "FATAL" and f["C"] == "08P01"


def tls_end_point(cert):
    return hashlib.sha256(cert).digest()  # the test CA signs with SHA-256


def test_channel_binding_over_tls(tls_abuse):
    with Bystanders(tls_abuse):
        c, mechs, cert = start_sasl(tls_abuse, tls=True)
        assert mechs == ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]
        assert scram_login(c, "SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,", cbind=tls_end_point(cert)) == \
            (b"Z", b"I")
        # 'y' while -PLUS was offered: a downgrade by someone in between.
        c, _, _ = start_sasl(tls_abuse, tls=True)
        f = scram_login(c, "SCRAM-SHA-256", "y,,")
        assert f["S"] == "FATAL" and f["C"] in ("08P01", "28P01"), f
        # Binding data of another certificate (a man in the middle terminating TLS).
        c, _, _ = start_sasl(tls_abuse, tls=True)
        f = scram_login(c, "SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,", cbind=hashlib.sha256(b"other").digest())
        assert f["S"] == "FATAL" and f["C"] in ("08P01", "28P01"), f
        # -PLUS chosen without binding, and a binding type pgmoat does not offer.
        for mech, gs2 in (("SCRAM-SHA-256-PLUS", "n,,"), ("SCRAM-SHA-256-PLUS", "y,,"),
                          ("SCRAM-SHA-256-PLUS", "p=tls-unique,,"), ("SCRAM-SHA-256", "p=tls-server-end-point,,")):
            c, _, cert = start_sasl(tls_abuse, tls=True)
            f = scram_login(c, mech, gs2, cbind=tls_end_point(cert))
            assert f["S"] == "FATAL" and f["C"] == "08P01", (mech, gs2, f)
        # 'n': a client without channel binding support may still log in.
        c, _, _ = start_sasl(tls_abuse, tls=True)
        assert scram_login(c, "SCRAM-SHA-256", "n,,") == (b"Z", b"I")


# ---- a client that stops reading ------------------------------------------------


def test_a_client_that_stops_reading_a_huge_result_keeps_pgmoat_bounded(abuse, postgres):
    with Bystanders(abuse):
        c = logged_in(abuse)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        before = abuse.rss_kb()
        c.send(pgwire.query("SELECT repeat('x', 2000) FROM generate_series(1, 5000000)"))
        peak = before
        for _ in range(30):
            time.sleep(0.2)
            peak = max(peak, abuse.rss_kb())
        assert peak - before < 32 * 1024, f"pgmoat grew by {peak - before} kB for one stalled client"
        # The server is held back, not racing ahead: it is waiting on its socket.
        state = postgres.sql("SELECT wait_event FROM pg_stat_activity WHERE query LIKE 'SELECT repeat%'")
        assert "ClientWrite" in state, state
        c.close()
    # Closing the client ends the statement on the server too.
    deadline = time.time() + 15
    while time.time() < deadline:
        if not postgres.sql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT repeat%' "
                            "AND state = 'active'").strip("0\n "):
            break
        time.sleep(0.2)
    else:
        pytest.fail("the server kept running the statement of a client that went away")
