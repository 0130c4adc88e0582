"""Holds N logged-in, idle client sessions open through pgmoat (upstream_connect =
"first_statement", so idle sessions hold no server connection, as in pgbouncer)
and through pgbouncer, and reports each one's resident memory per session.

usage: /usr/bin/python3 bench/idle_sessions.py [--sessions 10000]
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgwire  # noqa: E402
from pgharness import Pgmoat, Postgres  # noqa: E402
from relay_bench import APP, APP_PASSWORD, Pgbouncer  # noqa: E402


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def hold(port, n, dbname):
    conns = []
    for i in range(n):
        c = pgwire.Conn(port, timeout=30)
        msgs = c.login(APP, APP_PASSWORD, dbname)
        if msgs[-1][0] != b"Z":
            raise RuntimeError(f"session {i} refused: {pgwire.first_error(msgs)}")
        conns.append(c)
    return conns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=10000)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="pgmoat-idle-")
    os.chmod(work, 0o755)
    pg = Postgres(work, settings={"log_statement": "'none'"}).start()
    moat = Pgmoat(work, targets={"dev": {"port": pg.port}}, apps={APP: (APP_PASSWORD, ["dev"])},
                  server={"log_level": "warning", "max_client_connections": args.sessions + 100,
                          "upstream_connect": "first_statement"}).start()
    bouncer = Pgbouncer(work, pg, max_client_conn=args.sessions + 100).start()
    try:
        # One session with a statement teaches pgmoat the target's welcome.
        first = pgwire.Conn(moat.port)
        first.login(APP, APP_PASSWORD, "dev")
        first.send(pgwire.query("SELECT 1"))
        first.read_until(b"Z")
        for name, port, pid in (("pgmoat", moat.port, moat.proc.pid), ("pgbouncer", bouncer.port, bouncer.pid)):
            before = rss_kb(pid)
            started = time.time()
            conns = hold(port, args.sessions, "dev")
            took = time.time() - started
            time.sleep(1)
            after = rss_kb(pid)
            print(f"{name:10} {args.sessions} idle sessions: RSS {before / 1024:.1f} MB -> {after / 1024:.1f} MB, "
                  f"{(after - before) / args.sessions:.1f} kB per session (logins took {took:.0f}s)", flush=True)
            for c in conns:
                c.close()
            time.sleep(2)
    finally:
        bouncer.stop()
        moat.stop()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
