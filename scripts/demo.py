"""pgmoat on an embedded default: a throwaway PostgreSQL with a demo schema on
loopback, pgmoat in front of it, and the command to connect through pgmoat."""
import os
import shutil
import signal
import socket
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from pgharness import Pgmoat, Postgres  # noqa: E402

DEMO_SCHEMA = """
CREATE TABLE customers (id serial PRIMARY KEY, email text UNIQUE NOT NULL, name text NOT NULL,
                        password_hash text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers,
                     status text NOT NULL DEFAULT 'open', total numeric(10,2) NOT NULL);
INSERT INTO customers (email, name, password_hash)
  SELECT 'user' || g || '@example.com', 'User ' || g, md5(g::text) FROM generate_series(1, 100) g;
INSERT INTO orders (customer_id, status, total)
  SELECT 1 + g % 100, (ARRAY['open','paid','shipped'])[1 + g % 3], (g % 500) + 0.99 FROM generate_series(1, 1000) g;
"""


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def main():
    work = tempfile.mkdtemp(prefix="pgmoat-demo-")
    os.chmod(work, 0o755)
    pg = m = None
    try:
        pg = Postgres(work).start()
        pg.sql("SET ROLE pgmoat_upstream; " + DEMO_SCHEMA, "app")
        m = Pgmoat(work, targets={"dev": {"port": pg.port}}, apps={"demo": ("demo-password", ["dev"])})
        if port_free(6432):
            m.port = 6432
            m._write_files()
        m.start()
        print(f"""
pgmoat is running on 127.0.0.1:{m.port} in front of a throwaway PostgreSQL 15 (port {pg.port}).
Connect through pgmoat as the app "demo" to the target "dev":

    psql "host=127.0.0.1 port={m.port} dbname=dev user=demo password=demo-password"

Config: {m.config}
Log:    {m.logfile}
Press Ctrl-C to stop pgmoat and remove the throwaway database.
""", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        m.proc.wait()
        print(f"pgmoat exited with {m.proc.returncode}; log:\n{m.log()[-3000:]}", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        if m:
            m.stop()
        if pg:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
