"""Load-independent cost per statement of pgmoat and pgbouncer (session or transaction mode): a
fixed pgbench -S run (-t per client) through each proxy, counted with perf's
syscall tracepoints attached to the proxy process (all its threads) and the
proxy's user+sys CPU from /proc/PID/stat and perf's task-clock. Prints, per statement, the syscalls
by kind (reads that found nothing, i.e. EAGAIN, counted apart) and the CPU
seconds per 10,000 statements. Counts do not depend on the machine's load; CPU
does a little (cache misses, scheduling), so each cell is the median of --rounds.
--no-audit adds pgmoat with the audit log off (at one I/O thread with --one-thread),
so the audit's share of the CPU is measured side by side. The machine's cost of
entering the kernel (perf bench syscall basic) is printed first: on a VM with
speculative-execution mitigations it is what every extra syscall per statement costs.
--floor adds bench/floor_relay, a relay that parses, judges and logs nothing (one
thread, level-triggered epoll): the least a proxy's statement costs here.

usage: /usr/bin/python3 bench/syscalls.py [--transactions 5000] [--clients 8 16] [--modes prepared extended]
           [--rounds 3] [--mallocs] [--one-thread] [--no-audit] [--floor] [--pool-mode session|transaction]
           [--compare-bin path/to/other/pgmoat ...]
"""
import argparse
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import pgharness  # noqa: E402
from pgharness import UPSTREAM_PASSWORD, UPSTREAM_USER, Pgmoat, Postgres  # noqa: E402
from relay_bench import APP, APP_PASSWORD, TICKS, Pgbouncer  # noqa: E402


def cpu_split(pid):
    """(user, sys) CPU seconds of the process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS

# (column, tracepoints summed into it, filter)
COUNTED = [
    ("recv", ["recvfrom", "recvmsg", "read", "readv"], None),
    ("EAGAIN", ["recvfrom", "recvmsg", "read", "readv"], "ret == -11"),
    ("send", ["sendto", "sendmsg", "write", "writev"], None),
    ("epoll", ["epoll_wait", "epoll_pwait", "epoll_pwait2"], None),
    ("epoll_ctl", ["epoll_ctl"], None),
    ("futex", ["futex"], None),
    ("timerfd", ["timerfd_settime"], None),
    ("uring", ["io_uring_enter"], None),
]


MALLOC_PROBE = "probe_libc:malloc"
# Server connections per pool in transaction mode, both proxies.
POOL_SIZE = 4


def perf_events(mallocs):
    args = ["-e", "context-switches", "-e", "raw_syscalls:sys_enter", "-e", "task-clock", "-e", "cpu-migrations", "-e", "page-faults"] + (["-e", MALLOC_PROBE] if mallocs else [])
    for _, calls, flt in COUNTED:
        for c in calls:
            if flt:
                args += ["-e", f"syscalls:sys_exit_{c}", "--filter", flt]
            else:
                args += ["-e", f"syscalls:sys_enter_{c}"]
    return args


def parse_perf(path):
    counts = []
    with open(path) as f:
        for line in f:
            parts = line.strip().split(",")
            if len(parts) > 2 and parts[2].startswith(("syscalls:", "raw_syscalls:", "context-switches", "probe_",
                                                        "task-clock", "cpu-migrations", "page-faults")):
                counts.append(float(parts[0]) if re.fullmatch(r"[\d.]+", parts[0]) else 0)
    switches, total, clock, migrations, faults, rest = counts[0], counts[1], counts[2], counts[3], counts[4], counts[5:]
    # task-clock is in milliseconds: kept as CPU seconds per 10,000 statements once divided.
    out = {"cs": switches, "all": total, "malloc": 0, "clock": clock * 10, "migr": migrations, "faults": faults}
    if len(rest) > sum(len(calls) for _, calls, _ in COUNTED):
        out["malloc"], rest = rest[0], rest[1:]
    i = 0
    for name, calls, _ in COUNTED:
        out[name] = sum(rest[i:i + len(calls)])
        i += len(calls)
    return out


def syscall_cost():
    """Microseconds per getppid() on this machine, the floor of any syscall."""
    r = subprocess.run(["perf", "bench", "syscall", "basic", "--loop", "1000000"], capture_output=True, text=True)
    return float(re.search(r"([\d.]+) usecs/op", r.stdout).group(1))


def measure(proxy, mode, clients, transactions, work, mallocs, record=None):
    """One pgbench run through `proxy` (port, pid[, (user, password, database)]) with perf attached to its
    pid; per-statement counts and CPU s/10k. With `record`, a call-graph profile of the proxy is also
    written there (perf.data)."""
    port, pid = proxy[0], proxy[1]
    user, password, database = proxy[2] if len(proxy) > 2 else (APP, APP_PASSWORD, "dev")
    out = os.path.join(work, "perf.csv")
    perf = subprocess.Popen(["perf", "stat", "-x", ",", "-o", out, "-p", str(pid)] + perf_events(mallocs),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    recorder = subprocess.Popen(["perf", "record", "-g", "-F", "999", "-o", record, "-p", str(pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) if record else None
    time.sleep(0.5)  # perf attaches
    before = cpu_split(pid)
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = dict(os.environ, PGPASSWORD=password)
    r = subprocess.run(["pgbench", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-M", mode, "-c", str(clients),
                        "-j", "2", "-t", str(transactions), "-S", "--no-vacuum", database],
                       capture_output=True, text=True, env=env)
    after = cpu_split(pid)
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user, system = after[0] - before[0], after[1] - before[1]
    perf.send_signal(signal.SIGINT)
    perf.wait(timeout=30)
    if recorder:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"pgbench failed: {r.stderr}")
    statements = int(re.search(r"number of transactions actually processed: (\d+)", r.stdout).group(1))
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", r.stdout).group(1))
    counts = parse_perf(out)
    per = {k: v / statements for k, v in counts.items()}
    per["cpu"] = (user + system) / statements * 10000
    per["user"] = user / statements * 10000
    # What the proxy's way of answering costs pgbench (its wake-ups), the client's CPU alike.
    per["pgbench"] = (client_after.ru_utime + client_after.ru_stime - client_before.ru_utime
                      - client_before.ru_stime) / statements * 10000
    per["tps"] = tps
    return per


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--transactions", type=int, default=5000, help="per client")
    ap.add_argument("--clients", type=int, nargs="+", default=[8])
    ap.add_argument("--modes", nargs="+", default=["prepared", "extended"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--compare-bin", nargs="*", default=[],
                    help="also these pgmoat binaries (named by file name), e.g. a build of the commit before")
    ap.add_argument("--mallocs", action="store_true",
                    help="also count malloc calls (needs: perf probe -x /lib/x86_64-linux-gnu/libc.so.6 --add malloc)")
    ap.add_argument("--one-thread", action="store_true", help="also pgmoat with [server] threads = 1 (pgmoat-1t)")
    ap.add_argument("--no-audit", action="store_true",
                    help="also pgmoat with the audit log off (pgmoat-noaudit; threads = 1 with --one-thread)")
    ap.add_argument("--floor", action="store_true",
                    help="also bench/floor_relay (a relay that parses and logs nothing; session mode only)")
    ap.add_argument("--pool-mode", choices=["session", "transaction"], default="session",
                    help="both proxies' pool mode (transaction: a pool of 4 server connections)")
    ap.add_argument("--record", metavar="DIR",
                    help="also perf record -g each proxy in an extra round: DIR/<proxy>-<mode>-<clients>.data")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="pgmoat-syscalls-")
    os.chmod(work, 0o755)
    pg = Postgres(work, settings={"log_statement": "'none'", "max_connections": "200"}).start()
    apps = {APP: (APP_PASSWORD, ["dev"])}
    # The shipped baseline, enforcing, audit log on (fsync every 100 ms), 2 I/O threads.
    target = {"port": pg.port}
    if args.pool_mode == "transaction":
        target.update(pool_mode="transaction", pool_size=POOL_SIZE, pool_wait_timeout="5min")
    moat = Pgmoat(work, targets={"dev": target}, apps=apps, server={"log_level": "warning"}).start()
    moat1 = Pgmoat(work, targets={"dev": target}, apps=apps,
                   server={"log_level": "warning", "threads": 1}).start() if args.one_thread else None
    no_audit = Pgmoat(work, targets={"dev": target}, apps=apps,
                      server={"log_level": "warning", "threads": 1 if args.one_thread else 2},
                      extra="[audit]\nenabled = false\n").start() if args.no_audit else None
    floor = None
    if args.floor:
        floor_port = pgharness.free_port()
        floor = subprocess.Popen([os.path.join(os.path.dirname(pgharness.PGMOAT_BIN), "bench", "floor_relay"),
                                  str(floor_port), str(pg.port)])
        pgharness.wait_for_port(floor_port)
    # Other builds of pgmoat (the commit before a change), measured alike in the same run.
    others = {}
    for binary in args.compare_bin:
        here, pgharness.PGMOAT_BIN = pgharness.PGMOAT_BIN, binary
        # A build named like a proxy of this run (main's build/pgmoat) goes by its path.
        name = os.path.basename(binary)
        if name in ("pgmoat", "pgmoat-1t", "pgbouncer") or name in others:
            name = binary
        others[name] = Pgmoat(work, targets={"dev": target}, apps=apps, server={"log_level": "warning"}).start()
        pgharness.PGMOAT_BIN = here
    bouncer = Pgbouncer(work, pg, pool_mode=args.pool_mode,
                        pool_size=POOL_SIZE if args.pool_mode == "transaction" else 510).start()
    try:
        subprocess.run(["pgbench", "-i", "-q", "-s", "1", "-h", "127.0.0.1", "-p", str(pg.port), "-U", UPSTREAM_USER,
                        "app"], check=True, capture_output=True, env=dict(os.environ, PGPASSWORD=UPSTREAM_PASSWORD))
        proxies = {"pgmoat": (moat.port, moat.proc.pid), "pgbouncer": (bouncer.port, bouncer.pid)}
        if moat1:
            proxies["pgmoat-1t"] = (moat1.port, moat1.proc.pid)
        if no_audit:
            proxies["pgmoat-1t-noaudit" if args.one_thread else "pgmoat-noaudit"] = (no_audit.port, no_audit.proc.pid)
        if floor:
            proxies["floor"] = (floor_port, floor.pid, (UPSTREAM_USER, UPSTREAM_PASSWORD, "app"))
        for name, other in others.items():
            proxies[name] = (other.port, other.proc.pid)
        print(f"kernel entry (perf bench syscall basic): {syscall_cost():.2f} us per syscall")
        cols = (["malloc"] if args.mallocs else []) + ["clock", "cs", "migr", "faults", "all", "recv", "EAGAIN", "send", "epoll", "epoll_ctl", "futex", "timerfd", "uring"]
        print(f"pgbench -S -j 2 -t {args.transactions} per client, {args.pool_mode} mode; per statement; "
              f"clock = perf task-clock, cpu = user+sys s per 10,000 statements (pgbench: the client's) (median of {args.rounds} rounds, alternating); perf syscall tracepoints on the proxy")
        print(f"{'proxy':16} {'mode':9} {'clients':>7} " + " ".join(f"{c:>9}" for c in cols)
              + f" {'cpu/10k':>9} {'user/10k':>9} {'cpu range':>13} {'pgbench':>9} {'tps':>7}")
        for clients in args.clients:
            for mode in args.modes:
                # pgbouncer 1.18 (Debian 12's) keeps no prepared statements in transaction mode: pgbench -M
                # prepared fails through it there, so that cell has pgmoat's figures only.
                cell = {name: p for name, p in proxies.items()
                        if not (name == "pgbouncer" and mode == "prepared" and args.pool_mode == "transaction")}
                rows = {name: [] for name in cell}
                for rnd in range(args.rounds):
                    order = list(cell)[rnd % len(cell):] + list(cell)[:rnd % len(cell)]
                    for name in order:
                        rows[name].append(measure(cell[name], mode, clients, args.transactions, work, args.mallocs))
                # Profiling costs the proxy CPU: a round of its own, not counted.
                for name in cell if args.record else []:
                    measure(cell[name], mode, clients, args.transactions, work, args.mallocs,
                            os.path.join(args.record, f"{name}-{mode}-{clients}.data"))
                for name, runs in rows.items():
                    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                    lo, hi = min(r["cpu"] for r in runs), max(r["cpu"] for r in runs)
                    print(f"{name:16} {mode:9} {clients:>7} " + " ".join(f"{med[c]:>9.2f}" for c in cols)
                          + f" {med['cpu']:>8.3f}s {med['user']:>8.3f}s {lo:>6.3f}-{hi:.3f} {med['pgbench']:>8.3f}s"
                          f" {med['tps']:>7.0f}", flush=True)
    finally:
        bouncer.stop()
        moat.stop()
        for extra in (moat1, no_audit):
            if extra:
                extra.stop()
        if floor:
            floor.kill()
            floor.wait()
        for other in others.values():
            other.stop()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
