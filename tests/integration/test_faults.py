"""Faults around pgmoat: the upstream restarting under load or hanging, policy
files and credentials edited into invalid states under load, a full audit disk
under the `continue` failure policy, and 500 concurrent clients.

Short forms run in CI; PGMOAT_LONG=1 runs the long ones (60 s of 500 clients)."""
import contextlib
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request

import psycopg
import pytest

import pgwire
from conftest import APP, APP_PASSWORD, fill
from pgharness import PGMOAT_BIN, UPSTREAM_PASSWORD, UPSTREAM_USER, Pgmoat, Postgres, free_port

LONG = os.environ.get("PGMOAT_LONG") == "1"


def wait_for(cond, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not met in {timeout}s")


def open_sockets(m):
    fds = f"/proc/{m.proc.pid}/fd"
    out = []
    for x in os.listdir(fds):
        with contextlib.suppress(OSError):
            if os.readlink(f"{fds}/{x}").startswith("socket:"):
                out.append(x)
    return len(out)


def settled_sockets(m):
    """pgmoat's sockets at rest: the fewest seen over a second (a readiness probe of
    the upstream may be open at any one moment)."""
    samples = []
    for _ in range(10):
        samples.append(open_sockets(m))
        time.sleep(0.1)
    return min(samples)


def pgbench(port, *args, user=APP, password=APP_PASSWORD, db="dev", timeout=300):
    env = dict(os.environ, PGPASSWORD=password, PGHOST="127.0.0.1", PGPORT=str(port), PGUSER=user)
    return subprocess.run(["pgbench", *args, db], capture_output=True, text=True, env=env, timeout=timeout)


def pgbench_bg(port, *args, user=APP, password=APP_PASSWORD, db="dev"):
    env = dict(os.environ, PGPASSWORD=password, PGHOST="127.0.0.1", PGPORT=str(port), PGUSER=user)
    return subprocess.Popen(["pgbench", *args, db], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


class Load:
    """psycopg sessions looping over a read and a write; records every error
    with its SQLSTATE. With reconnect, a session that lost its connection opens
    a new one and goes on."""

    def __init__(self, m, n=4, reconnect=False, app=APP, password=APP_PASSWORD):
        self.m, self.n, self.reconnect = m, n, reconnect
        self.app, self.password = app, password
        self.errors, self.ok, self.stuck = [], 0, []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.last_ok = {}

    def _run(self, k):
        conn = None
        i = 0
        while not self.stop.is_set():
            try:
                if conn is None:
                    conn = psycopg.connect(self.m.dsn(self.app, self.password), autocommit=True, connect_timeout=10)
                conn.execute("SELECT aid, abalance FROM pgbench_accounts WHERE aid = %s", (i % 1000 + 1,)).fetchone()
                conn.execute("UPDATE pgbench_tellers SET tbalance = tbalance + %s WHERE tid = %s", (1, k % 10 + 1))
                with self.lock:
                    self.ok += 1
                    self.last_ok[k] = time.time()
            except psycopg.Error as e:
                with self.lock:
                    self.errors.append((getattr(e, "sqlstate", None), str(e).strip().splitlines()[0] if str(e) else ""))
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
                conn = None
                if not self.reconnect:
                    return
                time.sleep(0.1)
            i += 1
        if conn is not None:
            conn.close()

    def __enter__(self):
        self.threads = [threading.Thread(target=self._run, args=(k,), daemon=True) for k in range(self.n)]
        for t in self.threads:
            t.start()
        return self

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)
        self.stuck = [t for t in self.threads if t.is_alive()]
        assert not self.stuck, f"{len(self.stuck)} sessions hang"

    def __exit__(self, *exc):
        if not self.stop.is_set():
            self.finish()
        return False


class RawLoad:
    """Raw protocol sessions looping on a query; each records the SQLSTATEs of
    the errors it got before the connection closed."""

    def __init__(self, m, n):
        self.codes = [None] * n
        self.threads = [threading.Thread(target=self._run, args=(m, k), daemon=True) for k in range(n)]
        for t in self.threads:
            t.start()

    def _run(self, m, k):
        c = pgwire.Conn(m.port, timeout=30)
        c.login(APP, APP_PASSWORD)
        codes = []
        with contextlib.suppress(ConnectionError, OSError):
            while True:
                c.send(pgwire.query("SELECT 1"))
                while True:
                    t, body = c.read_message()
                    if t == b"E":
                        codes.append(pgwire.error_fields(body)["C"])
                    if t == b"Z":
                        break
        self.codes[k] = codes

    def finish(self):
        for t in self.threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in self.threads), "a raw session hangs"
        return self.codes


def init_pgbench(pg, scale=1):
    """pgbench tables, initialized straight on the server as pgmoat's role."""
    r = pgbench(pg.port, "-i", "-s", str(scale), "-q", user=UPSTREAM_USER, password=UPSTREAM_PASSWORD, db="app")
    assert r.returncode == 0, r.stderr


# ---- the upstream restarts under load ---------------------------------------------


def test_upstream_restart_under_pgbench_load(workdir):
    pg = Postgres(workdir).start()
    init_pgbench(pg)
    m = Pgmoat(workdir, targets={"dev": {"port": pg.port}}, apps={APP: (APP_PASSWORD, ["dev"])}, monitor=True).start()
    try:
        sockets_before = settled_sockets(m)
        bench = pgbench_bg(m.port, "-c", "8", "-j", "2", "-T", "30", "-M", "prepared", "--no-vacuum")
        raw = RawLoad(m, n=6)
        with Load(m, n=4) as load:
            wait_for(lambda: load.ok > 50, what="load running")
            time.sleep(1)
            pg.stop(mode="fast")  # every backend gets FATAL 57P01
            load.finish()
            assert len(load.errors) == 4, load.errors  # every session saw the end, none hangs
            for _, text in load.errors:  # libpq may see the closed socket before the message
                assert re.search(r"terminating connection due to administrator command|lost the connection to "
                                 r"target|server closed the connection", text), load.errors
        # On the wire: the server's 57P01, then pgmoat's 08006, then the close.
        assert raw.finish() == [["57P01", "08006"]] * 6
        out, err = bench.communicate(timeout=60)  # pgbench ends too, it does not hang
        assert bench.returncode != 0
        assert re.search(r"terminating connection due to administrator command|lost the connection to target", err), err
        # While the server is down: a clear error naming the target.
        c = pgwire.Conn(m.port)
        f = pgwire.first_error(c.login(APP, APP_PASSWORD))
        assert f["S"] == "FATAL" and f["C"] == "08006" and 'target "dev"' in f["M"]
        pg.restart_in_background()
        wait_for(lambda: _can_query(m), timeout=30, what="new sessions once the server is back")
        with Load(m, n=4) as load:
            wait_for(lambda: load.ok > 40, what="load after restart")
            load.finish()
            assert not load.errors, load.errors
        assert m.alive()
        # Sessions that ended gave their sockets back.
        wait_for(lambda: open_sockets(m) == sockets_before, timeout=10, what="sockets released")
    finally:
        m.stop()
        pg.stop()


def _can_query(m):
    try:
        with psycopg.connect(m.dsn(APP, APP_PASSWORD), connect_timeout=3) as c:
            return c.execute("SELECT 1").fetchone() == (1,)
    except psycopg.Error:
        return False


def test_upstream_crash_mid_statement_under_load(workdir):
    """An immediate shutdown (as a crash): sessions get 57P01 or 08006 at once."""
    pg = Postgres(workdir).start()
    init_pgbench(pg)
    m = Pgmoat(workdir, targets={"dev": {"port": pg.port}}, apps={APP: (APP_PASSWORD, ["dev"])}, monitor=True).start()
    try:
        with Load(m, n=6, reconnect=True) as load:
            wait_for(lambda: load.ok > 50, what="load running")
            long_running = pgwire.Conn(m.port, timeout=30)
            long_running.login(APP, APP_PASSWORD)
            long_running.send(pgwire.query("SELECT pg_sleep(20)"))
            time.sleep(0.5)
            started = time.time()
            pg.stop(mode="immediate")
            f = pgwire.first_error(long_running.read_until(b"Z"))
            assert f["C"] in ("57P01", "08006", "57P02"), f
            assert time.time() - started < 5
            time.sleep(1)
            pg.restart_in_background()
            recovered = time.time()
            wait_for(lambda: all(load.last_ok.get(k, 0) > recovered for k in range(6)), timeout=30,
                     what="every session working again")
            load.finish()
        assert {code for code, _ in load.errors} <= {"57P01", "57P02", "08006", None}, load.errors
        assert m.alive()
    finally:
        m.stop()
        pg.stop()


# ---- an upstream that accepts and never answers -----------------------------------


class SilentServer:
    """Accepts TCP connections and never says a word (or, slow=True, answers the
    startup one byte a second)."""

    def __init__(self, slow=False):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(200)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.slow = slow
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(c)
            if self.slow:
                threading.Thread(target=self._drip, args=(c,), daemon=True).start()

    def _drip(self, c):
        answer = pgwire.message(b"R", b"\0\0\0\x0aSCRAM-SHA-256\0\0")
        with contextlib.suppress(OSError):
            c.recv(4096)
            for b in answer:
                c.sendall(bytes([b]))
                time.sleep(1)

    def close(self):
        self.sock.close()
        for c in self.held:
            c.close()


@pytest.mark.parametrize("slow", [False, True], ids=["silent", "dripping"])
def test_an_upstream_that_never_answers_times_out_per_config(workdir, postgres, slow):
    postgres.sql(f"CREATE TABLE IF NOT EXISTS pgbench_accounts (aid int, abalance int); "
                 f"CREATE TABLE IF NOT EXISTS pgbench_tellers (tid int, tbalance int); "
                 f"ALTER TABLE pgbench_accounts OWNER TO {UPSTREAM_USER}; "
                 f"ALTER TABLE pgbench_tellers OWNER TO {UPSTREAM_USER}", "app")
    silent = SilentServer(slow=slow)
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}, "stuck": {"port": silent.port, "connect_timeout": "2s"}},
               apps={APP: (APP_PASSWORD, ["dev", "stuck"])}, monitor=True, server={"startup_timeout": "6s"}).start()
    try:
        with Load(m, n=3) as load:
            results = []

            def victim():
                c = pgwire.Conn(m.port, timeout=30)
                started = time.time()
                f = pgwire.first_error(c.login(APP, APP_PASSWORD, database="stuck"))
                results.append((time.time() - started, f))

            threads = [threading.Thread(target=victim) for _ in range(30)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
            assert len(results) == 30
            for elapsed, f in results:
                assert f["S"] == "FATAL" and f["C"] == "08006" and 'target "stuck"' in f["M"], f
                assert 1.5 < elapsed < 4, f"timed out after {elapsed:.1f}s with connect_timeout 2s"
            time.sleep(0.5)
            load.finish()
            assert not load.errors, load.errors
            assert load.ok > 100
        assert m.alive()
        assert "connect timeout" in m.log() or "timed out" in m.log()
    finally:
        m.stop()
        silent.close()


# ---- invalid edits under load ------------------------------------------------------


def _denied_still(m):
    with psycopg.connect(m.dsn(APP, APP_PASSWORD), autocommit=True) as c:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("SELECT pg_sleep(0)")
        assert c.execute("SELECT aid FROM pgbench_accounts WHERE aid = %s", (1,)).fetchone() == (1,)


def test_policy_and_credentials_broken_under_load_keep_the_old_state(workdir):
    pg = Postgres(workdir).start()
    init_pgbench(pg)
    m = Pgmoat(workdir, targets={"dev": {"port": pg.port}}, apps={APP: (APP_PASSWORD, ["dev"])},
               extra='[policies]\nwatch_interval = "200ms"\n').start()
    baseline = os.path.join(m.policies_dir, "baseline.toml")
    cred = os.path.join(m.dir, "credentials.toml")
    good_baseline, good_cred, good_config = open(baseline).read(), open(cred).read(), open(m.config).read()

    def reloads(kind):
        return m.log().count("configuration reload failed" if kind == "failed" else "configuration reloaded")

    def change(path, text, what, sighup=False):
        failed, ok = reloads("failed"), reloads("ok")
        with open(path, "w", errors="surrogateescape") as f:
            f.write(text)
        if sighup:
            m.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: reloads("failed") > failed, timeout=10, what=f"the failed reload after: {what}")
        assert reloads("ok") == ok
        _denied_still(m)  # the old policies still judge, old credentials still log in

    def restore(path, text, sighup=False):
        ok = reloads("ok")
        with open(path, "w") as f:
            f.write(text)
        if sighup:
            m.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: reloads("ok") > ok, timeout=10, what=f"a good reload after restoring {path}")

    try:
        with Load(m, n=4) as load:
            wait_for(lambda: load.ok > 20, what="load running")
            for text, what in [
                (good_baseline.replace("[statements]", "[statements\n", 1), "policy syntax error"),
                ("", "empty baseline"),
                (good_baseline.replace('mode = "enforce"', 'mode = "allow_everything"', 1), "bad value"),
                (good_baseline + "\n[surprise]\nkey = 1\n", "unknown table"),
                ("\udcff\x00 garbage \x00" * 50, "binary garbage"),
                (good_baseline.replace("\ndefault = true", "\ndefault = false", 1), "no default policy"),
            ]:
                change(baseline, text, what)
                restore(baseline, good_baseline)
            extra = os.path.join(m.policies_dir, "zz-extra.toml")
            change(extra, '[policy]\nextends = "nowhere"\n', "dangling extends")
            ok = reloads("ok")
            os.remove(extra)
            wait_for(lambda: reloads("ok") > ok, what="reload after removing the extra file")
            # Credentials and the config itself, reloaded on SIGHUP.
            for path, text, good, what in [
                (cred, good_cred + "oops = 42\n", good_cred, "unknown key in credentials"),
                (cred, good_cred.replace("SCRAM-SHA-256$", "SCRAM-SHA-1$", 1), good_cred, "bad verifier"),
                (cred, "", good_cred, "empty credentials"),
                (m.config, good_config.replace("[server]", "[server\n", 1), good_config, "config syntax error"),
                (m.config, good_config + '\n[server.tls]\ncert = "missing.crt"\nkey = "missing.key"\n', good_config,
                 "config naming missing files"),
            ]:
                change(path, text, what, sighup=True)
                restore(path, good, sighup=True)
            time.sleep(0.5)
            load.finish()
            assert not load.errors, f"sessions were disturbed: {load.errors[:3]}"
            assert load.ok > 200
        log = m.log()
        assert "baseline.toml:235:" in log or "baseline.toml:" in log
        assert "credentials.toml:" in log and "zz-extra.toml:" in log
        _denied_still(m)
        assert m.alive()
    finally:
        m.stop()
        pg.stop()


def test_a_policy_with_a_non_ascii_key_is_refused_on_reload(workdir, postgres):
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={APP: (APP_PASSWORD, ["dev"])},
               extra='[policies]\nwatch_interval = "200ms"\n').start()
    try:
        with open(os.path.join(m.policies_dir, "zz-typo.toml"), "w") as f:
            f.write('[policy]\nextends = "baseline"\n[applies_to]\napps = ["x"]\n[limits]\nmax_rows = 5 é\n')
        wait_for(lambda: "zz-typo.toml" in m.log() or not m.alive(), timeout=10, what="the reload")
        time.sleep(0.3)
        assert m.alive(), m.log()[-2000:]
        with psycopg.connect(m.dsn(APP, APP_PASSWORD)) as c:
            assert c.execute("SELECT 1").fetchone() == (1,)
    finally:
        m.stop()


# ---- the audit disk fills up under failure_policy = "continue" ---------------------


def metric(port, name):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_audit_disk_full_with_continue_policy_keeps_statements_running(workdir, postgres, tiny_fs):
    postgres.sql(f"CREATE TABLE IF NOT EXISTS audit_full (id serial PRIMARY KEY, v text); "
                 f"ALTER TABLE audit_full OWNER TO {UPSTREAM_USER}", "app")
    mport = free_port()
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={APP: (APP_PASSWORD, ["dev"])},
               extra=f'[audit]\npath = "{tiny_fs}/audit.jsonl"\nfailure_policy = "continue"\n'
                     f'[metrics]\nlisten = "127.0.0.1:{mport}"\n').start()
    try:
        with psycopg.connect(m.dsn(APP, APP_PASSWORD), autocommit=True) as c:
            c.execute("INSERT INTO audit_full (v) VALUES (%s)", ("before",))
            filler = fill(tiny_fs)
            for i in range(300):  # all run, none refused, while records cannot be written
                c.execute("INSERT INTO audit_full (v) VALUES (%s)", (f"while-full-{i}",))
            wait_for(lambda: metric(mport, "pgmoat_audit_records_dropped_total") > 0, timeout=10,
                     what="losses counted in pgmoat_audit_records_dropped_total")
            assert metric(mport, "pgmoat_audit_write_errors_total") > 0
            assert postgres.sql("SELECT count(*) FROM audit_full WHERE v LIKE 'while-full-%'", "app") == "300"
            os.remove(filler)
            for i in range(20):
                c.execute("INSERT INTO audit_full (v) VALUES (%s)", (f"after-{i}",))
            path = tiny_fs / "audit.jsonl"

            def audit_error():
                import json
                for line in open(path):
                    with contextlib.suppress(ValueError):
                        r = json.loads(line)
                        if r.get("event") == "audit_error" and r.get("lost", 0) > 0:
                            return True
                return False

            wait_for(audit_error, timeout=15, what="an audit_error record with the number lost")
        assert "audit" in m.log()
        assert m.alive()
    finally:
        m.stop()
    r = subprocess.run([PGMOAT_BIN, "audit", "verify", str(tiny_fs / "audit.jsonl")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_an_openssl_failure_in_the_audit_writer_leaves_the_log_failing_not_pgmoat_dead(workdir, postgres):
    # OpenSSL configured with only its null provider: no SHA-256, so the audit
    # chain cannot be computed (as after any OpenSSL error).
    conf = os.path.join(workdir, "openssl-null.cnf")
    with open(conf, "w") as f:
        f.write("openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n"
                "[provider_sect]\nnull = null_sect\n[null_sect]\nactivate = 1\n")
    mport = free_port()
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={APP: (APP_PASSWORD, ["dev"])},
               extra=f'[metrics]\nlisten = "127.0.0.1:{mport}"\n').start(env={"OPENSSL_CONF": conf})
    try:
        wait_for(lambda: "chaining failed" in m.log() or not m.alive(), what="the audit writer's first attempt")
        assert m.alive(), m.log()[-2000:]
        assert metric(mport, "pgmoat_audit_failing") == 1
        time.sleep(0.6)  # retried (every 250 ms), still failing, still alive
        assert m.alive() and metric(mport, "pgmoat_audit_failing") == 1
    finally:
        assert m.stop() == 0


# ---- 500 concurrent clients -----------------------------------------------------------


def test_500_concurrent_pgbench_clients(workdir):
    """500 clients through pgmoat at once, zero errors: each runs 10 transactions (PGMOAT_LONG=1: 60 s).
    A count per client, not a duration, so that every client is seen to make progress however long the
    500 logins take on a loaded machine (under ASan they took 13 of 15 s once)."""
    pg = Postgres(workdir, settings={"max_connections": "700"}).start()
    init_pgbench(pg, scale=5)
    m = Pgmoat(workdir, targets={"dev": {"port": pg.port}}, apps={APP: (APP_PASSWORD, ["dev"])}, monitor=True,
               server={"log_level": "info"}).start()
    try:
        run = ("-T", "60") if LONG else ("-t", "10")
        r = pgbench(m.port, "-S", "-M", "prepared", "-c", "500", "-j", "8", *run, "--no-vacuum", timeout=300)
        assert r.returncode == 0, r.stderr[-3000:]
        assert "number of clients: 500" in r.stdout
        failed = re.search(r"number of failed transactions: (\d+)", r.stdout)
        assert failed is None or failed.group(1) == "0", r.stdout
        done = int(re.search(r"number of transactions actually processed: (\d+)", r.stdout).group(1))
        assert done >= 500 * 10 if LONG else done == 500 * 10, r.stdout
        assert "aborted" not in r.stderr, r.stderr[-2000:]
        assert m.alive()
        assert "ERROR" not in m.log()
    finally:
        m.stop()
        pg.stop()
