"""Real PostgreSQL servers and a real pgmoat for tests and the demo.

Everything runs on loopback with random free ports in a temporary directory:
PostgreSQL 15 is initdb'ed with SCRAM authentication, pgmoat is started from the
built binary with a generated config, credentials and upstream password file.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

PG_BIN = "/usr/lib/postgresql/15/bin"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PGMOAT_BIN = os.environ.get("PGMOAT_BIN", os.path.join(ROOT, "build", "pgmoat"))

# The role pgmoat logs into PostgreSQL as, and the superuser the tests use to set up
# and inspect the server directly.
UPSTREAM_USER = "pgmoat_upstream"
UPSTREAM_PASSWORD = "upstream-secret-Zq8"
SUPERUSER = "postgres"
SUPERUSER_PASSWORD = "superuser-secret-7Hx"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=30.0, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port} after {timeout}s")


def _as_postgres(cmd, **kw):
    """initdb and postgres refuse to run as root: drop to the postgres user."""
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def make_certificates(directory, hostname="localhost"):
    """A throwaway CA and a server certificate for `hostname` signed by it."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=pgmoat test CA",
        "-keyout", "ca.key", "-out", "ca.crt")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={hostname}",
        "-keyout", "server.key", "-out", "server.csr")
    with open(os.path.join(directory, "ext.cnf"), "w") as f:
        f.write(f"subjectAltName=DNS:{hostname},IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", "ext.cnf", "-out", "server.crt")
    os.chmod(os.path.join(directory, "server.key"), 0o600)
    return (os.path.join(directory, "ca.crt"), os.path.join(directory, "server.crt"),
            os.path.join(directory, "server.key"))


class Postgres:
    """A throwaway PostgreSQL 15 on loopback with SCRAM authentication."""

    def __init__(self, base_dir, ssl=False, settings=None):
        # A unique name: a port number can be handed out again within one test.
        self.dir = tempfile.mkdtemp(prefix="pg-", dir=base_dir)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.logfile = os.path.join(self.dir, "postgres.log")
        self.ssl = ssl
        self.settings = settings or {}
        self.ca_cert = None

    def start(self):
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(SUPERUSER_PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        _as_postgres([f"{PG_BIN}/initdb", "-D", self.data, "-U", SUPERUSER, "--pwfile", pwfile,
                      "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        conf = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.dir}'",
            "password_encryption": "'scram-sha-256'",
            "max_connections": "200",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "log_statement": "'all'",
            "log_min_error_statement": "error",
            "log_line_prefix": "'%m [%p] %u@%d '",
        }
        if self.ssl:
            self.ca_cert, crt, key = make_certificates(self.dir)
            for name in (crt, key):
                shutil.copy(name, self.data)
                if os.geteuid() == 0:
                    shutil.chown(os.path.join(self.data, os.path.basename(name)), "postgres", "postgres")
            conf["ssl"] = "on"
            conf["ssl_cert_file"] = "'server.crt'"
            conf["ssl_key_file"] = "'server.key'"
        conf.update(self.settings)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            for k, v in conf.items():
                f.write(f"{k} = {v}\n")
        hba = "hostssl" if self.ssl else "host"
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("local all all scram-sha-256\n")
            f.write(f"{hba} all all 127.0.0.1/32 scram-sha-256\n")
        if os.geteuid() == 0:
            for n in ("postgresql.conf", "pg_hba.conf"):
                shutil.chown(os.path.join(self.data, n), "postgres", "postgres")
        self._pg_ctl("start", "-w", "-t", "60", "-l", self.logfile)
        self.sql(f"CREATE ROLE {UPSTREAM_USER} LOGIN PASSWORD '{UPSTREAM_PASSWORD}'")
        self.sql(f"CREATE DATABASE app OWNER {UPSTREAM_USER}")
        return self

    def _pg_ctl(self, *args):
        _as_postgres([f"{PG_BIN}/pg_ctl", "-D", self.data, *args])

    def stop(self, mode="fast"):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._pg_ctl("stop", "-m", mode, "-w")

    def restart_in_background(self):
        self._pg_ctl("start", "-w", "-t", "60", "-l", self.logfile)

    def env(self):
        e = dict(os.environ)
        e["PGPASSWORD"] = SUPERUSER_PASSWORD
        e.pop("PGSERVICE", None)
        return e

    def dsn(self, dbname="app", user=SUPERUSER, password=SUPERUSER_PASSWORD):
        ssl = " sslmode=require" if self.ssl else ""
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={user} password={password}{ssl}"

    def sql(self, statement, dbname="postgres"):
        """Runs SQL directly on the server as the superuser; returns psql's output."""
        r = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.dsn(dbname),
                            "-c", statement], capture_output=True, text=True, env=self.env())
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr}")
        return r.stdout.strip()

    def log(self):
        with open(self.logfile, errors="replace") as f:
            return f.read()


class Pgmoat:
    """pgmoat in front of one or more targets, with app identities it issued."""

    def __init__(self, base_dir, targets, apps, tls=False, server=None, policies=None, monitor=False, extra=""):
        """targets: name -> dict(host, port, database, sslmode, sslrootcert, ...).
        apps: name -> (password, [target names]) or (password, [target names], {more keys}),
        e.g. {"admin": True};
        policies: file name -> TOML text added to a copy of the shipped policies/;
        monitor: run the shipped baseline in monitor mode (relay tests that must not
        be judged); extra: more TOML appended to pgmoat.toml."""
        self.dir = tempfile.mkdtemp(prefix="pgmoat-", dir=base_dir)
        self.port = free_port()
        self.targets = targets
        self.apps = apps
        self.tls = tls
        self.server = server or {}
        self.proc = None
        self.logfile = os.path.join(self.dir, "pgmoat.log")
        self.config = os.path.join(self.dir, "pgmoat.toml")
        self.ca_cert = None
        self.policies_dir = os.path.join(self.dir, "policies")
        shutil.copytree(os.path.join(ROOT, "policies"), self.policies_dir)
        if monitor:
            path = os.path.join(self.policies_dir, "baseline.toml")
            with open(path) as f:
                text = f.read().replace('mode = "enforce"', 'mode = "monitor"', 1)
            with open(path, "w") as f:
                f.write(text)
        for name, text in (policies or {}).items():
            self.write_policy(name, text)
        self.extra = extra
        self._write_files()

    def write_policy(self, name, text):
        with open(os.path.join(self.policies_dir, name), "w") as f:
            f.write(text)

    @staticmethod
    def _replace(path, text, mode=0o644):
        # Written beside and renamed into place: a reload that runs meanwhile (SIGHUP,
        # a file watch) reads the old file or the new one, never a half-written one.
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)

    def _write_files(self):
        self._replace(os.path.join(self.dir, "upstream.password"), UPSTREAM_PASSWORD + "\n", 0o600)
        lines = ["[apps]"]
        for name, (password, *_) in self.apps.items():
            r = subprocess.run([PGMOAT_BIN, "passwd", name], input=password + "\n", capture_output=True,
                               text=True, check=True)
            lines.append(r.stdout.strip())
        self._replace(os.path.join(self.dir, "credentials.toml"), "\n".join(lines) + "\n", 0o600)
        server = {"listen": f"127.0.0.1:{self.port}", "credentials": "credentials.toml", "threads": 2,
                  "log_level": "debug"}
        server.update(self.server)
        out = ["[server]"] + [f"{k} = {toml_value(v)}" for k, v in server.items()]
        if self.tls:
            self.ca_cert, crt, key = make_certificates(self.dir)
            out += ["[server.tls]", f'cert = "{crt}"', f'key = "{key}"']
        for name, t in self.targets.items():
            out.append(f"[targets.{name}]")
            t = dict(t)
            t.setdefault("host", "127.0.0.1")
            t.setdefault("database", "app")
            t.setdefault("user", UPSTREAM_USER)
            t.setdefault("password_file", "upstream.password")
            t.setdefault("connect_timeout", "3s")
            for k, v in t.items():
                out.append(f"{k} = {toml_value(v)}")
        for name, (_, targets, *more) in self.apps.items():
            out.append(f"[apps.{name}]")
            out.append(f"targets = {toml_value(targets)}")
            for k, v in (more[0] if more else {}).items():
                out.append(f"{k} = {toml_value(v)}")
        self._replace(self.config, "\n".join(out) + "\n" + self.extra)

    def start(self, env=None):
        """env: variables added to pgmoat's environment."""
        self._log = open(self.logfile, "ab")
        self.proc = subprocess.Popen([PGMOAT_BIN, "serve", "-c", self.config], stdout=self._log, stderr=self._log,
                                     env={**os.environ, **(env or {})})
        wait_for_port(self.port, proc=self.proc)
        return self

    def stop(self, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self._log.close()
            # In a sanitizer build a report is a failure even when nothing else noticed.
            for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
                if marker in self.log():
                    raise AssertionError(f"pgmoat sanitizer report:\n{self.log()[-6000:]}")
        return self.proc.returncode if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def dsn(self, app, password, target="dev", **extra):
        parts = {"host": "127.0.0.1", "port": self.port, "dbname": target, "user": app, "password": password}
        parts.update(extra)
        return " ".join(f"{k}={v}" for k, v in parts.items())

    def log(self):
        with open(self.logfile, errors="replace") as f:
            return f.read()

    @property
    def audit_path(self):
        return os.path.join(self.dir, "pgmoat-audit.jsonl")

    def audit_records(self, event=None):
        """The audit log's records (default location), optionally of one event."""
        import json
        out = []
        if not os.path.exists(self.audit_path):
            return out
        with open(self.audit_path) as f:
            for line in f:
                # pgmoat appends each record with one write(), but a reader may
                # see the file between its pages: a last line without its newline
                # is a record still being written, not one to judge yet.
                if not line.endswith("\n"):
                    break
                if line.strip():
                    r = json.loads(line)
                    if event is None or r["event"] == event:
                        out.append(r)
        return out


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
