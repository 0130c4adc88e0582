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
pgmoat alone."""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from relay_bench import APP, APP_PASSWORD, Pgbouncer, cpu_seconds, pgbench  # noqa: E402
from relay_bench import UPSTREAM_PASSWORD, UPSTREAM_USER, Pgmoat, Postgres  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=2000)
    ap.add_argument("--pool-size", type=int, default=20)
    ap.add_argument("--max-connections", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--mode", choices=["simple", "extended", "prepared"], default="extended")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="pgmoat-pool-bench-")
    os.chmod(work, 0o755)
    pg = Postgres(work, settings={"log_statement": "'none'", "max_connections": str(args.max_connections)}).start()
    target = {"port": pg.port, "pool_mode": "transaction", "pool_size": args.pool_size, "pool_wait_timeout": "5min"}
    moat = Pgmoat(work, targets={"dev": target}, apps={APP: (APP_PASSWORD, ["dev"])},
                  server={"log_level": "warning", "max_client_connections": args.clients + 100}).start()
    bouncer = Pgbouncer(work, pg, max_client_conn=args.clients + 100, pool_mode="transaction",
                        pool_size=args.pool_size).start()
    try:
        subprocess.run(["pgbench", "-i", "-q", "-s", str(args.scale), "-h", "127.0.0.1", "-p", str(pg.port),
                        "-U", UPSTREAM_USER, "app"], check=True, capture_output=True,
                       env=dict(os.environ, PGPASSWORD=UPSTREAM_PASSWORD))
        print(f"pgbench -S -M {args.mode}, {args.clients} clients, pool of {args.pool_size} server connections, "
              f"max_connections = {args.max_connections}, {args.seconds} s runs, {os.cpu_count()} cores; pgmoat "
              "enforcing the shipped baseline with the audit log on, pgbouncer in transaction mode")
        tps = {"pgmoat": [], "pgbouncer": []}
        for r in range(args.rounds):
            proxies = [("pgmoat", moat.port, moat.proc.pid), ("pgbouncer", bouncer.port, bouncer.pid)]
            for name, port, pid in proxies[:1] if args.mode == "prepared" else proxies:
                cpu = cpu_seconds(pid)
                try:
                    t, tx = pgbench(port, APP, APP_PASSWORD, "dev", args.mode, args.clients, args.seconds, ("-S",))
                    errors = "none"
                except RuntimeError as e:
                    t, tx, errors = 0.0, 0, str(e).strip().splitlines()[-1][:200]
                used = cpu_seconds(pid) - cpu
                per = used / tx * 10000 if tx else float("nan")
                tps[name].append(t)
                print(f"  round {r + 1} {name:9} tps {t:9.0f}  errors: {errors}  CPU s/10k statements {per:.3f}")
        m = statistics.median(tps["pgmoat"])
        b = statistics.median(tps["pgbouncer"]) if tps["pgbouncer"] else 0
        print(f"median tps: pgmoat {m:.0f}, pgbouncer {b:.0f}, pgmoat/pgbouncer {m / b if b else float('nan'):.2f}")
    finally:
        bouncer.stop()
        moat.stop()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
