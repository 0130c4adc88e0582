"""What the policy-hole tests (test_holes_values/columns/writes/settings/catalog,
issue 12) share: a pgmoat enforcing the shipped baseline with one column closed
by a site policy (as the red team had it), statements sent over the simple and
the extended protocol, and the proof from PostgreSQL's own log
(log_statement = all) that a rejected statement never reached the server.

Each attack carries a unique marker in a leading comment; the server logs a
rejected statement only as pgmoat's decoy (`pgmoat_rejected_statement`), so the
marker must never appear in its log, while an allowed statement's must."""
import time
import uuid

import pytest

import pgwire
from conftest import APP, APP_PASSWORD
from pgharness import UPSTREAM_USER, Pgmoat

ANALYST, ANALYST_PASSWORD = "analyst-eve", "analyst-pass-123"
MIGRATOR, MIGRATOR_PASSWORD = "migrator", "migrator-pass-123"

# The site policy: the baseline with users.password_hash closed.
SITE_POLICY = f"""
[policy]
extends = "baseline"
priority = 5
[applies_to]
apps = ["{APP}"]
[columns]
deny = ["users.password_hash"]
"""

SCHEMA = f"""
    CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, password_hash text,
                        role text NOT NULL DEFAULT 'member', active boolean NOT NULL DEFAULT true,
                        created_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO users (id, email, password_hash) VALUES
        (1, 'ann@example.com', 'hash-ann'), (2, 'bob@example.com', 'hash-bob'),
        (3, 'cy@example.com', 'hash-cy');
    CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, total numeric NOT NULL,
                         status text NOT NULL DEFAULT 'open');
    INSERT INTO orders VALUES (10, 1, 5, 'open'), (11, 1, 7, 'open'), (12, 2, 9, 'open');
    CREATE TABLE products (id bigint PRIMARY KEY, name text NOT NULL);
    INSERT INTO products VALUES (1, 'pen'), (2, 'ink');
    CREATE TABLE jobs (id bigint PRIMARY KEY, state text NOT NULL);
    INSERT INTO jobs SELECT g, 'ready' FROM generate_series(1, 5) g;
    CREATE SEQUENCE orders_id_seq;
    ALTER TABLE users OWNER TO {UPSTREAM_USER};
    ALTER TABLE orders OWNER TO {UPSTREAM_USER};
    ALTER TABLE products OWNER TO {UPSTREAM_USER};
    ALTER TABLE jobs OWNER TO {UPSTREAM_USER};
    ALTER SEQUENCE orders_id_seq OWNER TO {UPSTREAM_USER};
"""


@pytest.fixture(scope="module")
def enforcing(workdir, postgres):
    """pgmoat with the site policy for APP, readonly-analyst for ANALYST and
    migrations for MIGRATOR, in front of a server loaded with SCHEMA (import it
    into a test module to use it)."""
    postgres.sql(SCHEMA, "app")
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}},
               apps={APP: (APP_PASSWORD, ["dev"]), ANALYST: (ANALYST_PASSWORD, ["dev"]),
                     MIGRATOR: (MIGRATOR_PASSWORD, ["dev"])},
               policies={"site.toml": SITE_POLICY}).start()
    yield m
    m.stop()


def marker():
    return "mk" + uuid.uuid4().hex[:12]


def marked(sql, mark):
    """The statement with the marker in a leading comment (a place no rule judges)."""
    return f"/* {mark} */ {sql}"


def connect(m, app=APP, password=APP_PASSWORD):
    c = pgwire.Conn(m.port)
    msgs = c.login(app, password)
    assert msgs[-1][0] == b"Z", msgs
    return c


def result(msgs):
    """(error fields or None, rows as lists of text or None, ReadyForQuery status)."""
    err = pgwire.first_error(msgs)
    rows = [decode_row(body) for t, body in msgs if t == b"D"]
    status = msgs[-1][1] if msgs[-1][0] == b"Z" else None
    return err, rows, status


def decode_row(body):
    n = int.from_bytes(body[:2], "big")
    out, at = [], 2
    for _ in range(n):
        size = int.from_bytes(body[at:at + 4], "big", signed=True)
        at += 4
        if size < 0:
            out.append(None)
        else:
            out.append(body[at:at + size].decode())
            at += size
    return out


def run(c, sql, params=None, protocol="simple"):
    """One statement over one protocol: a Query, or Parse/Bind/Execute/Sync with
    text parameters."""
    if protocol == "simple":
        assert params is None
        c.send(pgwire.query(sql))
    else:
        c.send(pgwire.parse("", sql) + pgwire.bind("", "", params or []) + pgwire.execute() + pgwire.SYNC)
    return result(c.read_until(b"Z"))


def rejected_by_pgmoat(err, rule=None, what=""):
    assert err is not None, f"allowed: {what}"
    assert err["M"].startswith("pgmoat:"), (what, err)
    assert err["C"] == "42501", (what, err)
    if rule:
        assert f'rule "{rule}"' in err.get("D", ""), (what, rule, err)
    return err


def never_ran(postgres, *marks):
    time.sleep(0.3)  # the server writes its log asynchronously
    log = postgres.log()
    for mark in marks:
        assert mark not in log, f"{mark} reached the server"


def ran(postgres, mark):
    for _ in range(20):
        if mark in postgres.log():
            return
        time.sleep(0.1)
    raise AssertionError(f"{mark} never reached the server")


def attack(m, postgres, sql, rule=None, params=None, protocols=("simple", "extended"), app=APP,
           password=APP_PASSWORD):
    """Sends sql over each protocol with a fresh marker each time: pgmoat must
    reject it (with rule, when given), the session must stay usable, and the
    server must never see it."""
    attacks(m, postgres, [(sql, params)], rule, protocols, app, password)


def attacks(m, postgres, statements, rule=None, protocols=("simple", "extended"), app=APP,
            password=APP_PASSWORD):
    """attack() for each (sql, params) of statements, on one connection."""
    marks = []
    c = connect(m, app, password)
    for sql, params in statements:
        for protocol in protocols:
            if protocol == "simple" and params is not None:
                continue
            mark = marker()
            marks.append(mark)
            err, _, status = run(c, marked(sql, mark), params, protocol)
            rejected_by_pgmoat(err, rule, f"{protocol}: {sql}")
            assert status == b"I", (protocol, sql, status)
            assert run(c, "SELECT 1")[0] is None  # the session goes on
    c.close()
    never_ran(postgres, *marks)


def allowed(m, postgres, sql, params=None, protocol="extended", app=APP, password=APP_PASSWORD):
    """Sends sql once: it must run (the server logs it); returns its rows."""
    mark = marker()
    c = connect(m, app, password)
    err, rows, _ = run(c, marked(sql, mark), params, protocol)
    c.close()
    assert err is None, (sql, err)
    ran(postgres, mark)
    return rows
