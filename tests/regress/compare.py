#!/usr/bin/python3
"""PostgreSQL's own regression suite, run directly and through pgmoat, compared test
by test.

The serial schedule (parallel_schedule with one connection, as `make installcheck`
runs it) goes twice through pg_regress as Debian ships it, with its own PGOPTIONS:
once against a throwaway PostgreSQL 15, once through pgmoat in front of another,
with the shipped baseline in monitor mode (every statement analyzed, judged and
audited, all forwarded) and a target per database the suite uses. Every test that
passes directly must pass through pgmoat, unless it is listed in EXCEPTIONS with
the decision of pgmoat's that explains it.

Usage: compare.py SOURCE_DIR DLPATH WORKDIR   (scripts/regress.sh prepares them)
Environment: PGMOAT_BIN (the pgmoat to test), REGRESS_TESTS (run only these tests,
space-separated, instead of the schedule)."""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

from pgharness import PG_BIN, SUPERUSER, SUPERUSER_PASSWORD, Pgmoat, Postgres  # noqa: E402

PG_REGRESS = "/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress"
APP_PASSWORD = "regress-pass-1234"

# Tests whose outcome through pgmoat differs by a decision of pgmoat's, with that
# decision. Each has a test of its own in pgmoat's suites.
EXCEPTIONS = {}


def run_pg_regress(srcdir, dlpath, outdir, port, password):
    # The server writes files there too (lo_export, COPY TO a file).
    os.makedirs(os.path.join(outdir, "results"), exist_ok=True)
    os.chmod(outdir, 0o755)
    os.chmod(os.path.join(outdir, "results"), 0o777)
    env = dict(os.environ, PGPASSWORD=password, PGHOST="127.0.0.1", PGPORT=str(port))
    for v in ("PGSERVICE", "PGOPTIONS", "PGDATABASE", "PGUSER"):
        env.pop(v, None)
    tests = os.environ.get("REGRESS_TESTS", "").split()
    schedule = [] if tests else [f"--schedule={srcdir}/parallel_schedule"]
    cmd = [PG_REGRESS, f"--inputdir={srcdir}", f"--outputdir={outdir}", f"--bindir={PG_BIN}", f"--dlpath={dlpath}",
           "--max-connections=1", "--host=127.0.0.1", f"--port={port}", f"--user={SUPERUSER}", *schedule, *tests]
    started = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=outdir, timeout=3600)
    elapsed = time.time() - started
    with open(os.path.join(outdir, "pg_regress.out"), "w") as f:
        f.write(r.stdout + r.stderr)
    outcomes = {}
    for line in r.stdout.splitlines():
        m = re.match(r"^(?:test\s+|\s+)?([\w.-]+)\s+\.\.\.\s+(ok|FAILED|failed \(ignored\))", line)
        if m:
            outcomes[m.group(1)] = "ok" if m.group(2) == "ok" else "failed"
    if not outcomes:
        raise SystemExit(f"pg_regress ran no test:\n{r.stdout}\n{r.stderr}")
    return outcomes, elapsed


def server(workdir):
    # The suite's own expectations: no statement logging to slow it down.
    return Postgres(workdir, settings={"log_statement": "'none'", "max_prepared_transactions": "0"}).start()


def main():
    srcdir, dlpath, workdir = (os.path.abspath(a) for a in sys.argv[1:4])
    os.makedirs(workdir, exist_ok=True)
    os.chmod(workdir, 0o755)

    pg = server(workdir)
    try:
        direct, direct_time = run_pg_regress(srcdir, dlpath, os.path.join(workdir, "direct"), pg.port,
                                             SUPERUSER_PASSWORD)
    finally:
        pg.stop()

    pg = server(workdir)
    m = None
    try:
        pw = os.path.join(workdir, "superuser.password")
        with open(pw, "w") as f:
            f.write(SUPERUSER_PASSWORD + "\n")
        os.chmod(pw, 0o600)
        target = {"port": pg.port, "user": SUPERUSER, "password_file": pw, "connect_timeout": "10s"}
        # pg_regress connects as the superuser to "postgres" (to drop and create the
        # database) and to "regression"; through pgmoat those are targets of the
        # same names, and the app is named as the role, so output naming it agrees.
        m = Pgmoat(workdir, targets={"regression": dict(target, database="regression"),
                                     "postgres": dict(target, database="postgres")},
                   apps={SUPERUSER: (APP_PASSWORD, ["regression", "postgres"])}, monitor=True,
                   server={"log_level": "info"}).start()
        through, through_time = run_pg_regress(srcdir, dlpath, os.path.join(workdir, "pgmoat"), m.port,
                                               APP_PASSWORD)
        time.sleep(0.5)  # the audit writer's last batch
        records = m.audit_records("statement")
    finally:
        if m:
            m.stop()
        pg.stop()

    passed_direct = [t for t, o in direct.items() if o == "ok"]
    lost = [t for t in passed_direct if through.get(t) != "ok"]
    unexplained = [t for t in lost if t not in EXCEPTIONS]
    gained = [t for t, o in through.items() if o == "ok" and direct.get(t) != "ok"]
    print(f"regression suite: {len(direct)} tests; {len(passed_direct)} pass directly ({direct_time:.0f} s), "
          f"{sum(o == 'ok' for o in through.values())} through pgmoat ({through_time:.0f} s)")
    would = sum(r.get("decision") == "would_reject" for r in records)
    calls = sum(r.get("statement_kind") == "function_call" for r in records)
    print(f"  through pgmoat: {len(records)} statements judged and audited, {would} of them would have been "
          f"rejected in enforce mode; {calls} FunctionCalls")
    for t in lost:
        print(f"  {t}: passes directly, {through.get(t, 'not run')} through pgmoat"
              f"{' (' + EXCEPTIONS[t] + ')' if t in EXCEPTIONS else ''}")
    for t in gained:
        print(f"  {t}: fails directly, passes through pgmoat")
    if unexplained:
        print(f"differences: {os.path.join(workdir, 'pgmoat', 'regression.diffs')}")
        diffs = os.path.join(workdir, "pgmoat", "regression.diffs")
        if os.path.exists(diffs):
            for line in open(diffs, errors="replace").read().splitlines()[-150:]:
                print(line[:300])
        raise SystemExit(f"{len(unexplained)} test(s) pass directly but not through pgmoat: {' '.join(unexplained)}")


if __name__ == "__main__":
    main()
