"""The ORM false-positive matrix (issue 13): real ORM apps, installed from npm and
Debian, run the same eleven flows of a customers-and-orders app through pgmoat
against PostgreSQL 15.

Under the shipped baseline ENFORCING every flow must pass: pgmoat rejects none of
the statements the ORM writes, and the flow's result is what PostgreSQL itself
computes. A flow that the baseline breaks today is an xfail naming the statement
and the rule that reject it (KNOWN_REJECTIONS, taken from a real run): strict, and
only for exactly that rejection, so the marker must go the moment a fix lands and
any other failure fails.

Each stack also runs once under the baseline in monitor mode with raw statements
in the audit log: every flow must pass there (nothing is rejected), and every
statement that WOULD be rejected is written, with pgmoat explain's analysis, to a
JSON report in the test's temporary directory and summed up at the end of the
module. tests/data/orms/would_reject.json is its committed snapshot, the worklist
for the analyzer; tests/integration/orms/README.md says how to regenerate it."""
import collections
import concurrent.futures
import datetime
import json
import os
import subprocess

import psycopg
import pytest

from orms.known_rejections import KNOWN_REJECTIONS
from pgharness import PGMOAT_BIN, ROOT, UPSTREAM_PASSWORD, UPSTREAM_USER, Pgmoat

ORMS = os.path.join(ROOT, "tests", "integration", "orms")
NODE_DIR = os.path.join(ORMS, "node")
SNAPSHOT = os.path.join(ROOT, "tests", "data", "orms", "would_reject.json")
KNOWN_REJECTIONS_FILE = os.path.join(ORMS, "known_rejections.py")
# PGMOAT_ORMS_UPDATE=1: write the snapshot and KNOWN_REJECTIONS from this run.
UPDATE = bool(os.environ.get("PGMOAT_ORMS_UPDATE"))
with open(os.path.join(ORMS, "flows.json")) as _f:
    SPEC = json.load(_f)
FLOWS = SPEC["flows"]

# stack -> the runner of its app, which takes the stack and a connection URL.
NODE = ["node", os.path.join(NODE_DIR, "run.js")]
PYTHON = ["/usr/bin/python3", os.path.join(ORMS, "python", "run.py")]
RUBY = ["ruby", os.path.join(ORMS, "ruby", "activerecord.rb")]
STACKS = {
    "prisma": NODE, "drizzle": NODE, "typeorm": NODE, "knex": NODE, "kysely": NODE, "sequelize": NODE,
    "sqlalchemy-psycopg2": PYTHON, "sqlalchemy-asyncpg": PYTHON, "django-psycopg2": PYTHON,
    "activerecord": RUBY,
}

ENFORCE_APP, ENFORCE_PASSWORD = "orm-enforce", "orm-enforce-pass-123"
LOCKED_APP, LOCKED_PASSWORD = "orm-locked", "orm-locked-pass-123"
# The stacks that bind values on the client: under the baseline their every
# statement carries literals; under a shape lock learned from their monitor run
# (learn --lock, the shipped drivers' list as --known) every flow must pass.
# ActiveRecord binds parameters but quotes values into the text itself in
# where("name ILIKE ?", …) and upsert_all, so two of its flows are here too.
CLIENT_SIDE_BINDING = ["sequelize", "django-psycopg2", "sqlalchemy-psycopg2", "activerecord"]
DRIVERS_LOCK = os.path.join(ROOT, "policies", "shapes", "drivers.toml")
MONITOR_APP, MONITOR_PASSWORD = "orm-monitor", "orm-monitor-pass-123"
MONITOR_POLICY = f"""
[policy]
extends = "baseline"
mode = "monitor"
description = "The baseline in monitor mode with raw statements: the ORM matrix's would-reject report"
[applies_to]
apps = ["{MONITOR_APP}"]
[audit]
raw_statement = true
"""


class KnownRejection(Exception):
    """The flow failed exactly as KNOWN_REJECTIONS says it does today."""


def matrix_params():
    out = []
    for stack in STACKS:
        for flow in FLOWS:
            marks = []
            known = KNOWN_REJECTIONS.get((stack, flow))
            if known:
                rule, statement = known
                marks.append(pytest.mark.xfail(strict=True, raises=KnownRejection,
                                               reason=f'rule "{rule}" rejects: {statement}'))
            out.append(pytest.param(stack, flow, marks=marks, id=f"{stack}:{flow}"))
    return out


def target_of(mode, stack):
    return f"{mode}_{stack.replace('-', '_')}"


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Run:
    """One stack's app run against pgmoat: its flow lines and, per flow, the audit
    records of its statements (attributed by time: flows run one after another)."""

    def __init__(self, stack, mode, proc, records):
        self.stack, self.mode = stack, mode
        self.output = f"exit {proc.returncode}; stdout:\n{proc.stdout[-2000:]}\nstderr:\n{proc.stderr[-3000:]}"
        self.lines = {}
        for text in proc.stdout.splitlines():
            if text.startswith('{"flow"'):  # anything else is the stack talking to itself
                line = json.loads(text)
                self.lines[line["flow"]] = line
        self.records = collections.defaultdict(list)
        starts = [(self.lines[f]["start"], f) for f in FLOWS if f in self.lines]
        for r in records:
            t = parse_time(r["time"])
            flow = starts[0][1] if starts else None
            for start, f in starts:
                if t >= start:
                    flow = f
            self.records[flow].append(r)

    def problem(self):
        """Why this run cannot be judged flow by flow, or None."""
        missing = [f for f in FLOWS if f not in self.lines]
        if missing:
            return f"{self.stack} ({self.mode}) printed no line for {missing}: {self.output}"
        return None


def run_stack(pgmoat, stack, mode):
    app, password = {"enforce": (ENFORCE_APP, ENFORCE_PASSWORD), "monitor": (MONITOR_APP, MONITOR_PASSWORD),
                     "locked": (LOCKED_APP, LOCKED_PASSWORD)}[mode]
    url = f"postgresql://{app}:{password}@127.0.0.1:{pgmoat.port}/{target_of(mode, stack)}"
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    return subprocess.run(STACKS[stack] + [stack, url], capture_output=True, text=True, timeout=120, env=env)


def expected_values(postgres):
    """Each flow's result as PostgreSQL computes it on the seeded template."""
    with psycopg.connect(postgres.dsn(dbname="orm_template")) as c:
        one = lambda sql, *args: c.execute(sql, args).fetchone()[0]
        rows = lambda sql, *args: c.execute(sql, args).fetchall()
        fp, j, t = SPEC["filter_paginate"], SPEC["join"], SPEC["transaction"]
        joined = collections.OrderedDict()
        for order_id, sku, quantity in rows(
                "SELECT o.id, p.sku, i.quantity FROM orders o JOIN order_items i ON i.order_id = o.id "
                "JOIN products p ON p.id = i.product_id WHERE o.customer_id = %s ORDER BY o.id, i.id", j["customer_id"]):
            joined.setdefault(order_id, []).append([sku, quantity])
        return {
            "introspection": True,
            "filter_paginate": [r[0] for r in rows(
                "SELECT id FROM customers WHERE deleted_at IS NULL AND country = %s "
                "ORDER BY created_at DESC, id LIMIT %s OFFSET %s",
                fp["country"], fp["page_size"], (fp["page"] - 1) * fp["page_size"])],
            "get_by_id": one("SELECT email FROM customers WHERE id = %s", SPEC["get_by_id"]["id"]),
            "search": [r[0] for r in rows("SELECT id FROM customers WHERE deleted_at IS NULL AND name ILIKE %s "
                                          "ORDER BY id", f"%{SPEC['search']['term']}%")],
            "aggregate": [[s, n, f"{total:.2f}"] for s, n, total in rows(
                "SELECT status, count(*), sum(total) FROM orders GROUP BY status ORDER BY status")],
            "join": [[k, v] for k, v in joined.items()],
            "create": None,  # per stack: see expected()
            "update": SPEC["update"]["name"],
            "soft_delete": False,
            "transaction": {"orders": one("SELECT count(*) FROM orders WHERE customer_id = %s", t["customer_id"]) + 1,
                            "rolled_back_with": "23503"},
            "upsert": [SPEC["upsert"]["name"], SPEC["upsert"]["price"]],
        }


def expected(values, stack, flow):
    if flow == "create":
        return f"{SPEC['create']['email_prefix']}{stack}@example.com"
    return values[flow]


def explain(sql):
    """pgmoat explain's verdict on sql under the shipped policies, for the app
    the shipped baseline judges."""
    for extended in ([], ["--extended"]):
        r = subprocess.run([PGMOAT_BIN, "explain", "--app", ENFORCE_APP, "--policies", os.path.join(ROOT, "policies"),
                            "--json", *extended, "-"], input=sql, capture_output=True, text=True)
        out = json.loads(r.stdout)
        if out.get("rule") != "stacked_statements":
            return out
    return out


def would_reject_report(monitor_runs):
    """Every statement the baseline would reject, per stack and flow, with the
    literal (and its context) that decided, from pgmoat explain's analysis."""
    entries = {}
    for stack, run in monitor_runs.items():
        for flow in FLOWS:
            for r in run.records.get(flow, []):
                if r.get("decision") != "would_reject":
                    continue
                key = (stack, flow, r["rule"], r["statement"])
                if key in entries:
                    entries[key]["executions"] += 1
                    continue
                verdict = explain(r["raw_statement"])
                analysis = verdict.get("analysis", {}).get("statements") or [{}]
                position = verdict.get("error", {}).get("position")
                literal = next((lit for st in analysis for lit in st.get("literals", [])
                                if position is not None and lit["position"] == position), None)
                entries[key] = {
                    "stack": stack, "flow": flow, "rule": r["rule"], "statement": r["statement"],
                    "fingerprint": r.get("fingerprint"), "message": verdict.get("error", {}).get("message"),
                    "literal": literal, "explain_rule": verdict.get("rule"), "executions": 1,
                }
    order = {f: i for i, f in enumerate(FLOWS)}
    stacks = {s: i for i, s in enumerate(STACKS)}
    return sorted(entries.values(), key=lambda e: (stacks[e["stack"]], order[e["flow"]], e["rule"], e["statement"]))


def versions():
    """The version of every ORM and driver the matrix ran."""
    out = {}
    for pkg in ("prisma", "@prisma/client", "@prisma/adapter-pg", "drizzle-orm", "typeorm", "knex", "kysely",
                "sequelize", "pg"):
        path = os.path.join(NODE_DIR, "node_modules", pkg, "package.json")
        if os.path.exists(path):
            with open(path) as f:
                out[f"npm:{pkg}"] = json.load(f)["version"]
    debs = ["python3-sqlalchemy", "python3-django", "python3-psycopg2", "python3-asyncpg", "ruby-activerecord",
            "ruby-pg", "nodejs"]
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\n", *debs], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        name, _, version = line.partition(" ")
        out[f"debian:{name}"] = version
    out["node"] = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return out


def write_known_rejections(enforce_runs):
    """orms/known_rejections.py from this run's enforce mode: per (stack, flow),
    the rule and normalized text of the first statement the baseline rejected."""
    lines = ['"""What the shipped baseline rejects today in the ORM matrix (test_orms.py): per',
             "(stack, flow), the rule and the normalized text of the first statement it rejects.",
             "Written from a real run by PGMOAT_ORMS_UPDATE=1 (see README.md here); when a fix",
             'makes a flow pass, its strict xfail fails: delete its entry or regenerate."""',
             "KNOWN_REJECTIONS = {"]
    for stack, run in enforce_runs.items():
        for flow in FLOWS:
            first = first_rejection(run, flow)
            if first:
                lines.append(f"    ({stack!r}, {flow!r}):\n        ({first['rule']!r}, {first['statement']!r}),")
    with open(KNOWN_REJECTIONS_FILE, "w") as f:
        f.write("\n".join(lines + ["}"]) + "\n")


@pytest.fixture(scope="module")
def matrix(workdir, postgres, request, tmp_path_factory):
    if not os.path.isdir(os.path.join(NODE_DIR, "generated", "prisma")):
        pytest.fail("the ORM apps are not installed: run `npm ci --ignore-scripts` and `npm run generate` in "
                    "tests/integration/orms/node (scripts/test.sh does)")
    postgres.sql(f"CREATE DATABASE orm_template OWNER {UPSTREAM_USER}")
    with open(os.path.join(ORMS, "schema.sql")) as f:
        schema = f.read()
    with psycopg.connect(postgres.dsn(dbname="orm_template", user=UPSTREAM_USER, password=UPSTREAM_PASSWORD),
                         autocommit=True) as c:
        c.execute(schema)
    targets = {}
    for mode in ("enforce", "monitor"):
        for stack in STACKS:
            name = target_of(mode, stack)
            postgres.sql(f"CREATE DATABASE orm_{name} TEMPLATE orm_template OWNER {UPSTREAM_USER}")
            targets[name] = {"port": postgres.port, "database": f"orm_{name}"}
    # Every record is durable before its result reaches the app, so each record's
    # time falls inside the flow that caused it.
    m = Pgmoat(workdir, targets=targets,
               apps={ENFORCE_APP: (ENFORCE_PASSWORD, list(targets)), MONITOR_APP: (MONITOR_PASSWORD, list(targets))},
               policies={"orm-monitor.toml": MONITOR_POLICY}, server={"log_level": "info"},
               extra='[audit]\nfsync = "every_record"\n').start()
    try:
        jobs = [(stack, mode) for stack in STACKS for mode in ("enforce", "monitor")]
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            procs = dict(zip(jobs, pool.map(lambda job: run_stack(m, *job), jobs)))
    finally:
        m.stop()
    records = collections.defaultdict(list)
    for r in m.audit_records("statement"):
        records[(r.get("app"), r.get("target"))].append(r)
    result = {"enforce": {}, "monitor": {}}
    for (stack, mode), proc in procs.items():
        app = ENFORCE_APP if mode == "enforce" else MONITOR_APP
        result[mode][stack] = Run(stack, mode, proc, records[(app, target_of(mode, stack))])
    result["audit_path"] = m.audit_path
    result["expected"] = expected_values(postgres)
    result["report"] = would_reject_report(result["monitor"])
    result["report_path"] = SNAPSHOT if UPDATE else str(tmp_path_factory.mktemp("orms") / "would_reject.json")
    doc = {"versions": versions(), "would_reject": result["report"]}
    os.makedirs(os.path.dirname(result["report_path"]), exist_ok=True)
    with open(result["report_path"], "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write("\n")
    if UPDATE:
        write_known_rejections(result["enforce"])
    yield result
    summarize(request.config, result)


def summarize(config, result):
    """The matrix and the would-reject report, printed at the end of the module
    (past pytest's capture, which would otherwise swallow a fixture's output)."""
    tr = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if tr is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        write_summary(tr, result)


def write_summary(tr, result):
    tr.write_line("")
    tr.write_sep("=", "ORM matrix under the shipped baseline (enforce)")
    width = max(len(s) for s in STACKS)
    tr.write_line(" " * width + "  " + " ".join(f[:6].ljust(6) for f in FLOWS))
    for stack, run in result["enforce"].items():
        cells = []
        for flow in FLOWS:
            line = run.lines.get(flow, {})
            rejected = any(r.get("decision") == "reject" for r in run.records.get(flow, []))
            cells.append(("REJ" if rejected else "ok" if line.get("ok") else "FAIL").ljust(6))
        tr.write_line(stack.ljust(width) + "  " + " ".join(cells))
    tr.write_sep("=", "statements the shipped baseline would reject (monitor mode)")
    for e in result["report"]:
        lit = e["literal"]
        where = f"{lit['text']} ({lit['context']} in {lit['clause']})" if lit else "-"
        text = " ".join(e["statement"].split())
        tr.write_line(f"{e['stack']} {e['flow']} {e['rule']} {where}: {text[:140]}{'…' if len(text) > 140 else ''}")
    by_rule = collections.Counter(e["rule"] for e in result["report"])
    tr.write_line(f"{len(result['report'])} statements (by rule: {dict(by_rule)}); report: {result['report_path']}")
    if not UPDATE and os.path.exists(SNAPSHOT):
        with open(SNAPSHOT) as f:
            committed = {entry_key(e) for e in json.load(f)["would_reject"]}
        now = {entry_key(e) for e in result["report"]}
        if committed != now:
            tr.write_line(f"the report differs from {SNAPSHOT}: {len(now - committed)} statements new, "
                          f"{len(committed - now)} gone (PGMOAT_ORMS_UPDATE=1 regenerates it)")


def entry_key(e):
    return e["stack"], e["flow"], e["rule"], e["statement"]


def first_rejection(run, flow):
    return next((r for r in run.records.get(flow, []) if r.get("decision") == "reject"), None)


@pytest.mark.parametrize("stack,flow", matrix_params())
def test_flow_passes_the_shipped_baseline(matrix, stack, flow):
    run = matrix["enforce"][stack]
    assert run.problem() is None, run.problem()
    line = run.lines[flow]
    rejected = first_rejection(run, flow)
    if rejected:
        found = (rejected["rule"], rejected["statement"])
        if KNOWN_REJECTIONS.get((stack, flow)) == found:
            raise KnownRejection(f'rule "{found[0]}" rejects: {found[1]}')
        pytest.fail(f'pgmoat rejected a statement of {stack} {flow}: rule "{found[0]}": {found[1]}\n'
                    f"the app saw: {line.get('sqlstate')} {line.get('error')}")
    assert line["ok"], f"{stack} {flow} failed without a rejection: {line.get('sqlstate')} {line.get('error')}"
    assert line["value"] == expected(matrix["expected"], stack, flow)


@pytest.mark.parametrize("stack", list(STACKS))
def test_every_flow_runs_in_monitor_mode(matrix, stack):
    # Nothing is rejected in monitor mode: each app's flows give PostgreSQL's own
    # answers through pgmoat, so a failure under enforce is the policy's doing.
    run = matrix["monitor"][stack]
    assert run.problem() is None, run.problem()
    for flow in FLOWS:
        line = run.lines[flow]
        assert line["ok"], f"{stack} {flow}: {line.get('sqlstate')} {line.get('error')}"
        assert line["value"] == expected(matrix["expected"], stack, flow), flow
        # Each flow's statements are told apart (only connecting may send none).
        assert flow == "introspection" or run.records.get(flow), f"no statement of {flow} in the audit log"
    assert not any(r.get("decision") == "reject" for rs in run.records.values() for r in rs)


def test_would_reject_report_explains_every_enforced_rejection(matrix):
    report = matrix["report"]
    assert report, "the baseline would reject nothing the ORMs send: regenerate KNOWN_REJECTIONS and the snapshot"
    for e in report:
        # pgmoat explain, given the text the app sent, reaches the same verdict
        # as the proxy did in the session.
        assert e["explain_rule"] == e["rule"], e
        if e["rule"] == "parameters":
            assert e["literal"] is not None, e
    # Every rejection under enforce is in the report for the same stack (for a
    # later flow too: a stack whose connect is rejected connects again in each).
    seen = {(e["stack"], e["rule"], e["statement"]) for e in report}
    for stack, run in matrix["enforce"].items():
        for flow in FLOWS:
            r = first_rejection(run, flow)
            if r:
                assert (stack, r["rule"], r["statement"]) in seen, (stack, flow, r["statement"])
    with open(matrix["report_path"]) as f:
        doc = json.load(f)
    assert doc["would_reject"] == report and doc["versions"]


def locked_policy(stack):
    return f"""
[policy]
extends = "baseline"
description = "{stack} under the shape lock learned from its monitor run"
[applies_to]
apps = ["{LOCKED_APP}"]
targets = ["{target_of('locked', stack)}"]
[parameters]
mode = "shapes"
shapes = ["shapes/drivers.toml", "shapes/{stack}.toml"]
"""


@pytest.fixture(scope="module")
def locked(matrix, workdir, postgres):
    """The client-side-binding stacks again, each under a lock learned from its own
    monitor run, enforcing."""
    targets, policies, locks = {}, {}, {}
    for stack in CLIENT_SIDE_BINDING:
        name = target_of("locked", stack)
        postgres.sql(f"CREATE DATABASE orm_{name} TEMPLATE orm_template OWNER {UPSTREAM_USER}")
        targets[name] = {"port": postgres.port, "database": f"orm_{name}"}
        policies[f"orm-locked-{stack}.toml"] = locked_policy(stack)
    m = Pgmoat(workdir, targets=targets, apps={LOCKED_APP: (LOCKED_PASSWORD, list(targets))}, policies=policies,
               server={"log_level": "info"}, extra='[audit]\nfsync = "every_record"\n')
    for stack in CLIENT_SIDE_BINDING:
        lock = os.path.join(m.policies_dir, "shapes", f"{stack}.toml")
        r = subprocess.run([PGMOAT_BIN, "learn", "--lock", lock, "--app", MONITOR_APP, "--target",
                            target_of("monitor", stack), "--known", DRIVERS_LOCK, matrix["audit_path"]],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        with open(lock) as f:
            locks[stack] = f.read()
    m.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            procs = dict(zip(CLIENT_SIDE_BINDING, pool.map(lambda stack: run_stack(m, stack, "locked"),
                                                           CLIENT_SIDE_BINDING)))
    finally:
        m.stop()
    records = collections.defaultdict(list)
    for r in m.audit_records("statement"):
        records[r.get("target")].append(r)
    yield {stack: Run(stack, "locked", proc, records[target_of("locked", stack)]) for stack, proc in procs.items()}, locks


@pytest.mark.parametrize("stack", CLIENT_SIDE_BINDING)
def test_client_side_binding_stack_passes_every_flow_under_its_learned_lock(matrix, locked, stack):
    runs, locks = locked
    run = runs[stack]
    assert run.problem() is None, run.problem()
    assert "[[shape]]" in locks[stack]
    # The stack's own catalog look-ups come from the shipped list, not from its lock.
    assert "pg_type" not in locks[stack] and "version()" not in locks[stack], locks[stack]
    for flow in FLOWS:
        rejected = first_rejection(run, flow)
        assert rejected is None, f'{stack} {flow}: rule "{rejected["rule"]}" rejects: {rejected["statement"]}'
        line = run.lines[flow]
        assert line["ok"], f"{stack} {flow}: {line.get('sqlstate')} {line.get('error')}"
        assert line["value"] == expected(matrix["expected"], stack, flow), flow
