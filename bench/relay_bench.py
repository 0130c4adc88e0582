"""pgbench -S directly against PostgreSQL, through pgmoat and through pgbouncer
(session mode, or both in transaction mode with --pool-mode transaction), in one run on one machine, alternating the three so that drift
on a noisy machine hits all of them alike. Prints tps per mode, the ratios
pgmoat/direct and pgmoat/pgbouncer, and each proxy's CPU seconds per 10,000
transactions (user+sys from /proc).

Then the audit log's cost (pgmoat with and without it), the latency pgmoat and
pgbouncer add to a single client, TPC-B through pgmoat against direct (in
transaction mode: through both proxies, -M prepared and extended), and
throughput with --many-clients against --clients.

usage: /usr/bin/python3 bench/relay_bench.py [--seconds 10] [--rounds 3] [--clients 16] [--many-clients 500]
           [--modes prepared extended simple] [--only relay audit latency tpcb scale]
           [--pool-mode session|transaction] [--pool-size 8] [--one-thread]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from pgharness import (UPSTREAM_PASSWORD, UPSTREAM_USER, Pgmoat, Postgres, free_port,  # noqa: E402
                       wait_for_port)

APP, APP_PASSWORD = "bench", "bench-password-1"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


class Pgbouncer:
    def __init__(self, work, pg, max_client_conn=2000, pool_mode="session", pool_size=510):
        self.dir = os.path.join(work, "pgbouncer")
        os.makedirs(self.dir)
        self.port = free_port()
        with open(os.path.join(self.dir, "userlist.txt"), "w") as f:
            f.write(f'"{APP}" "{APP_PASSWORD}"\n"bench-simple" "{APP_PASSWORD}"\n"{UPSTREAM_USER}" "{UPSTREAM_PASSWORD}"\n')
        with open(os.path.join(self.dir, "pgbouncer.ini"), "w") as f:
            f.write(f"""[databases]
dev = host=127.0.0.1 port={pg.port} dbname=app user={UPSTREAM_USER} password={UPSTREAM_PASSWORD}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {self.dir}/userlist.txt
pool_mode = {pool_mode}
max_client_conn = {max_client_conn}
default_pool_size = {pool_size}
logfile = {self.dir}/pgbouncer.log
""")
        if os.geteuid() == 0:
            for root, _, files in os.walk(self.dir):
                shutil.chown(root, "postgres", "postgres")
                for n in files:
                    shutil.chown(os.path.join(root, n), "postgres", "postgres")

    def start(self):
        # runuser starts pgbouncer with a soft limit of 1024 descriptors; raise it
        # to the hard limit, as pgmoat does for itself.
        cmd = ["sh", "-c", f"ulimit -n $(ulimit -Hn); exec pgbouncer {os.path.join(self.dir, 'pgbouncer.ini')}"]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        # runuser forks pgbouncer; measure the pgbouncer process itself.
        out = subprocess.run(["pgrep", "-f", f"pgbouncer {self.dir}"], capture_output=True, text=True).stdout.split()
        self.pid = int([p for p in out if int(p) != self.proc.pid][-1]) if len(out) > 1 else int(out[0])
        return self

    def stop(self):
        subprocess.run(["kill", str(self.pid)])
        self.proc.wait(timeout=10)


def pgbench(port, user, password, dbname, mode, clients, seconds, extra=()):
    env = dict(os.environ, PGPASSWORD=password)
    cmd = ["pgbench", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-M", mode, "-c", str(clients),
           "-j", "2", "-T", str(seconds), "--no-vacuum", *extra, dbname]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"pgbench failed: {r.stderr}")
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", r.stdout).group(1))
    tx = int(re.search(r"number of transactions actually processed: (\d+)", r.stdout).group(1))
    return tps, tx


def fingerprint(sql):
    from pgharness import PGMOAT_BIN, ROOT
    out = subprocess.run([PGMOAT_BIN, "explain", "--app", "x", "--policies", os.path.join(ROOT, "policies"), "--json",
                          sql], capture_output=True, text=True).stdout
    return json.loads(out)["analysis"]["statements"][0]["fingerprint"]


# pgbench's built-in scripts as pgbench -M simple sends them (values spliced in):
# a client-side-binding app, approved by structure.
SIMPLE_STATEMENTS = [
    "select count(*) from pgbench_branches",
    "SELECT abalance FROM pgbench_accounts WHERE aid = 1;",
    "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = 1;",
    "UPDATE pgbench_tellers SET tbalance = tbalance + 1 WHERE tid = 1;",
    "UPDATE pgbench_branches SET bbalance = bbalance + 1 WHERE bid = 1;",
    "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, 1, 1, CURRENT_TIMESTAMP);",
]


def bench_policy():
    approved = "".join(f'[[parameters.approved]]\nfingerprint = "{fingerprint(s)}"\n' for s in SIMPLE_STATEMENTS)
    return ('[policy]\nextends = "baseline"\n[applies_to]\napps = ["bench-simple"]\n'
            '[parameters]\nmode = "approved_structures"\n' + approved)


def run_table(title, targets, modes, clients, seconds, rounds, extra=("-S",), cpu_for=("pgmoat", "pgbouncer"),
              runs=lambda name, mode: True):
    """Alternates the targets round by round (those `runs` says run the mode); prints medians, ratios and CPU
    per 10k transactions ("-" where a target does not run)."""
    names = list(targets)
    print(f"\n{title}: {seconds}s per run, {rounds} rounds alternating, medians", flush=True)
    header = f"{'mode':9} {'clients':>7} " + " ".join(f"{n:>11}" for n in names)
    ratios = [(a, b) for a, b in (("pgmoat", "direct"), ("pgmoat", "pgbouncer"), ("pgmoat-1t", "pgbouncer"),
                                  ("audit-on", "audit-off")) if a in targets and b in targets]
    header += "".join(f" {a + '/' + b:>18}" for a, b in ratios)
    header += "".join(f" {n + ' cpu/10k':>16}" for n in cpu_for if n in targets)
    print(header)
    results = {}
    for c in clients:
        for mode in modes:
            tps = {k: [] for k in names}
            cpu = {k: [] for k in names}
            for rnd in range(rounds):
                for name in names[rnd % len(names):] + names[:rnd % len(names)]:
                    if not runs(name, mode):
                        continue
                    port, user, pw, db, pid = targets[name]
                    before = cpu_seconds(pid) if pid else 0
                    user_for_mode = "bench-simple" if (mode == "simple" and user == APP) else user
                    pw_for_mode = APP_PASSWORD if user_for_mode == "bench-simple" else pw
                    t, tx = pgbench(port, user_for_mode, pw_for_mode, db, mode, c, seconds, list(extra))
                    tps[name].append(t)
                    if pid:
                        cpu[name].append((cpu_seconds(pid) - before) / max(tx, 1) * 10000)
            med = {k: statistics.median(v) for k, v in tps.items() if v}
            mcpu = {k: statistics.median(v) for k, v in cpu.items() if v}
            line = f"{mode:9} {c:>7} " + " ".join(f"{med[n]:>11.0f}" if n in med else f"{'-':>11}" for n in names)
            line += "".join(f" {med[a] / med[b]:>18.2f}" if a in med and b in med else f" {'-':>18}"
                            for a, b in ratios)
            line += "".join(f" {mcpu[n]:>15.3f}s" if n in mcpu else f" {'-':>16}" for n in cpu_for if n in targets)
            print(line, flush=True)
            results[(mode, c)] = med
    return results


def latency(port, user, password, db, seconds):
    env = dict(os.environ, PGPASSWORD=password)
    r = subprocess.run(["pgbench", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-M", "prepared", "-c", "1", "-S",
                        "-T", str(seconds), "--no-vacuum", db], capture_output=True, text=True, env=env)
    return float(re.search(r"latency average = ([\d.]+) ms", r.stdout).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, nargs="+", default=[16])
    ap.add_argument("--modes", nargs="+", default=["prepared", "extended", "simple"])
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--only", nargs="+", choices=["relay", "audit", "latency", "tpcb", "scale"],
                    default=["relay", "audit", "latency", "tpcb", "scale"], help="run only these parts")
    ap.add_argument("--many-clients", type=int, default=500,
                    help="the scale run: -M prepared with this many clients against --clients")
    ap.add_argument("--pool-mode", choices=["session", "transaction"], default="session",
                    help="both proxies' pool mode; transaction: a pool of --pool-size server connections each")
    ap.add_argument("--pool-size", type=int, default=8)
    ap.add_argument("--one-thread", action="store_true",
                    help="pgbench -S also through pgmoat with [server] threads = 1 (pgmoat-1t), alternated with the rest")
    args = ap.parse_args()
    transaction = args.pool_mode == "transaction"

    work = tempfile.mkdtemp(prefix="pgmoat-bench-")
    os.chmod(work, 0o755)
    pg = Postgres(work, settings={"log_statement": "'none'", "max_connections": "1200"}).start()
    apps = {APP: (APP_PASSWORD, ["dev"]), "bench-simple": (APP_PASSWORD, ["dev"])}
    server = {"log_level": "warning", "max_client_connections": 2000}
    # The shipped baseline, enforcing, with the audit log on (fsync every 100 ms).
    target = {"port": pg.port}
    if transaction:
        target.update(pool_mode="transaction", pool_size=args.pool_size, pool_wait_timeout="5min")
    moat = Pgmoat(work, targets={"dev": target}, apps=apps, server=server,
                  policies={"bench.toml": bench_policy()}).start()
    quiet = Pgmoat(work, targets={"dev": target}, apps=apps, server=server,
                   policies={"bench.toml": bench_policy()}, extra="[audit]\nenabled = false\n").start()
    # The same pgmoat with one I/O thread, as pgbouncer runs: what the thread count costs.
    one_thread = Pgmoat(work, targets={"dev": target}, apps=apps, server=dict(server, threads=1),
                        policies={"bench.toml": bench_policy()}).start() if args.one_thread else None
    bouncer = Pgbouncer(work, pg, pool_mode=args.pool_mode, pool_size=args.pool_size if transaction else 510).start()
    # Debian's pgbouncer 1.18 keeps no prepared statements in transaction mode
    # (max_prepared_statements came in 1.21): pgbench -M prepared fails through it.
    runs = lambda name, mode: not (transaction and name == "pgbouncer" and mode == "prepared")
    try:
        subprocess.run(["pgbench", "-i", "-q", "-s", str(args.scale), "-h", "127.0.0.1", "-p", str(pg.port),
                        "-U", UPSTREAM_USER, "app"], check=True, capture_output=True,
                       env=dict(os.environ, PGPASSWORD=UPSTREAM_PASSWORD))
        subprocess.run(["psql", "-q", "-d", pg.dsn("app"), "-c", "VACUUM ANALYZE"], check=True, env=pg.env())
        direct = (pg.port, UPSTREAM_USER, UPSTREAM_PASSWORD, "app", None)
        through_moat = (moat.port, APP, APP_PASSWORD, "dev", moat.proc.pid)
        through_bouncer = (bouncer.port, APP, APP_PASSWORD, "dev", bouncer.pid)
        pooling = (f"transaction mode, a pool of {args.pool_size} server connections each" if transaction
                   else "session mode")
        print(f"machine: {os.cpu_count()} cores; pgmoat enforcing the shipped baseline (simple mode: pgbench's "
              f"statements approved by structure), audit log on with fsync every 100 ms; both proxies in {pooling}")
        if "relay" in args.only:
            relay = {"direct": direct, "pgmoat": through_moat, "pgbouncer": through_bouncer}
            if one_thread:
                relay["pgmoat-1t"] = (one_thread.port, APP, APP_PASSWORD, "dev", one_thread.proc.pid)
            run_table("pgbench -S", relay, args.modes, args.clients, args.seconds, args.rounds, runs=runs,
                      cpu_for=("pgmoat", "pgbouncer", "pgmoat-1t"))
        if "audit" in args.only:
            run_table("Audit log cost, pgbench -S -M prepared",
                      {"audit-on": through_moat, "audit-off": (quiet.port, APP, APP_PASSWORD, "dev", quiet.proc.pid)},
                      ["prepared"], args.clients, args.seconds, args.rounds, cpu_for=("audit-on", "audit-off"))
        if "latency" in args.only:
            lat = {name: statistics.median(latency(*t[:4], args.seconds) for _ in range(args.rounds))
                   for name, t in (("direct", direct), ("pgmoat", through_moat), ("pgbouncer", through_bouncer))}
            print(f"\nAdded latency, pgbench -S -M prepared -c 1 (median of {args.rounds} runs of {args.seconds}s):")
            print(f"  direct {lat['direct']:.3f} ms, pgmoat +{lat['pgmoat'] - lat['direct']:.3f} ms, "
                  f"pgbouncer +{lat['pgbouncer'] - lat['direct']:.3f} ms")
        if "tpcb" in args.only and transaction:
            # One pgbench thread per client: pgbench prepares with a blocking PQprepare, and clients of one
            # thread waiting for a server connection their own thread holds would deadlock (README).
            run_table("TPC-B (pgbench built-in), one pgbench thread per client",
                      {"direct": direct, "pgmoat": through_moat, "pgbouncer": through_bouncer},
                      ["prepared", "extended"], args.clients, args.seconds, args.rounds,
                      extra=("-j", str(args.clients[0])), runs=runs)
        elif "tpcb" in args.only:
            run_table("TPC-B (pgbench built-in), -M prepared", {"direct": direct, "pgmoat": through_moat},
                      ["prepared"], args.clients, args.seconds, args.rounds, extra=(), cpu_for=("pgmoat",))
        if "scale" not in args.only:
            return
        counts = [args.clients[0], args.many_clients]
        scale = run_table(f"Scale, pgbench -S -M prepared with {counts[0]} and {counts[1]} clients",
                          {"pgmoat": through_moat, "pgbouncer": through_bouncer}, ["prepared"], counts, args.seconds,
                          args.rounds)
        for name in ("pgmoat", "pgbouncer"):
            few, many = scale[("prepared", counts[0])][name], scale[("prepared", counts[1])][name]
            print(f"  {name}: {counts[1]} clients / {counts[0]} clients = {many / few:.2f}")
    finally:
        bouncer.stop()
        moat.stop()
        quiet.stop()
        if one_thread:
            one_thread.stop()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
