"""Several pgmoat instances behind HAProxy, as pgmoat scales past one machine: it
keeps no shared state but the files it reads. Three instances from one config
(they differ only in their ports) share one policy directory; HAProxy (TCP mode)
balances clients over them and health-checks each on /readyz. Under load one
instance is stopped with SIGTERM: its clients get PostgreSQL's shutdown error
and reconnect through HAProxy to the others, and no statement is lost or run
twice. A policy change reaches all three, and their audit logs together hold one
record per statement, each log verifying on its own."""
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request

import psycopg
import pytest

from conftest import APP, APP_PASSWORD
from pgharness import PGMOAT_BIN, ROOT, UPSTREAM_PASSWORD, UPSTREAM_USER, Pgmoat, free_port, wait_for_port

INSTANCES = 3
CLIENTS = 6


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


def policy_version(port):
    m = re.search(r'pgmoat_policy_info\{version="([0-9a-f]+)"\} 1', scrape(port))
    return m.group(1) if m else None


@pytest.fixture(scope="module")
def fleet(workdir, postgres):
    postgres.sql(f"""
        CREATE TABLE events (client int NOT NULL, seq int NOT NULL);
        ALTER TABLE events OWNER TO {UPSTREAM_USER};
        CREATE TABLE reports (id int);
        ALTER TABLE reports OWNER TO {UPSTREAM_USER};
    """, "app")
    shared = os.path.join(workdir, "fleet-policies")
    shutil.copytree(os.path.join(ROOT, "policies"), shared)
    instances = [Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={APP: (APP_PASSWORD, ["dev"])})
                 for _ in range(INSTANCES)]
    # One config but for each instance's own ports and peer number; every instance
    # knows its peers, so a CancelRequest that lands on the wrong one is forwarded.
    peers = "".join(f'[peers.{i + 1}]\nhost = "127.0.0.1"\nport = {m.port}\n' for i, m in enumerate(instances))
    for i, m in enumerate(instances):
        m.metrics_port = free_port()
        m.server = {"shutdown_timeout": "10s", "peer_id": i + 1}
        m.extra = (f'[policies]\ndir = "{shared}"\nwatch_interval = "200ms"\n'
                   f'[metrics]\nlisten = "127.0.0.1:{m.metrics_port}"\nreadiness_interval = "200ms"\n'
                   '[audit]\nfsync = "every_record"\n' + peers)
        m._write_files()
        m.start()
    haproxy_port = free_port()
    cfg = os.path.join(workdir, "haproxy.cfg")
    with open(cfg, "w") as f:
        f.write(f"""
global
    maxconn 1000
defaults
    mode tcp
    timeout connect 2s
    timeout client 60s
    timeout server 60s
frontend pgmoat
    bind 127.0.0.1:{haproxy_port}
    default_backend pgmoats
backend pgmoats
    balance roundrobin
    # A connect to an instance that stopped listening goes to another one.
    option redispatch
    retries 3
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 200ms fall 1 rise 2
""")
        for i, m in enumerate(instances):
            f.write(f"    server pgmoat{i} 127.0.0.1:{m.port} check port {m.metrics_port}\n")
    proxy = subprocess.Popen(["haproxy", "-f", cfg, "-db"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_port(haproxy_port, proc=proxy)
    time.sleep(1)  # the first health checks
    yield {"instances": instances, "port": haproxy_port, "policies": shared, "postgres": postgres}
    proxy.terminate()
    proxy.wait(timeout=10)
    for m in instances:
        m.stop()


def dsn(fleet):
    return f"host=127.0.0.1 port={fleet['port']} dbname=dev user={APP} password={APP_PASSWORD}"


def statement_records(m, needle):
    return [r for r in m.audit_records("statement") if needle in r.get("statement", "")]


def test_pgbench_through_haproxy_spreads_over_every_instance(fleet):
    postgres = fleet["postgres"]
    subprocess.run(["pgbench", "-i", "-s", "1", "-q", "-d", postgres.dsn("app", UPSTREAM_USER, UPSTREAM_PASSWORD)],
                   check=True, capture_output=True)
    env = dict(os.environ, PGPASSWORD=APP_PASSWORD, PGHOST="127.0.0.1", PGPORT=str(fleet["port"]), PGUSER=APP)
    r = subprocess.run(["pgbench", "-S", "-M", "prepared", "-c", "6", "-j", "2", "-t", "200", "--no-vacuum", "dev"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "number of transactions actually processed: 1200/1200" in r.stdout
    time.sleep(0.3)
    per_instance = [len(statement_records(m, "FROM pgbench_accounts")) for m in fleet["instances"]]
    assert all(n > 0 for n in per_instance), per_instance
    assert sum(per_instance) == 1200


def test_a_policy_change_reaches_every_instance(fleet):
    versions = {policy_version(m.metrics_port) for m in fleet["instances"]}
    assert len(versions) == 1 and None not in versions
    with open(os.path.join(fleet["policies"], "no-reports.toml"), "w") as f:
        f.write(f'[policy]\nextends = "baseline"\npriority = 5\n[applies_to]\napps = ["{APP}"]\n'
                '[relations]\nread = { allow = ["*"], deny = ["reports"] }\n')
    deadline = time.time() + 10
    while time.time() < deadline:
        now = {policy_version(m.metrics_port) for m in fleet["instances"]}
        if len(now) == 1 and now != versions:
            break
        time.sleep(0.2)
    assert len(now) == 1 and now != versions, now
    # Each instance judges by the new set (sessions opened after the reload).
    for m in fleet["instances"]:
        with psycopg.connect(m.dsn(APP, APP_PASSWORD), autocommit=True) as c:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute("SELECT id FROM reports")


def test_a_cancel_reaching_another_instance_is_forwarded_to_the_sessions_own(fleet):
    """psycopg sends its CancelRequest on a new connection to the same address:
    HAProxy hands it to whichever instance comes next."""
    for attempt in range(INSTANCES + 1):
        with psycopg.connect(dsn(fleet), autocommit=True) as conn:
            timer = threading.Timer(0.5, conn.cancel)
            timer.start()
            started = time.monotonic()
            with pytest.raises(psycopg.errors.QueryCanceled):
                conn.execute("SELECT count(*) FROM generate_series(%s::int, %s::int) a, "
                             "generate_series(%s::int, %s::int) b", (1, 1_000_000, 1, 1_000_000))
            assert time.monotonic() - started < 10
            timer.join()
            assert conn.execute("SELECT 1").fetchone() == (1,)
    logs = "".join(m.log() for m in fleet["instances"])
    assert "forwarded cancel request to peer" in logs


def insert_loop(fleet, client, stop, sent, errors):
    """INSERTs numbered 1, 2, ... until stopped, each retried on a new connection
    (through HAProxy) after a connection error until it has an answer."""
    seq = 1
    conn = None
    while not stop.is_set():
        try:
            if conn is None:
                conn = psycopg.connect(dsn(fleet), autocommit=True, connect_timeout=5)
            conn.execute("INSERT INTO events (client, seq) VALUES (%s, %s)", (client, seq))
            seq += 1
        except psycopg.OperationalError as e:
            errors.append(str(e))
            if conn is not None:
                conn.close()
            conn = None
            time.sleep(0.05)
    if conn is not None:
        conn.close()
    sent[client] = seq - 1


def test_an_instance_stopped_under_load_loses_no_statement_and_runs_none_twice(fleet):
    postgres = fleet["postgres"]
    stop, sent, errors = threading.Event(), {}, []
    threads = [threading.Thread(target=insert_loop, args=(fleet, c, stop, sent, errors)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    victim = fleet["instances"][0]
    victim.proc.send_signal(signal.SIGTERM)
    time.sleep(2.0)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert sorted(sent) == list(range(CLIENTS))
    assert victim.proc.wait(timeout=30) == 0
    # Clients of the stopped instance lost their connection (told it was shutting
    # down, unless their next statement crossed the FATAL on the wire, as with
    # PostgreSQL itself) and went on elsewhere; nothing else failed.
    assert errors and all("terminating connection due to administrator command" in e or
                          "server closed the connection unexpectedly" in e for e in errors), errors[:5]
    # Every statement a client got an answer for ran exactly once; none was lost.
    rows = postgres.sql("SELECT string_agg(client || ':' || n || ':' || top, ',' ORDER BY client) FROM "
                        "(SELECT client, count(*) AS n, max(seq) AS top FROM events GROUP BY client) c", "app")
    assert rows == ",".join(f"{c}:{sent[c]}:{sent[c]}" for c in range(CLIENTS))
    total = sum(sent.values())
    assert total > CLIENTS * 10
    # Together the instances' audit logs hold one successful record per INSERT.
    time.sleep(0.3)
    records = [r for m in fleet["instances"] for r in statement_records(m, "INSERT INTO events")]
    assert len([r for r in records if r.get("sqlstate") == "00000"]) == total
    assert all(r["decision"] == "allow" for r in records)
    # Each log verifies on its own.
    for m in fleet["instances"]:
        r = subprocess.run([PGMOAT_BIN, "audit", "verify", m.audit_path], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
