"""The policy corpora (tests/data/policy/) through a real pgmoat in enforce mode
with the shipped policies, in front of PostgreSQL 15 with log_statement = all:
every statement ORMs and drivers send goes through untouched, every attack gets
pgmoat's ErrorResponse and never reaches the server."""
import os
import re
import select
import time
import tomllib

import psycopg
import pytest
from psycopg import pq

from conftest import APP, APP_PASSWORD
from pgharness import ROOT, UPSTREAM_PASSWORD, UPSTREAM_USER, Pgmoat

DATA = os.path.join(ROOT, "tests", "data", "policy")
DECOY = "pgmoat_rejected_statement"


def load(name, key):
    with open(os.path.join(DATA, name), "rb") as f:
        return tomllib.load(f)[key]


FALSE_POSITIVES = load("false_positives.toml", "statement")
ATTACKS = load("attacks.toml", "attack")


@pytest.fixture(scope="module")
def corpus_pgmoat(workdir, postgres):
    # The schema is created directly on the server, as the role pgmoat logs in as.
    with open(os.path.join(DATA, "schema.sql")) as f:
        schema = f.read()
    with psycopg.connect(postgres.dsn(dbname="app", user=UPSTREAM_USER, password=UPSTREAM_PASSWORD),
                         autocommit=True) as conn:
        conn.execute(schema)
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={APP: (APP_PASSWORD, ["dev"])}).start()
    yield m
    m.stop()


def connect(pgmoat):
    return psycopg.connect(pgmoat.dsn(APP, APP_PASSWORD, "dev"), autocommit=True)


def error_of(res):
    """(sqlstate, message) of a failed result, None for success."""
    if res is None or res.status != pq.ExecStatus.FATAL_ERROR:
        return None
    field = lambda f: (res.error_field(f) or b"").decode(errors="replace")
    return field(pq.DiagnosticField.SQLSTATE), field(pq.DiagnosticField.MESSAGE_PRIMARY)


# Every exchange gets an answer within this long, or the test fails instead of
# hanging the suite.
STEP_TIMEOUT = 15

# A valid, empty binary COPY stream: signature, flags, header extension, trailer.
BINARY_COPY = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00" + b"\xff\xff"


def wait_readable(pgconn, deadline):
    left = deadline - time.monotonic()
    if left <= 0 or not select.select([pgconn.socket], [], [], left)[0]:
        raise TimeoutError(f"no answer through pgmoat within {STEP_TIMEOUT} s")
    pgconn.consume_input()


def results(pgconn, sql=""):
    """Collects everything the server answers to what was just sent, completing
    COPY on the way; returns the first error, else the last result."""
    deadline = time.monotonic() + STEP_TIMEOUT
    first_error = last = None
    while True:
        while pgconn.is_busy():
            wait_readable(pgconn, deadline)
        res = pgconn.get_result()
        if res is None:
            return first_error or last
        if res.status == pq.ExecStatus.COPY_IN:
            if re.search(r"\bbinary\b", sql, re.I):
                pgconn.put_copy_data(BINARY_COPY)
            pgconn.put_copy_end()
            continue
        if res.status == pq.ExecStatus.COPY_OUT:
            while True:
                n, _ = pgconn.get_copy_data(1)
                if n == 0:
                    wait_readable(pgconn, deadline)
                elif n < 0:
                    break
            continue
        if res.status == pq.ExecStatus.FATAL_ERROR and first_error is None:
            first_error = res
        last = res


def simple(pgconn, sql):
    pgconn.send_query(sql.encode())
    return results(pgconn, sql)


def parse(pgconn, sql):
    pgconn.send_prepare(b"", sql.encode())
    return results(pgconn)


def describe(pgconn):
    pgconn.send_describe_prepared(b"")
    return results(pgconn)


def execute(pgconn, values):
    pgconn.send_query_prepared(b"", values)
    return results(pgconn)


def parse_bind_execute(pgconn, sql, values):
    pgconn.send_query_params(sql.encode(), values)
    return results(pgconn)


def run_false_positive(pgconn, entry):
    """Runs one statement in a transaction that is rolled back; returns the first
    error as (step, sqlstate, message), or None."""
    try:
        steps = [("BEGIN", lambda: simple(pgconn, "BEGIN"))]
        for s in entry.get("setup", []):
            steps.append((f"setup {s!r}", lambda s=s: simple(pgconn, s)))
        sql = entry["sql"]
        if entry.get("protocol", "extended") == "simple":
            steps.append(("Query", lambda: simple(pgconn, sql)))
        else:
            steps.append(("Parse", lambda: parse(pgconn, sql)))
            steps.append(("Describe", lambda: describe(pgconn)))
            if "params" in entry:
                values = [None if isinstance(p, dict) else str(p).encode() for p in entry["params"]]
                steps.append(("Bind/Execute", lambda: execute(pgconn, values)))
        for name, step in steps:
            err = error_of(step())
            if err:
                return (name,) + err
        return None
    finally:
        simple(pgconn, "ROLLBACK")


def test_every_false_positive_passes_through_pgmoat(corpus_pgmoat):
    failures = []
    ran = 0
    with connect(corpus_pgmoat) as conn:
        pgconn = conn.pgconn
        for entry in FALSE_POSITIVES:
            if "known_gap" in entry:
                continue
            ran += 1
            err = run_false_positive(pgconn, entry)
            if err:
                failures.append(f"[{entry['source']}] {entry['sql']!r}\n    {err[0]}: {err[1]} {err[2]}")
            assert pgconn.transaction_status == pq.TransactionStatus.IDLE, entry["sql"]
    assert ran >= 220
    assert not failures, f"{len(failures)} of {ran} statements failed:\n" + "\n".join(failures) + \
        "\npgmoat log:\n" + corpus_pgmoat.log()[-3000:]


def param_count(sql):
    return max((int(n) for n in re.findall(r"\$(\d+)", sql)), default=0)


def expected_sqlstate(rule):
    return {"unparseable": "42601", "too_large": "54000", "too_deep": "54001"}.get(rule, "42501")


def logged_statements(log):
    """Every statement text PostgreSQL logged as run or failed (log_statement = all,
    log_min_error_statement = error), continuation lines joined back."""
    out = set()
    current = None
    for line in log.splitlines():
        m = re.match(r"^\S+ \S+ \S+ \[\d+\] \S+ (LOG|STATEMENT|DETAIL|ERROR|FATAL|WARNING|HINT|NOTICE|CONTEXT):  (.*)$",
                     line)
        if m:
            if current is not None:
                out.add(current.strip())
            current = None
            kind, rest = m.groups()
            if kind == "LOG":
                m2 = re.match(r"^(?:statement|execute [^:]*|parse [^:]*|bind [^:]*): (.*)$", rest)
                if m2:
                    current = m2.group(1)
            elif kind == "STATEMENT":
                current = rest
        elif current is not None and line.startswith("\t"):
            current += "\n" + line[1:]
    if current is not None:
        out.add(current.strip())
    return out


def test_every_attack_is_rejected_and_never_reaches_the_server(corpus_pgmoat, postgres):
    active = [a for a in ATTACKS if "known_gap" not in a]
    assert len(active) >= 220
    failures = []
    with connect(corpus_pgmoat) as conn:
        pgconn = conn.pgconn
        # Should an attack get through, a pg_sleep in it cannot stall the run.
        assert error_of(simple(pgconn, "SET statement_timeout = '3s'")) is None
        for attack in active:
            sql = attack["sql"]
            if attack.get("protocol", "simple") == "extended":
                # Parse, Bind, Describe, Execute, Sync: should the Parse get through,
                # the statement runs and PostgreSQL's log shows it.
                res = parse_bind_execute(pgconn, sql, [None] * param_count(sql))
            else:
                res = simple(pgconn, sql)
            err = error_of(res)
            want = expected_sqlstate(attack["expect"])
            if err is None or not err[1].startswith("pgmoat:"):
                # It ran: undo what it may have changed in the session.
                simple(pgconn, "ROLLBACK")
                simple(pgconn, "SET statement_timeout = '3s'")
            if err is None:
                status = pq.ExecStatus(res.status).name if res is not None else "no result"
                failures.append(f"[{attack['category']}] {sql!r}: not rejected ({status})")
            elif err[0] != want or not err[1].startswith("pgmoat:"):
                failures.append(f"[{attack['category']}] {sql!r}: {err[0]} {err[1]} (want {want} from pgmoat)")
            # The session stays usable, outside any transaction.
            after = error_of(simple(pgconn, "SELECT 1"))
            if after or pgconn.transaction_status != pq.TransactionStatus.IDLE:
                failures.append(f"[{attack['category']}] {sql!r}: session unusable afterwards: {after}")
                simple(pgconn, "ROLLBACK")
    assert not failures, f"{len(failures)} of {len(active)} attacks:\n" + "\n".join(failures)

    log = postgres.log()
    seen = logged_statements(log)
    # The log is read correctly: what this test itself sent through pgmoat is in it.
    assert "SET statement_timeout = '3s'" in seen and "SELECT 1" in seen and DECOY in seen
    # pgmoat replaced each rejected statement by its decoy, which PostgreSQL refused.
    assert log.count(DECOY) >= len(active)
    legit = [e["sql"] for e in FALSE_POSITIVES] + [s for e in FALSE_POSITIVES for s in e.get("setup", [])]
    with open(os.path.join(DATA, "schema.sql")) as f:
        legit.append(f.read())
    leaked = []
    for attack in active:
        text = attack["sql"].strip()
        if text in seen:
            leaked.append(text)
            continue
        # The whole text anywhere in the log, as PostgreSQL prints it (continuation
        # lines indented by a tab), unless it is also part of a legitimate statement.
        needle = text.replace("\n", "\n\t")
        if needle in log and not any(text in other for other in legit):
            leaked.append(text)
    assert not leaked, "attack texts in PostgreSQL's log:\n" + "\n".join(map(repr, leaked))
