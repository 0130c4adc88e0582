"""The demo: a throwaway PostgreSQL 15 holding a shop database (demo/schema.sql),
pgmoat in front of it with the audit log and metrics on, and a guided tour of
what pgmoat does; `--tour` runs the tour and shows what each command printed.

Run by scripts/demo.sh (which installs and builds first). Every command the
tour prints works as printed, pasted into a shell as the user who ran sudo:
tests/integration/test_demo.py runs them."""
import argparse
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from pgharness import PGMOAT_BIN, UPSTREAM_USER, Pgmoat, Postgres, free_port, wait_for_port  # noqa: E402

APP, APP_PASSWORD = "shop-api", "shop-api-secret-1"
PERSON, PERSON_PASSWORD = "person-alice", "alice-secret-1"
ADMIN, ADMIN_PASSWORD = "ops-admin", "ops-admin-secret-1"
INJECTION = "x' OR '1'='1"
PYTHON = "/usr/bin/python3"  # Debian's, with psycopg


def port(preferred):
    """The well-known port when it is free, so the printed commands look familiar."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            return free_port()


def dq(text):
    """text in double quotes for the shell; only for text that needs no escaping there."""
    assert not any(c in text for c in '"$`\\!'), text
    return f'"{text}"'


class Demo:
    def __init__(self, work, run_as):
        self.work = work
        self.run_as = run_as  # the user who ran sudo: pgmoat runs as them, so they own its files
        self.pg = self.m = None

    def start(self):
        self.pg = Postgres(self.work).start()
        with open(os.path.join(ROOT, "demo", "schema.sql")) as f:
            self.pg.sql(f"SET ROLE {UPSTREAM_USER};\n" + f.read(), "app")
        self.metrics_port = port(9187)
        m = Pgmoat(self.work, targets={"dev": {"port": self.pg.port}},
                   apps={APP: (APP_PASSWORD, ["dev"]), PERSON: (PERSON_PASSWORD, ["dev"]),
                         ADMIN: (ADMIN_PASSWORD, [], {"admin": True})},
                   server={"log_level": "info"},
                   extra=f'[audit]\npath = "pgmoat-audit.jsonl"\n\n'
                         f'[metrics]\nlisten = "127.0.0.1:{self.metrics_port}"\n')
        pg_port = port(6432)
        if pg_port != m.port:
            m.port = pg_port
            m._write_files()
        self.m = m
        m._log = open(m.logfile, "ab")
        kw = {}
        if self.run_as:
            for path in [m.dir] + [os.path.join(d, n) for d, ds, fs in os.walk(m.dir) for n in ds + fs]:
                os.chown(path, self.run_as.pw_uid, self.run_as.pw_gid)
            kw = dict(user=self.run_as.pw_uid, group=self.run_as.pw_gid, extra_groups=[])
        # Its own session: Ctrl-C reaches the demo, which stops pgmoat in order.
        m.proc = subprocess.Popen([PGMOAT_BIN, "serve", "-c", m.config], stdout=m._log, stderr=m._log,
                                  start_new_session=True, **kw)
        wait_for_port(m.port, proc=m.proc)
        wait_for_port(self.metrics_port, proc=m.proc)

    def stop(self):
        if self.m and self.m.proc:
            self.m.stop()
        if self.pg:
            self.pg.stop()

    def uri(self, user, password, database="dev"):
        return f"postgresql://{user}:{password}@127.0.0.1:{self.m.port}/{database}"

    def tour(self):
        """The steps: (what it shows, [commands])."""
        q = shlex.quote
        pgmoat = q(PGMOAT_BIN)
        shop = f"{PYTHON} {q(os.path.join(ROOT, 'demo', 'shop.py'))} {self.uri(APP, APP_PASSWORD)}"
        alice = dq(self.uri(PERSON, PERSON_PASSWORD))
        metrics = f"curl -s http://127.0.0.1:{self.metrics_port}/metrics"
        audit = q(self.m.audit_path)
        config = q(self.m.config)
        console = dq(self.uri(ADMIN, ADMIN_PASSWORD, "pgmoat"))
        return [
            ("A parameterized query passes: orders_of() in demo/shop.py sends the customer id as a bind\n"
             "   parameter (WHERE customer_id = %s).",
             [f"{shop} orders 42"]),
            ("The same query with the value spliced into the SQL text is rejected before it reaches\n"
             "   PostgreSQL. This is the error the app gets (psycopg), precise enough to fix the code:",
             [f"{shop} orders-spliced 42"]),
            ("An injection through a spliced login lookup (customer_by_email) is blocked:",
             [f"{shop} customer {dq(INJECTION)}"]),
            ("pgmoat explain shows the decision, the rule, the policy line and the analysis behind it,\n"
             "   without running anything:",
             [f"{pgmoat} explain -c {config} --app {APP} "
              f"{dq(f'SELECT id, name FROM customers WHERE email = {chr(39)}{INJECTION}{chr(39)}')}"]),
            ("Each of those statements is a record in the audit log (normalized text, decision, rule),\n"
             "   hash-chained so that an edit, a removed line or a reordering is found:",
             [f"grep '\"event\":\"statement\"' {audit} | tail -n 3",
              f"{pgmoat} audit verify {audit}"]),
            ("The metrics that moved, as Prometheus scrapes them:",
             [f"{metrics} | grep -E '^pgmoat_(statements|rejections)_total'"]),
            (f"People work through pgmoat too, each under their own name: {PERSON} gets\n"
             "   policies/people.toml (reads only, psql's \\d commands work, 10,000 rows, 30 s):",
             [f"psql {alice} -c '\\dt'",
              f"psql {alice} -c {dq('DELETE FROM orders WHERE id = 1')}"]),
            (f"The admin console: the operator {ADMIN} (admin = true in pgmoat.toml) asks the running\n"
             "   pgmoat what it refused lately (SHOW HELP lists the rest: sessions, targets, PAUSE, KILL):",
             [f"psql {console} -c 'SHOW REJECTIONS'"]),
            (f"Policies are files: edit {self.m.policies_dir}/baseline.toml, or add a file next to it.\n"
             "   Check a change, then reload: pgmoat also reloads within a second of a saved change;\n"
             "   a broken file keeps the previous policies in force.",
             [f"{pgmoat} check -c {config}",
              f"kill -HUP {self.m.proc.pid}",
              f"{metrics} | grep -E '^pgmoat_policy_reloads_total'"]),
        ]

    def banner(self):
        return f"""
pgmoat is running on 127.0.0.1:{self.m.port} in front of a throwaway PostgreSQL 15 (port {self.pg.port})
holding a shop database ({os.path.join(ROOT, 'demo', 'schema.sql')}). Connect through pgmoat:

as the app "{APP}" (policies/baseline.toml: bind parameters required, no DDL; psql's \\d
commands send literals, so they are refused here, as for any app)

    psql {dq(self.uri(APP, APP_PASSWORD))}

as the person "{PERSON}" (policies/people.toml: read-only, \\dt and \\d+ work)

    psql {dq(self.uri(PERSON, PERSON_PASSWORD))}
"""

    def files(self):
        return f"""
Config:   {self.m.config}
Policies: {self.m.policies_dir}
Audit:    {self.m.audit_path}
Log:      {self.m.logfile}
Metrics:  http://127.0.0.1:{self.metrics_port}/metrics
Press Ctrl-C to stop pgmoat and remove the throwaway database."""

    def run(self, command):
        """A tour command as the user would run it; its output, indented under it."""
        env = dict(os.environ, PATH="/usr/local/bin:/usr/bin:/bin")
        kw = {}
        if self.run_as:
            env.update(HOME=self.run_as.pw_dir, USER=self.run_as.pw_name, LOGNAME=self.run_as.pw_name)
            kw = dict(user=self.run_as.pw_uid, group=self.run_as.pw_gid, extra_groups=[])
        reloads = self.reloads()
        r = subprocess.run(["bash", "-c", command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=env, cwd="/", timeout=60, **kw)
        time.sleep(0.3)  # what a command set off (an audit record) lands before the next
        deadline = time.monotonic() + 10
        while command.startswith("kill -HUP") and self.reloads() == reloads and time.monotonic() < deadline:
            time.sleep(0.1)  # the reload it asked for is done before the tour shows its metric
        return r.stdout

    def reloads(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as r:
            return [line for line in r.read().decode().splitlines() if line.startswith("pgmoat_policy_reloads_total")]


def main():
    ap = argparse.ArgumentParser(description="pgmoat in front of a throwaway PostgreSQL, with a guided tour")
    ap.add_argument("--tour", action="store_true", help="run the tour and show what each command printed")
    args = ap.parse_args()
    sudo_user = os.environ.get("SUDO_USER")
    run_as = pwd.getpwnam(sudo_user) if os.geteuid() == 0 and sudo_user and sudo_user != "root" else None

    work = tempfile.mkdtemp(prefix="pgmoat-demo-")
    os.chmod(work, 0o755)  # the postgres user reaches its data directory below
    demo = Demo(work, run_as)
    # Ctrl-C stops the demo even when a shell started it with SIGINT ignored (in the background).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        t0 = time.monotonic()
        demo.start()
        print(demo.banner(), flush=True)
        if args.tour:
            print(f"The tour (started in {time.monotonic() - t0:.1f} s):\n")
        else:
            again = ("sudo " if os.environ.get("SUDO_USER") else "") + "bash " + shlex.quote(
                os.path.join(ROOT, "scripts", "demo.sh")) + " --tour"
            print(f"The tour: run these in another shell, or all of them with `{again}`.\n")
        for n, (text, commands) in enumerate(demo.tour(), 1):
            print(f"{n}. {text}\n")
            for command in commands:
                print(f"    {command}\n", flush=True)
                if args.tour:
                    out = demo.run(command).rstrip("\n")
                    if out:
                        print("\n".join("      " + line if line else "" for line in out.split("\n")) + "\n",
                              flush=True)
        print(demo.files(), flush=True)
        demo.m.proc.wait()
        print(f"pgmoat exited with {demo.m.proc.returncode}; its log:\n{demo.m.log()[-3000:]}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        demo.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
