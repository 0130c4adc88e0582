"""The shape lock workflow end to end (issue 13): a small app's flows, written with
psycopg 3 and node-postgres (server-side binding) and psycopg2 (client-side
binding), run through pgmoat in monitor mode; `pgmoat learn` writes the lock and an
interpolation report naming the flows that splice values; under
[parameters] mode = "shapes" every benign flow passes (with values learning never
saw), every literal-free injection into the splicing flows is blocked before it
reaches PostgreSQL (its own log proves it), a spliced value in a position learned
as a constant is blocked; an AI-style change adds one query, `pgmoat shapes diff`
shows exactly that shape, `pgmoat shapes approve` adds it, and it passes."""
import json
import os
import re
import subprocess
import time

import psycopg
import psycopg2
import pytest

from pgharness import PGMOAT_BIN, ROOT, UPSTREAM_PASSWORD, UPSTREAM_USER, Pgmoat

APP, PASSWORD = "shop", "shop-pass-1234"
NODE_DIR = os.path.join(ROOT, "tests", "integration", "node")
APP_JS = os.path.join(ROOT, "tests", "integration", "shapes_app", "app.js")

SCHEMA = """
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL UNIQUE);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, status text NOT NULL,
                     total numeric NOT NULL);
CREATE TABLE users (id int PRIMARY KEY, login text NOT NULL, password_hash text NOT NULL);
INSERT INTO customers SELECT i, 'customer ' || i, 'c' || i || '@example.com' FROM generate_series(1, 20) i;
INSERT INTO orders SELECT i, 1 + i % 20, CASE WHEN i % 3 = 0 THEN 'paid' ELSE 'open' END, i * 10
  FROM generate_series(1, 100) i;
INSERT INTO users VALUES (1, 'admin', 'SCRAM-secret-hash-of-admin');
"""

MONITOR = f"""
[policy]
extends = "baseline"
mode = "monitor"
[applies_to]
apps = ["{APP}"]
[audit]
raw_statement = true
"""

ENFORCE = f"""
[policy]
extends = "baseline"
[applies_to]
apps = ["{APP}"]
[parameters]
mode = "shapes"
shapes = ["shapes/drivers.toml", "shapes/{APP}.toml"]
"""

# The app's flows: name -> a function of the value that runs it against pgmoat.
def psycopg3_flow(sql, params=None):
    def run(m):
        with psycopg.connect(m.dsn(APP, PASSWORD), autocommit=True) as c:
            cur = c.execute(sql, params)
            return len(cur.fetchall()) if cur.description else cur.rowcount
    return run


def psycopg2_flow(sql, params=None):
    def run(m):
        c = psycopg2.connect(m.dsn(APP, PASSWORD))
        try:
            with c, c.cursor() as cur:  # a transaction: BEGIN … COMMIT, as psycopg2 does by default
                cur.execute(sql, params)
                return len(cur.fetchall()) if cur.description else cur.rowcount
        finally:
            c.close()
    return run


def node_flow(flow, value):
    def run(m):
        url = f"postgresql://{APP}:{PASSWORD}@127.0.0.1:{m.port}/dev"
        r = subprocess.run(["node", APP_JS, flow, str(value), url], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "NODE_PATH": os.path.join(NODE_DIR, "node_modules")})
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout.strip().splitlines()[-1])
        if not out["ok"]:
            raise NodeError(out)
        return out["rows"]
    return run


class NodeError(Exception):
    def __init__(self, out):
        super().__init__(f'{out.get("code")} {out.get("message")} HINT: {out.get("hint")}')
        self.sqlstate = out.get("code")


# The careless flows' text, with the value spliced in (as the code builds it).
SPLICED_SQL = {
    "order_spliced": "SELECT id, total, status FROM orders WHERE id = {}",
    "cancel_order_spliced": "UPDATE orders SET status = 'cancelled' WHERE id = {} AND status = 'open'",
    "latest_orders_spliced": "SELECT id, total FROM orders ORDER BY id DESC LIMIT {}",  # in app.js
}

FLOWS = {
    # psycopg 3, server-side binding
    "get_customer": lambda v: psycopg3_flow("SELECT id, name, email FROM customers WHERE id = %s", (v,)),
    "open_orders": lambda v: psycopg3_flow(
        "SELECT id, total FROM orders WHERE customer_id = %s AND status = 'open' ORDER BY id LIMIT 50", (v,)),
    "order_spliced": lambda v: psycopg3_flow(SPLICED_SQL["order_spliced"].format(v)),  # careless
    # psycopg2, client-side binding: every value is spliced by the driver (quoted)
    "search_customers": lambda v: psycopg2_flow(
        "SELECT id, name FROM customers WHERE name ILIKE %s ORDER BY id LIMIT 20", (v,)),
    "customer_total": lambda v: psycopg2_flow("SELECT sum(total) FROM orders WHERE customer_id = %s", (v,)),
    "cancel_order_spliced": lambda v: psycopg2_flow(SPLICED_SQL["cancel_order_spliced"].format(v)),  # by hand
    # node-postgres, server-side binding
    "customer_by_email": lambda v: node_flow("customer_by_email", v),
    "latest_orders_spliced": lambda v: node_flow("latest_orders", v),  # careless
}
LEARN_VALUES = {  # what the test suite (or staging) runs while pgmoat learns
    "get_customer": [1, 2, 3], "open_orders": [1, 4], "order_spliced": [5, 6, 7],
    "search_customers": ["%1%", "%customer 2%"], "customer_total": [1, 2],
    "cancel_order_spliced": [10, 11], "customer_by_email": ["c1@example.com", "c2@example.com"],
    "latest_orders_spliced": [5, 10],
}
PROD_VALUES = {  # later, values learning never saw
    "get_customer": [17], "open_orders": [9], "order_spliced": [42],
    "search_customers": ["%it's%"], "customer_total": [13], "cancel_order_spliced": [13],
    "customer_by_email": ["c19@example.com"], "latest_orders_spliced": [3],
}
SPLICING = {"order_spliced", "cancel_order_spliced", "latest_orders_spliced"}

# Literal-free injections into the splicing flows: no quote, no number, only
# columns, functions, casts, sub-selects and set operations.
INJECTIONS = [
    ("order_spliced", "id"),
    ("order_spliced", "id OR id > -id"),
    ("order_spliced", "(SELECT max(id) FROM orders)"),
    ("order_spliced", "id UNION SELECT id, login, password_hash FROM users"),
    ("order_spliced", "id AND customer_id IN (SELECT id FROM customers)"),
    ("order_spliced", "length(current_user)"),
    ("order_spliced", "(SELECT password_hash FROM users LIMIT ascii(current_user))::int"),
    ("order_spliced", "id ORDER BY (SELECT password_hash FROM users)"),
    ("cancel_order_spliced", "id"),
    ("cancel_order_spliced", "id OR status = status"),
    ("cancel_order_spliced", "customer_id"),
    ("cancel_order_spliced", "(SELECT min(id) FROM users)"),
    ("latest_orders_spliced", "(SELECT max(id) FROM users)"),
    ("latest_orders_spliced", "(SELECT count(*) FROM users)"),
    ("latest_orders_spliced", "length(current_database())"),
    ("latest_orders_spliced", "ALL OFFSET (SELECT count(*) FROM customers)"),
]

AI_QUERY = ("SELECT count(*) FROM orders WHERE customer_id = %s AND status = %s", (3, "paid"))


@pytest.fixture(scope="module")
def shop(workdir, postgres):
    postgres.sql(f"CREATE DATABASE shapes_shop OWNER {UPSTREAM_USER}")
    with psycopg.connect(postgres.dsn(dbname="shapes_shop", user=UPSTREAM_USER, password=UPSTREAM_PASSWORD),
                         autocommit=True) as c:
        c.execute(SCHEMA)
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port, "database": "shapes_shop"}},
               apps={APP: (PASSWORD, ["dev"])}, policies={"shop.toml": MONITOR},
               # learn reads the log while pgmoat runs: every flow's record must be in it
               # when the flow returns, not up to an interval later.
               extra='[audit]\nfsync = "every_record"\n').start()
    yield m
    m.stop()


def run_flows(m, values):
    out = {}
    for flow, vs in values.items():
        for v in vs:
            out[(flow, str(v))] = FLOWS[flow](v)(m)
    return out


def pgmoat_cli(*args):
    return subprocess.run([PGMOAT_BIN, *args], capture_output=True, text=True)


def switch_policy(m, text, probe=lambda: True):
    """Writes the app's policy and waits for pgmoat's reload of it (a policy_reload
    record after the write; an earlier change, such as a lock file just written, is
    let settle first), then until probe() holds."""
    time.sleep(1.5)
    reloads = len(m.audit_records("policy_reload"))
    m.write_policy("shop.toml", text)
    deadline = time.time() + 15
    while time.time() < deadline:
        if len(m.audit_records("policy_reload")) > reloads and probe():
            return
        time.sleep(0.2)
    raise AssertionError(f"pgmoat did not reload the policy:\n{m.log()[-3000:]}")


def rejected(m, flow, value):
    try:
        FLOWS[flow](value)(m)
    except (psycopg.Error, psycopg2.Error, NodeError) as e:
        return e
    return None


def sqlstate(e):
    return getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)


def enforcing(m):
    e = rejected(m, "order_spliced", "id")
    return e is not None and sqlstate(e) == "42501"


def test_learn_lock_enforce_and_review_an_added_query(shop, postgres, tmp_path):
    m = shop
    lock = os.path.join(m.policies_dir, "shapes", f"{APP}.toml")
    drivers = os.path.join(m.policies_dir, "shapes", "drivers.toml")
    learned = run_flows(m, LEARN_VALUES)
    assert learned[("get_customer", "1")] == 1 and learned[("open_orders", "1")] >= 1

    # learn: the lock and the interpolation report.
    report = tmp_path / "interpolation.txt"
    r = pgmoat_cli("learn", "--lock", lock, "--app", APP, "--known", drivers, "--report", str(report), m.audit_path)
    assert r.returncode == 0, r.stderr
    text = open(lock).read()
    rep = report.read_text()
    # The report names each flow that splices a value, and no other.
    assert "SELECT id, total, status FROM orders WHERE id = $1" in rep
    assert "UPDATE orders SET status = $1 WHERE id = $2 AND status = $3" in rep
    assert "SELECT id, total FROM orders ORDER BY id DESC LIMIT $1" in rep
    spliced_part = rep.split("# Undetermined")[0]
    for benign in ("FROM customers WHERE id = $1", "status = $1 ORDER BY id LIMIT $2", "WHERE email = $1"):
        assert benign not in spliced_part, benign
    assert "pass $2 as a bind parameter" in rep  # the UPDATE's id; its 'cancelled' and 'open' are constants
    assert "password" not in rep and "c1@example.com" not in rep  # values are redacted
    # Constants of the code are locked with their values; spliced positions are not.
    block = text[text.index("WHERE customer_id = $1 AND status = $2"):]
    block = block[:block.find("[[shape]]") if "[[shape]]" in block else None]
    assert "{ position = \"$2\", value = \"'open'\" }" in block and "{ position = \"$3\", value = \"50\" }" in block
    assert text.count("[[shape]]") == len(FLOWS)
    # A second learn from the same log changes nothing: the file is stable.
    assert pgmoat_cli("learn", "--lock", lock, "--app", APP, "--known", drivers, "--report", str(report),
                      m.audit_path).returncode == 0
    assert open(lock).read() == text
    assert pgmoat_cli("shapes", "check", "--policies", m.policies_dir).returncode == 0

    # Enforce with the lock.
    switch_policy(m, ENFORCE, lambda: enforcing(m))
    # Rows (or rows changed) as the seeded data gives them: customer 9 has four open orders
    # (48 is paid), nobody's name holds "it's", order 13 is open.
    assert run_flows(m, PROD_VALUES) == {
        ("get_customer", "17"): 1, ("open_orders", "9"): 4, ("order_spliced", "42"): 1,
        ("search_customers", "%it's%"): 0, ("customer_total", "13"): 1, ("cancel_order_spliced", "13"): 1,
        ("customer_by_email", "c19@example.com"): 1, ("latest_orders_spliced", "3"): 3}
    for flow, payload in INJECTIONS:
        e = rejected(m, flow, payload)
        assert e is not None, f"{flow} ran with {payload!r}"
        assert sqlstate(e) == "42501", (flow, payload, e)
        assert SPLICED_SQL[flow].format(payload) not in postgres.log(), f"{payload!r} reached PostgreSQL"
    # The rejection names the shape, its normalized text and how it gets reviewed.
    e = rejected(m, "order_spliced", "(SELECT max(id) FROM orders)")
    msg = str(e)
    assert "new statement shape" in msg and "FROM orders WHERE id = (SELECT max(id) FROM orders)" in msg
    assert f"pgmoat shapes approve {lock}" in msg
    # A spliced value in a position learned as a constant.
    with psycopg.connect(m.dsn(APP, PASSWORD), autocommit=True) as c:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=r"\$2 of statement shape .* locked as the constant 'open'"):
            c.execute("SELECT id, total FROM orders WHERE customer_id = %s AND status = 'paid' ORDER BY id LIMIT 50", (1,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="locked as the constant 50"):
            c.execute("SELECT id, total FROM orders WHERE customer_id = %s AND status = 'open' ORDER BY id LIMIT 5000000",
                      (1,))
    assert "LIMIT 5000000" not in postgres.log()
    def rules():
        return {r.get("rule") for r in m.audit_records("statement") if r.get("decision") == "reject"}
    deadline = time.time() + 10
    while not {"new_shape", "shape_constant"} <= rules() and time.time() < deadline:
        time.sleep(0.2)  # records reach the file a moment after the rejection
    assert {"new_shape", "shape_constant"} <= rules()

    # An AI-style change adds one query: rejected as a new shape under enforce.
    ai = psycopg3_flow(*AI_QUERY)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="new statement shape"):
        ai(m)
    # The app's tests run in monitor mode (staging, CI) and are learned from.
    switch_policy(m, MONITOR)
    run_flows(m, PROD_VALUES)
    ai(m)
    ai(m)
    deadline = time.time() + 10
    while time.time() < deadline and sum(1 for r in m.audit_records("statement") if r.get("decision") != "reject"
                                         and "count(*) FROM orders WHERE customer_id" in r.get("statement", "")) < 2:
        time.sleep(0.2)
    # The whole log: its chain is verified; what was rejected never ran and teaches nothing.
    run_log = m.audit_path
    d = pgmoat_cli("shapes", "diff", lock, "--app", APP, "--known", drivers, str(run_log))
    assert d.returncode == 1, d.stdout + d.stderr
    added = [line for line in d.stdout.splitlines() if line.startswith(("+", "~"))]
    assert len(added) == 1, d.stdout
    assert added[0].endswith("SELECT count(*) FROM orders WHERE customer_id = $1 AND status = $2"), added
    fp = added[0].split()[1]
    # Back to enforcing, the added query is still refused until approved.
    switch_policy(m, ENFORCE, lambda: enforcing(m))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="new statement shape"):
        ai(m)
    reloads = len(m.audit_records("policy_reload"))
    a = pgmoat_cli("shapes", "approve", lock, "--app", APP, "--known", drivers, "--fingerprint", fp, str(run_log))
    assert a.returncode == 0, a.stderr
    assert pgmoat_cli("shapes", "diff", lock, "--app", APP, "--known", drivers, str(run_log)).returncode == 0
    # The lock's change in review is that one block.
    old_blocks, new_blocks = set(text.split("\n[[shape]]\n")[1:]), set(open(lock).read().split("\n[[shape]]\n")[1:])
    assert old_blocks <= new_blocks and len(new_blocks - old_blocks) == 1
    assert "SELECT count(*) FROM orders WHERE customer_id = $1 AND status = $2" in (new_blocks - old_blocks).pop()
    # Saving the lock file reloads it, as saving a policy does.
    deadline = time.time() + 15
    while len(m.audit_records("policy_reload")) <= reloads and time.time() < deadline:
        time.sleep(0.2)
    assert ai(m) == 1
    assert rejected(m, "order_spliced", "id") is not None


def test_shapes_commands_exit_codes(shop, tmp_path):
    lock = tmp_path / "lock.toml"
    lock.write_text("[[shape]]\nfingerprint = \"0000000000000001\"\nstatement = \"SELECT $1\"\n")
    r = pgmoat_cli("shapes", "list", str(lock))
    assert r.returncode == 0 and r.stdout.startswith("0000000000000001  SELECT $1")
    assert pgmoat_cli("shapes", "remove", str(lock), "0000000000000002").returncode == 1
    assert pgmoat_cli("shapes", "remove", str(lock), "0000000000000001").returncode == 0
    assert "[[shape]]" not in lock.read_text()
    assert pgmoat_cli("shapes", "frobnicate").returncode == 2
    assert pgmoat_cli("shapes", "diff", str(lock)).returncode == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[[shape]]\nfingerprint = 'nope'\n")
    r = pgmoat_cli("shapes", "list", str(bad))
    assert r.returncode == 2 and f"{bad}:2" in r.stderr
    # An edited audit log is not learned from.
    log = tmp_path / "audit.jsonl"
    with open(shop.audit_path) as f:
        lines = f.readlines()
    i = next(i for i, line in enumerate(lines) if '"app":"shop"' in line)
    lines[i] = lines[i].replace('"app":"shop"', '"app":"shoq"')
    log.write_text("".join(lines))
    r = pgmoat_cli("learn", "--lock", str(tmp_path / "x.toml"), str(log))
    assert r.returncode == 2 and "does not verify" in r.stderr


def test_a_policy_in_shapes_mode_needs_its_lock_and_check_finds_locked_shapes_the_policy_rejects(tmp_path):
    policies = tmp_path / "policies"
    (policies / "shapes").mkdir(parents=True)
    import shutil
    shutil.copy(os.path.join(ROOT, "policies", "baseline.toml"), policies / "baseline.toml")
    shutil.copy(os.path.join(ROOT, "policies", "shapes", "drivers.toml"), policies / "shapes" / "drivers.toml")
    (policies / "app.toml").write_text(ENFORCE.replace(f"shapes/{APP}.toml", "shapes/missing.toml"))
    r = pgmoat_cli("check", str(policies / "baseline.toml"), str(policies / "app.toml"))
    assert r.returncode == 1 and "app.toml:" in r.stderr and "missing.toml" in r.stderr
    (policies / "app.toml").write_text(ENFORCE)
    # A locked DELETE without WHERE and a pg_sleep: the policy rejects them anyway.
    lines = []
    for sql in ("DELETE FROM orders", "SELECT pg_sleep(5)", "SELECT id FROM orders WHERE id = 7"):
        e = pgmoat_cli("explain", "--app", "x", "--policies", os.path.join(ROOT, "policies"), "--json", sql)
        fp = json.loads(e.stdout)["analysis"]["statements"][0]["fingerprint"]
        norm = json.loads(e.stdout)["analysis"]["statements"][0]["normalized"]
        lines.append(f"[[shape]]\nfingerprint = \"{fp}\"\nstatement = '''{norm}'''\n")
    (policies / "shapes" / f"{APP}.toml").write_text("\n".join(lines))
    r = pgmoat_cli("shapes", "check", "--policies", str(policies))
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.count("rejected anyway") == 2
    assert 'rule "require_where"' in r.stdout and 'rule "function"' in r.stdout
