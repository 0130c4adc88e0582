#!/usr/bin/python3
"""Builds the fuzz seed corpora in tests/fuzz/corpus/<target>/ from real traffic
and the repository's SQL, policy and config files.

Traffic is captured with two recording relays: apps -> [relay] -> pgmoat -> [relay]
-> PostgreSQL, while psql, pgbench, psycopg 3 and psycopg2 run a small workload
(queries, the extended protocol, pipelines, COPY both ways, cursors, rejections).
A third relay records direct logins to PostgreSQL with md5 and cleartext
password authentication. The captures are then cut into the input formats the
targets document (see the comment at the top of each tests/fuzz/fuzz_*.cpp).

Run as root from the repository with a built pgmoat:
    PGMOAT_BIN=build/pgmoat /usr/bin/python3 tests/fuzz/make_corpus.py
"""
import glob
import hashlib
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from pgharness import UPSTREAM_PASSWORD, UPSTREAM_USER, Pgmoat, Postgres, free_port  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")
APP, PASSWORD = "orders", "orders-pass-1234"


class Recorder:
    """A TCP relay that records every chunk of every connection with its time."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.port = free_port()
        self.connections = []  # each: list of (time, "c"|"s", bytes)
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.upstream_port))
            log = []
            with self.lock:
                self.connections.append(log)
            for a, b, d in ((c, u, "c"), (u, c, "s")):
                threading.Thread(target=self._pump, args=(a, b, d, log), daemon=True).start()

    def _pump(self, src, dst, direction, log):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return
            with self.lock:
                log.append((time.monotonic(), direction, data))
            try:
                dst.sendall(data)
            except OSError:
                return


def stream(log, direction):
    return b"".join(d for _, dd, d in log if dd == direction)


def frames(data, startup_count=0):
    """Splits a byte stream into frames; the first startup_count are untyped."""
    out, pos = [], 0
    while pos < len(data):
        if startup_count > 0:
            if pos + 4 > len(data):
                break
            (n,) = struct.unpack("!i", data[pos:pos + 4])
            out.append(data[pos:pos + n])
            pos += n
            startup_count -= 1
            # SSLRequest / GSSENCRequest answered N: another startup packet follows.
            if n == 8 and data[pos - 4:pos] in (b"\x04\xd2\x16\x2f", b"\x04\xd2\x16\x30"):
                startup_count += 1
            continue
        if pos + 5 > len(data):
            break
        (n,) = struct.unpack("!i", data[pos + 1:pos + 5])
        out.append(data[pos:pos + 1 + n])
        pos += 1 + n
    return out


def timed_frames(log, direction, typed_from_start):
    """Frames of one direction with the time their last byte arrived."""
    buf, t_out, out = b"", [], []
    startup = 0 if typed_from_start else 1
    for t, d, data in log:
        if d != direction:
            continue
        buf += data
        while True:
            if startup:
                if len(buf) < 4:
                    break
                (n,) = struct.unpack("!i", buf[:4])
                if len(buf) < n:
                    break
                f, buf = buf[:n], buf[n:]
                startup -= 1
                if n == 8 and f[4:] in (b"\x04\xd2\x16\x2f", b"\x04\xd2\x16\x30"):
                    startup += 1
            else:
                if len(buf) < 5:
                    break
                (n,) = struct.unpack("!i", buf[1:5])
                if len(buf) < 1 + n:
                    break
                f, buf = buf[:1 + n], buf[1 + n:]
            out.append((t, f))
    return out


def save(target, data, name=None):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = name or hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def sasl_payload(frame):
    return frame[9:]


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def workload(pgm_port, pg):
    env = dict(os.environ, PGPASSWORD=PASSWORD)
    env.pop("PGSERVICE", None)
    base = f"host=127.0.0.1 port={pgm_port} dbname=dev user={APP}"
    psql = ["psql", "-X", "-d", base]
    sessions = []

    def psql_c(*sql, args=()):
        cmd = psql + list(args)
        for s in sql:
            cmd += ["-c", s]
        run(cmd, env=env)
        sessions.append("psql")

    psql_c("SELECT 1", "SELECT id, name FROM items WHERE id = 1", "BEGIN", "INSERT INTO items (name) VALUES ('x')",
           "ROLLBACK")
    psql_c("SELECT * FROM items WHERE name = 'a' OR 1=1", "SELECT pg_sleep(0)", "SET search_path = evil",
           "SELECT 1; SELECT 2", "SHOW server_version")
    run(psql + ["-c", "\\copy items (name) FROM STDIN"], input="alpha\nbeta\n", env=env)
    run(psql + ["-c", "\\copy items TO STDOUT"], env=env)
    run(psql + ["-c", "\\d items"], env=env)
    psql_c("SELECT generate_series(1, 20)", args=["--set=FETCH_COUNT=5"])
    run(psql + ["-c", "SELECT 1"], env=dict(env, PGSSLMODE="prefer"))

    import psycopg
    dsn = f"{base} password={PASSWORD}"
    with psycopg.connect(dsn) as c:
        c.execute("SELECT %s::int + 1", (41,)).fetchone()
        c.execute("SELECT name FROM items WHERE id = %s", (1,), prepare=True).fetchall()
        c.execute("SELECT name FROM items WHERE id = %s", (2,), prepare=True).fetchall()
        c.execute("SELECT name FROM items WHERE id = %s", (3,), prepare=True).fetchall()
        with c.pipeline():
            for i in range(3):
                c.execute("INSERT INTO items (name) VALUES (%s)", (f"p{i}",))
            c.execute("SELECT count(*) FROM items")
        with c.cursor(name="srv") as cur:
            cur.itersize = 3
            cur.execute("SELECT id FROM items WHERE id > %s", (0,))
            cur.fetchall()
        with c.cursor().copy("COPY items (name) FROM STDIN") as cp:
            cp.write_row(("copied",))
        with c.cursor().copy("COPY items TO STDOUT") as cp:
            for _ in cp:
                pass
        try:
            c.execute("SELECT * FROM items WHERE name = 'a' OR 'x'='x'")
        except psycopg.Error:
            c.rollback()
        c.execute("LISTEN chan")
        c.execute("NOTIFY chan, 'hello'")
    import psycopg2
    with psycopg2.connect(dsn) as c2:
        cur = c2.cursor()
        cur.execute("SELECT %s", ("literal",))
        cur.execute("BEGIN")
        try:
            cur.execute("SELECT * FROM items WHERE id = %s", (1,))
        except psycopg2.Error:
            pass
    c2.close()
    penv = dict(env, PGHOST="127.0.0.1", PGPORT=str(pgm_port), PGUSER=APP)
    for mode in ("simple", "extended", "prepared"):
        run(["pgbench", "-M", mode, "-S", "-t", "3", "-c", "1", "--no-vacuum", "dev"], env=penv)


def direct_logins(pg, workdir):
    """Logins straight to PostgreSQL with md5 and cleartext password methods."""
    pg.sql(f"SET password_encryption = 'md5'; ALTER ROLE {UPSTREAM_USER} PASSWORD '{UPSTREAM_PASSWORD}'")
    rec = Recorder(pg.port)
    env = dict(os.environ, PGPASSWORD=UPSTREAM_PASSWORD)
    for method in ("md5", "password", "scram-sha-256"):
        if method == "scram-sha-256":
            pg.sql(f"SET password_encryption = 'scram-sha-256'; ALTER ROLE {UPSTREAM_USER} PASSWORD '{UPSTREAM_PASSWORD}'")
        with open(os.path.join(pg.data, "pg_hba.conf"), "w") as f:
            f.write("local all all scram-sha-256\n")
            f.write(f"host all {UPSTREAM_USER} 127.0.0.1/32 {method}\n")
            f.write("host all all 127.0.0.1/32 scram-sha-256\n")
        pg.sql("SELECT pg_reload_conf()")
        time.sleep(0.3)
        run(["psql", "-X", "-d", f"host=127.0.0.1 port={rec.port} dbname=app user={UPSTREAM_USER} sslmode=disable",
             "-c", "SELECT 1"], env=env)
    time.sleep(0.3)
    return rec.connections


def rewrite_upstream_login(server_frames, client_frames):
    """Server login frames with the SCRAM placeholders the backend target fills in."""
    nonce = None
    for f in client_frames:
        if f[:1] == b"p" and b"SCRAM-SHA-256" in f[:30]:
            m = re.search(rb"r=([!-+\--~]+)", f)
            nonce = m.group(1) if m else None
    out = []
    for f in server_frames:
        if f[:1] == b"R" and len(f) >= 9:
            code = struct.unpack("!i", f[5:9])[0]
            payload = f[9:]
            if code == 11 and nonce:
                payload = payload.replace(b"r=" + nonce, b"r=@NONCE@")
            elif code == 12:
                payload = b"v=@SIG@"
            f = b"R" + struct.pack("!ii", len(payload) + 8, code) + payload
        out.append(f)
    return out


def login_end(frames_, typed=True):
    """Index just past the first ReadyForQuery."""
    for i, f in enumerate(frames_):
        if f[:1] == b"Z":
            return i + 1
    return len(frames_)


def interleave(client, server):
    """Control-byte framing of drive_session: 0 before client frames, 1 before server ones."""
    merged = sorted([(t, 0, f) for t, f in client] + [(t, 1, f) for t, f in server], key=lambda x: (x[0], x[1]))
    return b"".join(bytes([side]) + f for _, side, f in merged)


def sql_seeds():
    out = set()
    for path in glob.glob(os.path.join(ROOT, "tests", "data", "sql", "*.corpus")):
        lines = open(path, encoding="utf-8").read().split("\n")
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.startswith("sql: "):
                out.add(line[5:])
            elif line.startswith("sql<<"):
                block = []
                i += 1
                while i < len(lines) and lines[i] != ">>":
                    block.append(lines[i])
                    i += 1
                out.add("\n".join(block))
            i += 1
    import tomllib
    for name in ("attacks.toml", "false_positives.toml"):
        path = os.path.join(ROOT, "tests", "data", "policy", name)
        if os.path.exists(path):
            doc = tomllib.load(open(path, "rb"))
            for items in doc.values():
                if isinstance(items, list):
                    for item in items:
                        if isinstance(item, dict) and "sql" in item:
                            out.add(item["sql"])
    return sorted(out)


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)
    work = tempfile.mkdtemp(prefix="pgmoat-corpus-")
    os.chmod(work, 0o755)
    pg = Postgres(work).start()
    try:
        pg.sql(f"CREATE TABLE items (id serial PRIMARY KEY, name text); ALTER TABLE items OWNER TO {UPSTREAM_USER}",
               "app")
        up = Recorder(pg.port)
        m = Pgmoat(work, targets={"dev": {"port": up.port}}, apps={APP: (PASSWORD, ["dev"])}).start()
        front = Recorder(m.port)
        workload(front.port, pg)
        time.sleep(1)
        m.stop()
        direct = direct_logins(pg, work)
    finally:
        pg.stop()

    # Pair each client connection with the upstream connection pgmoat opened for it
    # (the workload runs one session at a time).
    ups = [c for c in up.connections if c]
    fronts = [c for c in front.connections if c]
    n_front = n_back = 0
    for i, fc in enumerate(fronts):
        cstream = stream(fc, "c")
        # frontend raw startup mode: flags 0 (plain) and 2 (TLS offered)
        for flags in (0, 2, 4):
            save("frontend", bytes([flags]) + cstream[:4096])
        cfr = timed_frames(fc, "c", False)
        # Startup packets until the first typed message ('p').
        startup = b""
        k = 0
        for t, f in cfr:
            if f[:1] == b"p":
                break
            startup += f
            k += 1
        post_auth = [(t, f) for t, f in cfr[k:] if f[:1] != b"p"]
        match = None
        if ups:
            first_p = cfr[k][0] if k < len(cfr) else 0
            match = min(ups, key=lambda u: abs(u[0][0] - first_p))
        server = []
        if match is not None:
            sfr = timed_frames(match, "s", True)
            server = sfr[login_end([f for _, f in sfr]):]
        body = interleave(post_auth, server)
        for flags in (1, 1 | 8, 1 | 16, 1 | 32):
            save("frontend", bytes([flags]) + startup + body[:16384])
            n_front += 1
    for uc in ups:
        sfr = timed_frames(uc, "s", True)
        cfr = timed_frames(uc, "c", False)
        sframes = [f for _, f in sfr]
        end = login_end(sframes)
        login = rewrite_upstream_login(sframes[:end], [f for _, f in cfr])
        session = interleave([(t, f) for t, f in cfr if f[:1] not in (b"p", b"")][1:], sfr[end:])
        for flags in (0, 1, 2, 4 | 8):
            save("backend", bytes([flags]) + b"".join(login) + session[:16384])
            n_back += 1
    for dc in direct:
        sframes = [f for _, f in timed_frames(dc, "s", True)]
        cframes = [f for _, f in timed_frames(dc, "c", False)]
        save("backend", b"\x00" + b"".join(rewrite_upstream_login(sframes, cframes)))
        n_back += 1

    # SCRAM exchanges as seen on both legs.
    n_scram = 0
    for conn in fronts + ups:
        cfr = [f for _, f in timed_frames(conn, "c", False)]
        sfr = [f for _, f in timed_frames(conn, "s", True)]
        ps = [f for f in cfr if f[:1] == b"p"]
        rs = [f for f in sfr if f[:1] == b"R" and len(f) >= 9]
        if len(ps) >= 2:
            init = ps[0][5:]
            mech, rest = init.split(b"\0", 1)
            first = rest[4:]
            final = ps[1][5:]
            final_h = re.sub(rb"r=[^,]+", b"r=@R@", final)
            final_h = re.sub(rb"p=[^,]+$", b"p=@PROOF@", final_h)
            for flags in (0, 1, 2):
                save("scram_server", bytes([flags]) + mech + b"\0" + first + b"\0" + final_h)
                save("scram_server", bytes([flags]) + mech + b"\0" + first + b"\0" + final)
            save("scram_server", b"\x04" + b"SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$"
                 b"tAUSPc1jHhrB4+6LUoYl9w/7fk8/a5H3nDrhOZV7Ko4=:OmFxjhZx1bb4NrmaVDIQ7ekwIVzRWUrKP5IjlbbDrfM=")
            n_scram += 1
        cont = [f for f in rs if struct.unpack("!i", f[5:9])[0] == 11]
        if cont and ps:
            m_ = re.search(rb"r=([!-+\--~]+)", ps[0])
            sf = cont[0][9:]
            if m_:
                sf = sf.replace(b"r=" + m_.group(1), b"r=@NONCE@")
            for flags in (0, 1, 2):
                save("scram_client", bytes([flags]) + sf + b"\0v=@SIG@")
            fin = [f for f in rs if struct.unpack("!i", f[5:9])[0] == 12]
            if fin:
                save("scram_client", b"\x00" + sf + b"\0" + fin[0][9:])

    # SQL: the analyzer corpus, the attack and false-positive corpora, captured text.
    sqls = sql_seeds()
    captured = set()
    for conn in fronts:
        for _, f in timed_frames(conn, "c", False):
            if f[:1] == b"Q":
                captured.add(f[5:-1])
            elif f[:1] == b"P":
                parts = f[5:].split(b"\0")
                if len(parts) > 1:
                    captured.add(parts[1])
    for s in sqls:
        save("analyzer", b"\x00" + s.encode())
    for s in sorted(captured):
        save("analyzer", b"\x00" + s)
        save("analyzer", b"\x08" + s)
    for s in sqls[:40]:
        save("analyzer", b"\x01" + s.encode())
        save("analyzer", b"\x04" + s.encode())

    # Config and policy files.
    with open(m.config) as f:
        cfg = f.read()
    cfg = cfg.replace('password_file = "upstream.password"', 'password_file = "pw"')
    save("config", cfg.encode(), "harness.toml")
    readme = open(os.path.join(ROOT, "README.md")).read()
    block = re.search(r"```toml\n(\[server\].*?)```", readme, re.S)
    if block:
        text = block.group(1).replace('password_file = "prod.password"', 'password_file = "pw"')
        save("config", text.encode(), "readme.toml")
    save("config", b'[server]\ncredentials = "c.toml"\n[targets.dev]\nhost = "h"\nuser = "u"\n'
         b'password_env = "PGMOAT_FUZZ_PASSWORD"\n[apps.a]\ntargets = ["dev"]\n[metrics]\nlisten = ":9187"\n'
         b'[analyzer]\nmax_depth = 100\n[audit]\npath = "-"\nfailure_policy = "continue"\n', "small.toml")
    for path in glob.glob(os.path.join(ROOT, "policies", "*.toml")):
        save("policy", open(path, "rb").read(), os.path.basename(path))
    save("policy", b'[policy]\nextends = "baseline"\n[applies_to]\napps = ["a*"]\nclient_addresses = ["10.0.0.0/8"]\n'
         b'[parameters]\nmode = "approved_structures"\n[[parameters.approved]]\nfingerprint = "0123456789abcdef"\n'
         b'[limits]\nmax_rows = 5\n', "child.toml")

    for target in sorted(os.listdir(CORPUS)):
        print(f"{target}: {len(os.listdir(os.path.join(CORPUS, target)))} seeds")
    print(f"captured {len(fronts)} client and {len(ups)} upstream connections, {len(direct)} direct logins")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
