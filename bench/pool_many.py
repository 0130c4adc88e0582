"""Many clients on few server connections (issue 15): pgbench -S -M <mode> with
--clients client connections through pgmoat's transaction pool of --pool-size
server connections and through pgbouncer in transaction mode with the same pool,
against a PostgreSQL with max_connections = --max-connections. Prints each run's
tps, errors (pgbench's failed/aborted clients) and the proxy's CPU seconds per
10,000 statements, alternating pgmoat and pgbouncer, and the median ratio.
The defaults are the issue's target (2,000 clients, 20 server connections,
max_connections 50); a quick look: --clients 200 --seconds 5 --rounds 1. The
mode defaults to extended: Debian's pgbouncer 1.18 has no prepared statements in
transaction mode (max_prepared_statements came in 1.21); --mode prepared runs
pgmoat alone.

The proxy's CPU over the whole run includes the 2,000 logins (SCRAM); so each run
also measures a steady window (from a second after statements flow, for 30% of
the run), per 10,000 statements committed in it: the proxy and pgbench. With
--syscalls, perf also counts the proxy's syscalls and context switches per
statement in that window (syscalls.py's counters)."""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from relay_bench import APP, APP_PASSWORD, Pgbouncer, cpu_seconds  # noqa: E402
from relay_bench import UPSTREAM_PASSWORD, UPSTREAM_USER, Pgmoat, Postgres  # noqa: E402
from syscalls import parse_perf, perf_events  # noqa: E402


def committed(pg):
    return int(pg.sql("SELECT xact_commit FROM pg_stat_database WHERE datname = 'app'"))


def run(pg, port, pid, mode, clients, seconds, count_in=None):
    """One pgbench run; (tps, statements, errors, CPU s/10k of the whole run, steady-window CPU s/10k of
    the proxy and of pgbench, and with `count_in` (a directory) the proxy's syscalls per statement there)."""
    proxy_before = cpu_seconds(pid)
    p = subprocess.Popen(["pgbench", "-h", "127.0.0.1", "-p", str(port), "-U", APP, "-M", mode, "-c", str(clients),
                          "-j", "2", "-T", str(seconds), "--no-vacuum", "-S", "dev"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=dict(os.environ, PGPASSWORD=APP_PASSWORD))
    # The window starts once the logins are over: statements flow, more than 100 in each of two half
    # seconds (pgbench's start-up query alone would not count).
    steady, counts, last, rates = None, None, committed(pg), []
    while p.poll() is None and not (len(rates) > 1 and min(rates[-2:]) > 100):
        time.sleep(0.5)
        now = committed(pg)
        rates.append(now - last)
        last = now
    time.sleep(1)
    if p.poll() is None:
        sample = lambda: (committed(pg), cpu_seconds(pid), cpu_seconds(p.pid))  # noqa: E731
        out = os.path.join(count_in, "perf.csv") if count_in else None
        perf = subprocess.Popen(["perf", "stat", "-x", ",", "-o", out, "-p", str(pid)] + perf_events(False),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) if out else None
        a = sample()
        time.sleep(seconds * 0.3)
        b = sample() if p.poll() is None else None
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait(timeout=30)
        if b and b[0] > a[0]:
            steady = [(b[i] - a[i]) / (b[0] - a[0]) * 10000 for i in (1, 2)]
            if perf:
                counts = {k: v / (b[0] - a[0]) for k, v in parse_perf(out).items()}
    out, err = p.communicate()
    if p.returncode != 0:
        return 0.0, 0, (err.strip().splitlines() or ["pgbench failed"])[-1][:200], float("nan"), None, None
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out).group(1))
    tx = int(re.search(r"number of transactions actually processed: (\d+)", out).group(1))
    return tps, tx, "none", (cpu_seconds(pid) - proxy_before) / tx * 10000, steady, counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=2000)
    ap.add_argument("--pool-size", type=int, default=20)
    ap.add_argument("--max-connections", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--mode", choices=["simple", "extended", "prepared"], default="extended")
    ap.add_argument("--syscalls", action="store_true", help="also count the proxy's syscalls in the steady window")
    ap.add_argument("--one-thread", action="store_true", help="also pgmoat with [server] threads = 1 (pgmoat-1t)")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="pgmoat-pool-bench-")
    os.chmod(work, 0o755)
    pg = Postgres(work, settings={"log_statement": "'none'", "max_connections": str(args.max_connections)}).start()
    target = {"port": pg.port, "pool_mode": "transaction", "pool_size": args.pool_size, "pool_wait_timeout": "5min"}
    moat = Pgmoat(work, targets={"dev": target}, apps={APP: (APP_PASSWORD, ["dev"])},
                  server={"log_level": "warning", "max_client_connections": args.clients + 100}).start()
    moat1 = Pgmoat(work, targets={"dev": target}, apps={APP: (APP_PASSWORD, ["dev"])},
                   server={"log_level": "warning", "max_client_connections": args.clients + 100, "threads": 1}
                   ).start() if args.one_thread else None
    bouncer = Pgbouncer(work, pg, max_client_conn=args.clients + 100, pool_mode="transaction",
                        pool_size=args.pool_size).start()
    try:
        subprocess.run(["pgbench", "-i", "-q", "-s", str(args.scale), "-h", "127.0.0.1", "-p", str(pg.port),
                        "-U", UPSTREAM_USER, "app"], check=True, capture_output=True,
                       env=dict(os.environ, PGPASSWORD=UPSTREAM_PASSWORD))
        print(f"pgbench -S -M {args.mode}, {args.clients} clients, pool of {args.pool_size} server connections, "
              f"max_connections = {args.max_connections}, {args.seconds} s runs, {os.cpu_count()} cores; pgmoat "
              "enforcing the shipped baseline with the audit log on, pgbouncer in transaction mode")
        proxies = [("pgmoat", moat.port, moat.proc.pid)] + \
            ([("pgmoat-1t", moat1.port, moat1.proc.pid)] if moat1 else []) + \
            ([("pgbouncer", bouncer.port, bouncer.pid)] if args.mode != "prepared" else [])
        tps = {name: [] for name, _, _ in proxies}
        for r in range(args.rounds):
            for name, port, pid in proxies:
                t, _, errors, per, steady, counts = run(pg, port, pid, args.mode, args.clients, args.seconds,
                                                        work if args.syscalls else None)
                tps[name].append(t)
                window = "steady window CPU s/10k: proxy {:.3f}, pgbench {:.3f}".format(*steady) \
                    if steady else "no steady window"
                print(f"  round {r + 1} {name:10} tps {t:9.0f}  errors: {errors}  CPU s/10k statements {per:.3f}"
                      f" (with the logins); {window}", flush=True)
                if counts:
                    print(f"      per statement: syscalls {counts['all']:.2f}: recv {counts['recv']:.2f} (EAGAIN "
                          f"{counts['EAGAIN']:.2f}), send {counts['send']:.2f}, epoll_wait {counts['epoll']:.2f}, "
                          f"epoll_ctl {counts['epoll_ctl']:.2f}, futex {counts['futex']:.2f}; context switches "
                          f"{counts['cs']:.2f}", flush=True)
        b = statistics.median(tps["pgbouncer"]) if "pgbouncer" in tps else 0
        for name in (n for n in tps if n != "pgbouncer"):
            m = statistics.median(tps[name])
            print(f"median tps: {name} {m:.0f}, pgbouncer {b:.0f}, {name}/pgbouncer {m / b if b else float('nan'):.2f}")
    finally:
        bouncer.stop()
        moat.stop()
        if moat1:
            moat1.stop()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
