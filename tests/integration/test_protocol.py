"""The wire protocol at its edges: framing violations, messages pgmoat refuses,
limits and timeouts. Every violation ends only the offending session."""
import struct
import time

import psycopg
import pytest

import pgwire
from conftest import APP, APP_PASSWORD
from pgharness import Pgmoat


@pytest.fixture(scope="module")
def strict(workdir, postgres):
    """pgmoat with small limits, to reach them quickly."""
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={APP: (APP_PASSWORD, ["dev"])}, monitor=True,
               server={"max_message_size": "64kB", "startup_timeout": "2s", "max_client_connections": 6}).start()
    yield m
    m.stop()


def logged_in(m):
    c = pgwire.Conn(m.port)
    assert c.login(APP, APP_PASSWORD)[-1] == (b"Z", b"I")
    return c


def assert_still_serving(m, bystander=None):
    """Other sessions, old and new, keep working."""
    if bystander is not None:
        bystander.send(pgwire.query("SELECT 'alive'"))
        assert any(b"alive" in body for t, body in bystander.read_until(b"Z") if t == b"D")
    with psycopg.connect(m.dsn(APP, APP_PASSWORD)) as c:
        assert c.execute("SELECT 7").fetchone() == (7,)


def fatal_then_close(c):
    msgs = c.read_until(b"Z")
    f = pgwire.first_error(msgs)
    assert f is not None and f["S"] == "FATAL", msgs
    assert c.closed()
    return f


@pytest.mark.parametrize("length", [-1, 0, 3, -2147483648])
def test_invalid_lengths_get_08P01_and_close(strict, length):
    bystander = logged_in(strict)
    c = logged_in(strict)
    c.send(b"Q" + struct.pack("!i", length) + b"SELECT 1\0")
    f = fatal_then_close(c)
    assert f["C"] == "08P01" and "invalid message length" in f["M"]
    assert_still_serving(strict, bystander)


@pytest.mark.parametrize("length", [64 * 1024 + 5, 2**31 - 1])
def test_a_message_over_the_maximum_gets_08P01_without_being_buffered(strict, length):
    bystander = logged_in(strict)
    c = logged_in(strict)
    rss_before = strict.rss_kb()
    # Only the header is sent: pgmoat must refuse on the length alone.
    c.send(b"Q" + struct.pack("!i", length))
    f = fatal_then_close(c)
    assert f["C"] == "08P01" and "exceeds the maximum" in f["M"]
    assert strict.rss_kb() - rss_before < 16 * 1024
    assert_still_serving(strict, bystander)


def test_a_query_of_exactly_the_allowed_size_passes(strict):
    c = logged_in(strict)
    padding = 64 * 1024 - 100
    c.send(pgwire.query("SELECT 1 /*" + "x" * padding + "*/"))
    assert c.read_until(b"Z")[-1] == (b"Z", b"I")


def test_an_unknown_message_type_gets_08P01(strict):
    c = logged_in(strict)
    c.send(pgwire.message(b"y", b"whatever"))
    f = fatal_then_close(c)
    assert f["C"] == "08P01" and "invalid frontend message type 121" in f["M"]
    assert_still_serving(strict)


def test_a_malformed_message_body_gets_08P01(strict):
    c = logged_in(strict)
    c.send(pgwire.message(b"Q", b"SELECT 1"))  # no terminating zero byte
    f = fatal_then_close(c)
    assert f["C"] == "08P01" and "invalid Query message" in f["M"]


def test_function_call_is_forwarded_in_monitor_mode_and_the_session_goes_on(strict):
    c = logged_in(strict)
    # FunctionCall for oid 1 (nonexistent), no arguments, text result: the server's own error.
    c.send(pgwire.message(b"F", struct.pack("!ihhh", 1, 0, 0, 0)))
    msgs = c.read_until(b"Z")
    f = pgwire.first_error(msgs)
    assert f["S"] == "ERROR" and f["C"] == "42883" and "function with OID 1 does not exist" in f["M"]
    assert msgs[-1] == (b"Z", b"I")
    c.send(pgwire.query("SELECT 'next'"))
    assert any(b"next" in body for t, body in c.read_until(b"Z") if t == b"D")


def test_function_call_inside_a_transaction_fails_it(strict):
    c = logged_in(strict)
    c.send(pgwire.query("BEGIN"))
    assert c.read_until(b"Z")[-1] == (b"Z", b"T")
    c.send(pgwire.message(b"F", struct.pack("!ihhh", 1, 0, 0, 0)))
    assert c.read_until(b"Z")[-1] == (b"Z", b"E")


def test_copy_data_outside_copy_is_ignored(strict):
    c = logged_in(strict)
    c.send(pgwire.message(b"d", b"1\t2\n") + pgwire.message(b"c") + pgwire.query("SELECT 'ok'"))
    msgs = c.read_until(b"Z")
    assert pgwire.first_error(msgs) is None
    assert any(b"ok" in body for t, body in msgs if t == b"D")


def test_a_startup_packet_over_10000_bytes_is_refused(strict):
    c = pgwire.Conn(strict.port)
    c.send(struct.pack("!i", 10001) + b"\0" * 100)
    t, body = c.read_message()
    f = pgwire.error_fields(body)
    assert f["C"] == "08P01" and "startup packet" in f["M"]
    assert c.closed()


def test_a_slow_startup_is_closed_at_the_startup_timeout(strict):
    bystander = logged_in(strict)
    c = pgwire.Conn(strict.port, timeout=10)
    packet = pgwire.startup_message({"user": APP, "database": "dev"})
    started = time.time()
    closed = False
    for i in range(len(packet)):
        try:
            c.send(packet[i:i + 1])
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        if c.closed(timeout=0.5):
            closed = True
            break
    assert closed
    assert 1.5 < time.time() - started < 6
    assert "startup timeout" in strict.log()
    assert_still_serving(strict, bystander)


def test_connections_over_the_limit_get_53300_while_others_run(strict):
    held = [logged_in(strict) for _ in range(5)]
    # Two more: the sixth fits the limit of 6, beyond it pgmoat says no.
    sixth = logged_in(strict)
    extra = pgwire.Conn(strict.port)
    msgs = extra.login(APP, APP_PASSWORD)
    f = pgwire.first_error(msgs)
    assert f is not None and f["C"] == "53300" and f["M"] == "sorry, too many clients already"
    for c in held + [sixth]:
        c.send(pgwire.query("SELECT 1"))
        assert c.read_until(b"Z")[-1] == (b"Z", b"I")
        c.close()
    time.sleep(0.3)
    assert_still_serving(strict)


def test_pipelined_extended_messages_before_one_sync(strict):
    c = logged_in(strict)
    batch = b""
    for i in range(100):
        batch += pgwire.parse("", f"SELECT {i} + $1::int") + pgwire.bind(params=["1"]) + pgwire.execute()
    batch += pgwire.SYNC
    c.send(batch)
    msgs = c.read_until(b"Z")
    rows = [int(body[6:]) for t, body in msgs if t == b"D"]
    assert rows == [i + 1 for i in range(100)]


def test_execute_with_row_limit_suspends_the_portal(strict):
    c = logged_in(strict)
    c.send(pgwire.query("BEGIN"))
    c.read_until(b"Z")
    c.send(pgwire.parse("", "SELECT generate_series(1, 10)") + pgwire.bind("p1") + pgwire.execute("p1", 4) +
           pgwire.execute("p1", 4) + pgwire.execute("p1", 4) + pgwire.SYNC)
    msgs = c.read_until(b"Z")
    kinds = [t for t, _ in msgs]
    assert kinds.count(b"D") == 10
    assert kinds.count(b"s") == 2  # PortalSuspended after each of the first two
    assert kinds.count(b"C") == 1


def test_flush_without_sync_delivers_results(strict):
    c = logged_in(strict)
    c.send(pgwire.parse("s1", "SELECT 42") + pgwire.describe(b"S", "s1") + pgwire.FLUSH)
    assert c.read_message()[0] == b"1"  # ParseComplete arrives before any Sync
    assert c.read_message()[0] == b"t"
    c.send(pgwire.SYNC)
    c.read_until(b"Z")


def test_upstream_down_gives_08006_naming_the_target(workdir):
    dead_port = pgwire.socket.socket()
    dead_port.bind(("127.0.0.1", 0))
    port = dead_port.getsockname()[1]
    dead_port.close()
    m = Pgmoat(workdir, targets={"dev": {"port": port}}, apps={APP: (APP_PASSWORD, ["dev"])}, monitor=True).start()
    try:
        c = pgwire.Conn(m.port)
        f = pgwire.first_error(c.login(APP, APP_PASSWORD))
        assert f["S"] == "FATAL" and f["C"] == "08006"
        assert 'cannot connect to target "dev"' in f["M"]
        assert m.alive()
    finally:
        m.stop()
