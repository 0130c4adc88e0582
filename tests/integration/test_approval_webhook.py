"""[approvals] webhook: pgmoat POSTs a JSON document for each pending approval and
for the end of its hold, to a real HTTP server the test runs on a loopback port.
A webhook that is down or never answers delays nothing: the hold, the approval
and every other session go on, and the failure is logged and counted."""
import json
import queue
import signal
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest

from conftest import APP, APP_PASSWORD
from pgharness import Pgmoat
from test_approval_holds import ADMIN, ADMIN_PASSWORD, Background, cli, console, exists, new_table, pending


HOLDS = f"""
[policy]
extends = "baseline"
priority = 10
[applies_to]
apps = ["{APP}"]
[statements]
allow = ["query", "dml", "transaction", "drop"]
[relations]
ddl = {{ allow = ["*"] }}
[parameters]
mode = "off"
[holds]
statements = ["drop"]
timeout = "60s"
"""


class Hook:
    """An HTTP server that records each POST; `hang` makes it keep the request
    unanswered until the test ends, `status` is what it answers otherwise."""

    def __init__(self):
        self.posts = queue.Queue()
        self.hang = threading.Event()
        self.release = threading.Event()
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.posts.put((self.path, dict(self.headers), json.loads(body)))
                if hook.hang.is_set():
                    hook.release.wait(30)
                    return
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next(self, timeout=10):
        return self.posts.get(timeout=timeout)

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def hook():
    h = Hook()
    yield h
    h.stop()


@pytest.fixture(scope="module")
def moat(workdir, postgres, hook):
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}},
               apps={APP: (APP_PASSWORD, ["dev"]), ADMIN: (ADMIN_PASSWORD, [], {"admin": True})},
               policies={"holds.toml": HOLDS},
               extra=f'[approvals]\nwebhook = "http://127.0.0.1:{hook.port}/pgmoat/held"\n'
                     f'webhook_timeout = "1s"\n').start()
    yield m
    m.stop()
    assert m.proc.returncode == 0, m.log()


def point_webhook_at(m, url):
    """Rewrites [approvals] webhook and reloads (SIGHUP)."""
    with open(m.config) as f:
        text = f.read()
    start = text.index('webhook = "') + len('webhook = "')
    text = text[:start] + url + text[text.index('"', start):]
    with open(m.config, "w") as f:
        f.write(text)
    reloads = m.log().count("configuration reloaded")
    m.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while m.log().count("configuration reloaded") == reloads:
        assert time.time() < deadline, m.log()[-2000:]
        time.sleep(0.05)


def counter(m, name):
    rows, _, _ = console(m, "SHOW COUNTERS")
    return sum(float(r["value"]) for r in rows if r["metric"] == name)


def test_a_held_drop_is_posted_with_everything_to_decide_it(moat, postgres, hook):
    table = new_table(postgres)
    conn = psycopg.connect(moat.dsn(APP, APP_PASSWORD, "dev"), autocommit=True)
    job = Background(lambda: conn.execute(f"DROP TABLE {table}"))
    path, headers, doc = hook.next()
    row = pending(moat, table)
    approval = int(row["approval"])
    assert path == "/pgmoat/held"
    assert headers["Content-Type"] == "application/json"
    assert doc["event"] == "approval_pending" and doc["approval"] == approval
    assert doc["app"] == APP and doc["kind"] == "app" and doc["target"] == "dev"
    assert doc["session"] == int(row["session"])
    assert doc["rule"] == "hold_statements" and doc["policy"] == "holds"
    assert doc["statement"] == f"DROP TABLE {table}"
    assert "drop statements are held for approval" in doc["why"]
    assert doc["held_at"] == row["held_at"]
    assert 55 <= doc["seconds_left"] <= 60 and doc["deadline"] > doc["held_at"]
    assert doc["approve"] == f"pgmoat approve {approval}"
    assert doc["deny"] == f"pgmoat deny {approval} --reason TEXT"
    # Notified, still held: the server has not seen it.
    assert job.thread.is_alive() and exists(postgres, table)

    r = cli(moat, "approve", str(approval))
    assert r.returncode == 0, r.stderr
    job.join()
    assert job.error is None, job.error
    assert not exists(postgres, table)
    _, _, ended = hook.next()
    assert ended["event"] == "approval_ended" and ended["approval"] == approval
    assert ended["outcome"] == "approved" and ended["by"] == ADMIN
    assert ended["statement"] == f"DROP TABLE {table}" and "seconds_left" not in ended
    conn.close()
    assert counter(moat, "pgmoat_webhook_deliveries_total") >= 2


def test_a_denial_with_its_reason_is_posted(moat, postgres, hook):
    table = new_table(postgres)
    conn = psycopg.connect(moat.dsn(APP, APP_PASSWORD, "dev"), autocommit=True)
    job = Background(lambda: conn.execute(f"DROP TABLE {table}"))
    _, _, doc = hook.next()
    r = cli(moat, "deny", str(doc["approval"]), "--reason", "not on a Friday")
    assert r.returncode == 0, r.stderr
    job.join()
    assert isinstance(job.error, psycopg.errors.InsufficientPrivilege)
    _, _, ended = hook.next()
    assert (ended["outcome"], ended["by"], ended["reason"]) == ("denied", ADMIN, "not on a Friday")
    assert exists(postgres, table)
    conn.close()


@pytest.mark.parametrize("trouble", ["down", "hangs", "answers 500"])
def test_a_webhook_in_trouble_delays_nothing(moat, postgres, hook, trouble):
    failures = counter(moat, "pgmoat_webhook_failures_total")
    if trouble == "down":
        point_webhook_at(moat, f"http://127.0.0.1:{closed_port()}/pgmoat/held")
    elif trouble == "hangs":
        hook.hang.set()
    else:
        hook.status = 500
    try:
        table = new_table(postgres)
        conn = psycopg.connect(moat.dsn(APP, APP_PASSWORD, "dev"), autocommit=True)
        job = Background(lambda: conn.execute(f"DROP TABLE {table}"))
        row = pending(moat, table)
        # Every other session is served while the delivery fails or hangs.
        other = psycopg.connect(moat.dsn(APP, APP_PASSWORD, "dev"), autocommit=True)
        started = time.time()
        assert other.execute("SELECT 1").fetchone() == (1,)
        _, said, err = console(moat, f"DENY {row['approval']} webhook trouble")
        assert err is None, err
        job.join(5)
        took = time.time() - started
        assert took < 0.9, f"deciding took {took:.2f} s with a webhook that {trouble}"
        assert isinstance(job.error, psycopg.errors.InsufficientPrivilege)
        assert exists(postgres, table)
        # The failure is logged and counted once its 1 s deadline has passed.
        deadline = time.time() + 10
        while counter(moat, "pgmoat_webhook_failures_total") < failures + 2:
            assert time.time() < deadline, moat.log()[-3000:]
            time.sleep(0.1)
        said = {"down": "Connection refused", "hangs": "no answer within 1000 ms",
                "answers 500": "answered HTTP 500"}[trouble]
        assert f"approval {row['approval']}: webhook" in moat.log() and said in moat.log()
        assert "(the hold is not affected)" in moat.log()
        assert other.execute("SELECT 2").fetchone() == (2,)
        other.close()
        conn.close()
    finally:
        hook.hang.clear()
        hook.status = 200
        if trouble == "down":
            point_webhook_at(moat, f"http://127.0.0.1:{hook.port}/pgmoat/held")
        while not hook.posts.empty():
            hook.posts.get()
