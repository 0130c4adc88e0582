"""pgbench -S directly against PostgreSQL, through pgmoat and through pgbouncer
(session mode), in one run on one machine, alternating the three so that drift
on a noisy machine hits all of them alike. Prints tps per mode, the ratios
pgmoat/direct and pgmoat/pgbouncer, and each proxy's CPU seconds per 10,000
transactions (user+sys from /proc).

usage: /usr/bin/python3 bench/relay_bench.py [--seconds 10] [--rounds 3] [--clients 16]
"""
import argparse
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
    def __init__(self, work, pg):
        self.dir = os.path.join(work, "pgbouncer")
        os.makedirs(self.dir)
        self.port = free_port()
        with open(os.path.join(self.dir, "userlist.txt"), "w") as f:
            f.write(f'"{APP}" "{APP_PASSWORD}"\n"{UPSTREAM_USER}" "{UPSTREAM_PASSWORD}"\n')
        with open(os.path.join(self.dir, "pgbouncer.ini"), "w") as f:
            f.write(f"""[databases]
dev = host=127.0.0.1 port={pg.port} dbname=app user={UPSTREAM_USER} password={UPSTREAM_PASSWORD}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {self.dir}/userlist.txt
pool_mode = session
max_client_conn = 2000
default_pool_size = 600
logfile = {self.dir}/pgbouncer.log
""")
        if os.geteuid() == 0:
            for root, _, files in os.walk(self.dir):
                shutil.chown(root, "postgres", "postgres")
                for n in files:
                    shutil.chown(os.path.join(root, n), "postgres", "postgres")

    def start(self):
        cmd = ["pgbouncer", os.path.join(self.dir, "pgbouncer.ini")]
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, nargs="+", default=[16])
    ap.add_argument("--modes", nargs="+", default=["prepared", "extended", "simple"])
    ap.add_argument("--scale", type=int, default=10)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="pgmoat-bench-")
    os.chmod(work, 0o755)
    pg = Postgres(work, settings={"log_statement": "'none'", "max_connections": "700"}).start()
    moat = Pgmoat(work, targets={"dev": {"port": pg.port}}, apps={APP: (APP_PASSWORD, ["dev"])},
                  server={"log_level": "info", "max_client_connections": 2000}, monitor=True)
    moat.start()
    bouncer = Pgbouncer(work, pg).start()
    try:
        subprocess.run(["pgbench", "-i", "-q", "-s", str(args.scale), "-h", "127.0.0.1", "-p", str(pg.port),
                        "-U", UPSTREAM_USER, "app"], check=True, capture_output=True,
                       env=dict(os.environ, PGPASSWORD=UPSTREAM_PASSWORD))
        subprocess.run(["psql", "-q", "-d", pg.dsn("app"), "-c", "VACUUM ANALYZE"], check=True, env=pg.env())
        targets = {
            "direct": (pg.port, UPSTREAM_USER, UPSTREAM_PASSWORD, "app", None),
            "pgmoat": (moat.port, APP, APP_PASSWORD, "dev", moat.proc.pid),
            "pgbouncer": (bouncer.port, APP, APP_PASSWORD, "dev", bouncer.pid),
        }
        order = list(targets)
        print(f"pgbench -S, {args.seconds}s per run, {args.rounds} rounds, alternating; medians shown", flush=True)
        print(f"{'mode':9} {'clients':>7} {'direct':>9} {'pgmoat':>9} {'pgbouncer':>9} {'moat/direct':>11} "
              f"{'moat/bouncer':>12} {'moat cpu/10k':>12} {'bouncer cpu/10k':>15}")
        for clients in args.clients:
            for mode in args.modes:
                tps = {k: [] for k in targets}
                cpu = {k: [] for k in targets}
                for rnd in range(args.rounds):
                    for name in order[rnd % 3:] + order[:rnd % 3]:
                        port, user, pw, db, pid = targets[name]
                        before = cpu_seconds(pid) if pid else 0
                        t, tx = pgbench(port, user, pw, db, mode, clients, args.seconds, ["-S"])
                        tps[name].append(t)
                        if pid:
                            cpu[name].append((cpu_seconds(pid) - before) / tx * 10000)
                med = {k: statistics.median(v) for k, v in tps.items()}
                mcpu = {k: statistics.median(v) for k, v in cpu.items() if v}
                print(f"{mode:9} {clients:>7} {med['direct']:>9.0f} {med['pgmoat']:>9.0f} {med['pgbouncer']:>9.0f} "
                      f"{med['pgmoat'] / med['direct']:>11.2f} {med['pgmoat'] / med['pgbouncer']:>12.2f} "
                      f"{mcpu['pgmoat']:>11.2f}s {mcpu['pgbouncer']:>14.2f}s", flush=True)
    finally:
        bouncer.stop()
        moat.stop()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
