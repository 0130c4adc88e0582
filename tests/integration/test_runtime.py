"""pgmoat as a running service: bounded memory under big results, shutdown,
reload, and targets that come and go."""
import json
import os
import signal
import subprocess
import threading
import time

import psycopg
import pytest

import pgwire
from conftest import APP, APP_PASSWORD, psql
from pgharness import Pgmoat, Postgres, free_port


def test_a_million_row_result_streams_with_bounded_memory(pgmoat):
    c = pgwire.Conn(pgmoat.port, timeout=60)
    c.login(APP, APP_PASSWORD)
    baseline = pgmoat.rss_kb()
    c.send(pgwire.query("SELECT g, repeat('x', 40) FROM generate_series(1, 1200000) g"))
    rows = 0
    peak = baseline
    paused = False
    while True:
        t, body = c.read_message()
        if t == b"D":
            rows += 1
            if rows == 100000 and not paused:
                # Stop reading: the server keeps sending, pgmoat must not buffer it.
                paused = True
                for _ in range(15):
                    time.sleep(0.1)
                    peak = max(peak, pgmoat.rss_kb())
            if rows % 50000 == 0:
                peak = max(peak, pgmoat.rss_kb())
        elif t == b"Z":
            break
    assert rows == 1200000
    # ~70 MB went through; pgmoat's memory grew by far less.
    assert peak - baseline < 20 * 1024, f"RSS grew from {baseline} kB to {peak} kB"


def test_large_copy_data_and_wide_rows_stream_through(pgmoat):
    with psycopg.connect(pgmoat.dsn(APP, APP_PASSWORD)) as c:
        c.execute("CREATE TEMP TABLE wide (v text)")
        big = "y" * (3 * 1024 * 1024)  # one CopyData and one DataRow larger than the buffers
        with c.cursor().copy("COPY wide FROM STDIN") as copy:
            copy.write(big + "\n")
        assert c.execute("SELECT length(v) FROM wide").fetchone() == (len(big),)
        assert c.execute("SELECT v FROM wide").fetchone()[0] == big


def test_sigterm_lets_a_running_statement_finish_then_exits(workdir, postgres):
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={APP: (APP_PASSWORD, ["dev"])}, monitor=True,
               server={"shutdown_timeout": "10s"}).start()
    busy = psycopg.connect(m.dsn(APP, APP_PASSWORD))
    idle = psycopg.connect(m.dsn(APP, APP_PASSWORD))
    result = {}

    def run():
        result["value"] = busy.execute("SELECT pg_sleep(1.5), 'finished'").fetchone()[1]

    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.3)
    m.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    # No new connections once shutdown began.
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(m.dsn(APP, APP_PASSWORD), connect_timeout=2)
    t.join()
    assert result["value"] == "finished"
    assert m.proc.wait(timeout=15) == 0
    # The idle session was told why it was closed.
    with pytest.raises(psycopg.OperationalError, match="terminating connection due to administrator command|closed"):
        idle.execute("SELECT 1")
    assert "shutting down" in m.log()


def test_sigterm_deadline_closes_sessions_that_do_not_finish(workdir, postgres):
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={APP: (APP_PASSWORD, ["dev"])}, monitor=True,
               server={"shutdown_timeout": "1s"}).start()
    busy = psycopg.connect(m.dsn(APP, APP_PASSWORD))
    t = threading.Thread(target=lambda: pytest.raises(psycopg.OperationalError, busy.execute, "SELECT pg_sleep(30)"))
    t.start()
    time.sleep(0.3)
    started = time.time()
    m.proc.send_signal(signal.SIGTERM)
    assert m.proc.wait(timeout=10) == 0
    assert time.time() - started < 5
    t.join(timeout=10)


def test_one_target_down_does_not_affect_another(workdir, postgres):
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}, "prod": {"port": free_port()}},
               apps={APP: (APP_PASSWORD, ["dev", "prod"])}, monitor=True).start()
    try:
        with pytest.raises(psycopg.OperationalError, match='cannot connect to target "prod"'):
            psycopg.connect(m.dsn(APP, APP_PASSWORD, target="prod"))
        with psycopg.connect(m.dsn(APP, APP_PASSWORD, target="dev")) as c:
            assert c.execute("SELECT 1").fetchone() == (1,)
    finally:
        m.stop()


def test_upstream_restart_gives_a_clear_error_and_new_sessions_work_after(workdir):
    pg = Postgres(workdir).start()
    m = Pgmoat(workdir, targets={"dev": {"port": pg.port}}, apps={APP: (APP_PASSWORD, ["dev"])}, monitor=True).start()
    try:
        c = psycopg.connect(m.dsn(APP, APP_PASSWORD))
        c.execute("SELECT 1")
        pg.stop(mode="immediate")
        with pytest.raises(psycopg.OperationalError) as e:
            c.execute("SELECT 1")
        assert "terminating connection" in str(e.value) or "lost the connection" in str(e.value)
        with pytest.raises(psycopg.OperationalError, match="cannot connect to target"):
            psycopg.connect(m.dsn(APP, APP_PASSWORD))
        pg.restart_in_background()
        with psycopg.connect(m.dsn(APP, APP_PASSWORD)) as c2:
            assert c2.execute("SELECT 'back'").fetchone() == ("back",)
        assert m.alive()
    finally:
        m.stop()
        pg.stop()


def test_sighup_reloads_credentials_and_keeps_the_old_ones_when_broken(workdir, postgres):
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={APP: (APP_PASSWORD, ["dev"])}, monitor=True).start()
    try:
        cred = os.path.join(m.dir, "credentials.toml")
        good = open(cred).read()
        line = subprocess.run([m_bin(), "passwd", "newcomer"], input="newcomer-pass-1\n", capture_output=True,
                              text=True, check=True).stdout
        with open(m.config, "a") as f:
            f.write('[apps.newcomer]\ntargets = ["dev"]\n')
        with open(cred, "a") as f:
            f.write(line)
        m.proc.send_signal(signal.SIGHUP)
        wait_for_log(m, "configuration reloaded")
        with psycopg.connect(m.dsn("newcomer", "newcomer-pass-1")) as c:
            assert c.execute("SELECT 1").fetchone() == (1,)
        # A broken credentials file: the reload fails with file:line, old state stays.
        with open(cred, "w") as f:
            f.write(good + "oops = 42\n")
        m.proc.send_signal(signal.SIGHUP)
        wait_for_log(m, "reload failed")
        assert "credentials.toml:" in m.log()
        with psycopg.connect(m.dsn("newcomer", "newcomer-pass-1")) as c:
            assert c.execute("SELECT 1").fetchone() == (1,)
        assert m.alive()
    finally:
        m.stop()


def test_sighup_applies_reloadable_keys_and_names_the_restart_only_ones_it_cannot(workdir, postgres):
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={APP: (APP_PASSWORD, ["dev"])}, monitor=True,
               server={"max_client_connections": 100}).start()
    try:
        text = open(m.config).read()
        # threads is restart-only (the I/O threads exist from start); max_client_connections applies.
        assert "threads = 2\n" in text and "max_client_connections = 100\n" in text
        with open(m.config, "w") as f:
            f.write(text.replace("threads = 2\n", "threads = 3\n").replace("max_client_connections = 100\n",
                                                                          "max_client_connections = 1\n"))
        m.proc.send_signal(signal.SIGHUP)
        wait_for_log(m, "configuration reloaded")
        assert "configuration reload: server.threads (2 -> 3) takes effect only after a restart" in m.log()
        assert "max_client_connections" not in m.log().split("configuration reload:", 1)[1].split("\n", 1)[0]
        # The reloadable key is in force: a second client is over the new limit (FATAL 53300).
        with psycopg.connect(m.dsn(APP, APP_PASSWORD)) as c:
            assert c.execute("SELECT 1").fetchone() == (1,)
            with pytest.raises(psycopg.OperationalError) as e:
                psycopg.connect(m.dsn(APP, APP_PASSWORD))
            assert "too many" in str(e.value) or "53300" in str(e.value)
        # The config check lists what the file sets and which keys need a restart.
        r = subprocess.run([m_bin(), "check", "-c", m.config], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert "server.threads" in r.stdout and "3  (a change needs a restart)" in r.stdout
        assert "server.max_client_connections" in r.stdout
        assert m.alive()
    finally:
        m.stop()


def test_config_reference_prints_every_key_as_a_markdown_table():
    r = subprocess.run([m_bin(), "config-reference"], capture_output=True, text=True, check=True)
    lines = r.stdout.splitlines()
    assert lines[0] == "| key | type | default | reload | what it does |"
    assert any(line.startswith("| `server.idle_timeout` | duration | `0` | applies |") for line in lines)
    assert any(line.startswith("| `audit.fsync` | string: every_record, interval | `\"interval\"` | restart |")
               for line in lines)


def m_bin():
    from pgharness import PGMOAT_BIN
    return PGMOAT_BIN


def wait_for_log(m, text, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in m.log():
            return
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in pgmoat log:\n{m.log()[-2000:]}")


def test_first_statement_mode_holds_no_server_connection_for_idle_sessions(workdir, postgres):
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={APP: (APP_PASSWORD, ["dev"])}, monitor=True,
               server={"upstream_connect": "first_statement"}).start()

    def server_sessions():
        return int(postgres.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'pgmoat_upstream' "
                                "AND application_name LIKE 'lazy-%'"))
    try:
        # The first login learns the target's welcome.
        with psycopg.connect(m.dsn(APP, APP_PASSWORD, application_name="lazy-0")) as c:
            c.execute("SELECT 1")
        idle = [psycopg.connect(m.dsn(APP, APP_PASSWORD, application_name=f"lazy-{i}")) for i in range(1, 6)]
        assert server_sessions() == 0
        for c in idle:
            assert c.info.parameter_status("application_name").startswith("lazy-")
            assert c.info.parameter_status("standard_conforming_strings") == "on"
            assert c.info.parameter_status("server_version")
        assert idle[0].execute("SELECT current_setting('application_name')").fetchone() == ("lazy-1",)
        assert server_sessions() == 1
        for c in idle:
            c.close()
    finally:
        m.stop()


def test_first_statement_mode_reports_an_unreachable_target_at_the_first_statement(workdir):
    pg = Postgres(workdir).start()
    m = Pgmoat(workdir, targets={"dev": {"port": pg.port, "connect_timeout": "2s"}}, apps={APP: (APP_PASSWORD, ["dev"])},
               monitor=True, server={"upstream_connect": "first_statement"}).start()
    try:
        with psycopg.connect(m.dsn(APP, APP_PASSWORD)) as c:
            c.execute("SELECT 1")
        pg.stop()
        c = psycopg.connect(m.dsn(APP, APP_PASSWORD))  # admitted from the remembered welcome
        with pytest.raises(psycopg.OperationalError, match='cannot connect to target "dev"'):
            c.execute("SELECT 1")
        assert m.alive()
    finally:
        m.stop()
        pg.stop()


def test_json_log_format_writes_one_object_per_line_for_every_event(workdir, postgres):
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={APP: (APP_PASSWORD, ["dev"])}, monitor=True,
               server={"log_format": "json"}).start()
    try:
        psql(m, "SELECT 1")
        psql(m, "SELECT 1", password="wrong-password", check=False)
    finally:
        m.stop()
    lines = [line for line in m.log().splitlines() if line.strip()]
    assert len(lines) >= 4
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(list(r) == ["time", "level", "message"] for r in records)
    assert all(r["level"] in ("debug", "info", "warning", "error") for r in records)
    assert any("connected to target" in r["message"] for r in records)
    assert any("login refused" in r["message"] for r in records)
