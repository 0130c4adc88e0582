"""The audit log seen from outside: records of real sessions, the hash chain
against tampering and rotation, the block failure policy, durability under
SIGKILL, and `pgmoat learn`."""
import json
import os
import shutil
import signal
import subprocess
import threading
import time

import psycopg
import pytest

from conftest import APP, fill, psql
from pgharness import PGMOAT_BIN, UPSTREAM_USER, Pgmoat

SECRET = "audit-secret-pass-77"


def wait_for(cond, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not met in {timeout}s")


def verify(*files, key=None):
    cmd = [PGMOAT_BIN, "audit", "verify", *files]
    if key:
        cmd[3:3] = ["--key", key]
    return subprocess.run(cmd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def audited(workdir, postgres):
    postgres.sql(f"CREATE TABLE IF NOT EXISTS audit_items (id serial PRIMARY KEY, v text); "
                 f"ALTER TABLE audit_items OWNER TO {UPSTREAM_USER}", "app")
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}, "prod": {"port": postgres.port}},
               apps={APP: (SECRET, ["dev"])}, server={"log_level": "info"}).start()
    yield m
    m.stop()


def test_sessions_leave_records_with_the_documented_fields(audited):
    with psycopg.connect(audited.dsn(APP, SECRET, application_name="billing")) as c:
        c.execute("INSERT INTO audit_items (v) VALUES (%s)", ("x",))
        assert c.execute("SELECT id, v FROM audit_items WHERE v = %s", ("x",)).fetchall()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("SELECT * FROM audit_items WHERE v = 'secret-value-123'")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(audited.dsn(APP, "wrong-password-1"))
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(audited.dsn(APP, SECRET, target="prod"))
    # Records of the refused logins are written as their connections end: wait for all.
    expected = {"log_opened", "pgmoat_start", "connection_accepted", "auth_succeeded", "auth_failed", "target_denied",
                "statement", "disconnect"}
    wait_for(lambda: expected <= {r["event"] for r in audited.audit_records()}, what="every event")
    stmts = [r for r in audited.audit_records("statement") if r.get("app") == APP]
    insert = next(r for r in stmts if r["statement_kind"] == "insert")
    assert insert["statement"] == "INSERT INTO audit_items (v) VALUES ($1)"
    assert insert["decision"] == "allow" and insert["sqlstate"] == "00000" and insert["rows"] == 1
    assert insert["relations"] == [{"name": "audit_items", "access": "insert"}]
    for field in ("time", "session", "upstream_user", "target", "database", "application_name", "client_addr",
                  "client_port", "fingerprint", "policy_version", "duration_us", "bytes_sent", "chain"):
        assert field in insert, field
    assert insert["application_name"] == "billing" and insert["upstream_user"] == UPSTREAM_USER
    select = next(r for r in stmts if r["statement_kind"] == "select" and r["decision"] == "allow")
    assert select["rows"] == 1
    rejected = next(r for r in stmts if r["decision"] == "reject")
    assert rejected["rule"] == "parameters" and rejected["sqlstate"] == "42501"
    assert rejected["policy_file"].endswith("baseline.toml") and rejected["policy_line"] > 0
    # Values and credentials never reach the log.
    text = open(audited.audit_path).read()
    assert "secret-value-123" not in text
    assert SECRET not in text and "wrong-password-1" not in text
    assert "c=biws" not in text and "n,,n=" not in text  # no SCRAM exchange
    failed = audited.audit_records("auth_failed")[-1]
    assert failed["app"] == APP and "reason" in failed
    assert audited.audit_records("target_denied")[-1]["target"] == "prod"


def test_a_prepared_statement_executed_many_times_gives_one_record_per_execution(audited):
    before = len(audited.audit_records("statement"))
    with psycopg.connect(audited.dsn(APP, SECRET), prepare_threshold=0) as c:
        for i in range(50):
            c.execute("SELECT v FROM audit_items WHERE id = %s", (i,))
    wait_for(lambda: len([r for r in audited.audit_records("statement")[before:]
                          if r["statement"] == "SELECT v FROM audit_items WHERE id = $1"]) == 50,
             what="50 records")


def test_pgbench_and_psql_sessions_are_recorded(audited):
    psql(audited, "SELECT count(*) FROM audit_items", password=SECRET)
    wait_for(lambda: any(r.get("statement") == "SELECT count(*) FROM audit_items"
                         for r in audited.audit_records("statement")), what="psql record")


def test_the_chain_verifies_and_every_kind_of_tampering_is_found(audited, tmp_path):
    with psycopg.connect(audited.dsn(APP, SECRET)) as c:
        for i in range(5):
            c.execute("SELECT v FROM audit_items WHERE id = %s", (i,))
    time.sleep(0.3)  # the interval fsync
    original = tmp_path / "audit.jsonl"
    shutil.copy(audited.audit_path, original)
    lines = original.read_text().splitlines(keepends=True)
    lines = lines[:len(lines) - (0 if lines[-1].endswith("\n") else 1)]
    assert len(lines) > 8
    ok = verify(str(original))
    assert ok.returncode == 0, ok.stdout + ok.stderr

    def tampered(name, new_lines):
        p = tmp_path / name
        p.write_text("".join(new_lines))
        r = verify(str(p))
        assert r.returncode != 0, name
        return r.stdout + r.stderr

    edited = list(lines)
    edited[5] = edited[5].replace('"decision":"allow"', '"decision":"reject"', 1) if '"decision":"allow"' in edited[5] \
        else edited[5].replace('"session":', '"session":9', 1)
    assert ":6" in tampered("edit.jsonl", edited) or "line 6" in tampered("edit.jsonl", edited)
    deleted = lines[:4] + lines[5:]
    assert "line 5" in tampered("delete.jsonl", deleted) or ":5" in tampered("delete.jsonl", deleted)
    swapped = lines[:3] + [lines[4], lines[3]] + lines[5:]
    assert "4" in tampered("swap.jsonl", swapped)
    truncated = tmp_path / "truncated.jsonl"
    truncated.write_text("".join(lines)[:-20])
    r = verify(str(truncated))
    assert r.returncode != 0 and "line" in (r.stdout + r.stderr)


def test_rotation_continues_the_chain_across_files(audited, tmp_path):
    rotated = audited.audit_path + ".1"
    os.rename(audited.audit_path, rotated)
    audited.proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: os.path.exists(audited.audit_path), what="reopened log")
    with psycopg.connect(audited.dsn(APP, SECRET)) as c:
        c.execute("SELECT v FROM audit_items WHERE id = %s", (1,))
    wait_for(lambda: audited.audit_records("statement"), what="records in the new file")
    time.sleep(0.3)
    r = verify(rotated, audited.audit_path)
    assert r.returncode == 0, r.stdout + r.stderr
    # The new file on its own, or the files out of order, do not verify as one chain.
    assert verify(audited.audit_path, rotated).returncode != 0


def test_learn_tells_static_literals_from_interpolated_values(workdir, postgres, tmp_path):
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={"learner": ("learner-pass-1", ["dev"])},
               policies={"learn.toml": '[policy]\nextends = "baseline"\nmode = "monitor"\n[applies_to]\napps = ["learner"]\n'
                                       '[audit]\nraw_statement = true\n'}).start()
    try:
        with psycopg.connect(m.dsn("learner", "learner-pass-1"), autocommit=True) as c:
            for i in range(3):
                c.execute("SELECT v FROM audit_items WHERE id = %s", (i,))                  # parameterized
                c.execute("SELECT count(*) FROM audit_items WHERE v = 'open'")               # static literal
                c.execute(f"SELECT v FROM audit_items WHERE v = 'user-{i}'")                 # interpolated
    finally:
        m.stop()
    r = subprocess.run([PGMOAT_BIN, "learn", "--app", "learner", m.audit_path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "text = \"SELECT count(*) FROM audit_items WHERE v = 'open'\"" in out
    interpolated = out[out.index("Built by string interpolation"):]
    assert "SELECT v FROM audit_items WHERE v = $1" in interpolated and "user-1" in interpolated
    assert "WHERE id = $1" not in out  # parameterized statements need nothing
    # The fragment is a policy pgmoat check accepts.
    policies = tmp_path / "policies"
    shutil.copytree(m.policies_dir, policies)
    os.remove(policies / "learn.toml")
    (policies / "learned.toml").write_text(out)
    check = subprocess.run([PGMOAT_BIN, "check", *[str(p) for p in sorted(policies.glob("*.toml"))]],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_block_policy_refuses_statements_while_the_log_cannot_be_written(workdir, postgres, tiny_fs):
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={APP: (SECRET, ["dev"])},
               extra=f'[audit]\npath = "{tiny_fs}/audit.jsonl"\nfailure_policy = "block"\n').start()
    try:
        with psycopg.connect(m.dsn(APP, SECRET), autocommit=True) as c:
            assert c.execute("SELECT v FROM audit_items WHERE id = %s", (1,)) is not None
            filler = fill(tiny_fs)
            refused = None
            for i in range(200):
                try:
                    c.execute("SELECT v FROM audit_items WHERE v = %s", (f"probe-{i}",))
                except psycopg.errors.IoError as e:  # 58030
                    refused = e
                    break
                time.sleep(0.02)
            assert refused is not None, "statements kept running with a full audit disk"
            assert "audit log cannot be written" in str(refused)
            with pytest.raises(psycopg.errors.IoError):
                c.execute("SELECT v FROM audit_items WHERE v = %s", ("never-ran-marker",))
            assert "never-ran-marker" not in postgres.log()
            os.remove(filler)
            wait_for(lambda: _runs(c), timeout=15, what="service to resume")
        assert "audit log" in m.log()
    finally:
        m.stop()
    r = verify(f"{tiny_fs}/audit.jsonl")
    assert r.returncode == 0, r.stdout + r.stderr  # no half-written line left behind


def _runs(c):
    try:
        c.execute("SELECT v FROM audit_items WHERE id = %s", (2,))
        return True
    except psycopg.errors.IoError:
        return False


def test_every_result_a_client_saw_is_in_the_log_after_sigkill(workdir, postgres):
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}}, apps={"durable": ("durable-pass-1", ["dev"])},
               policies={"durable.toml": '[policy]\nextends = "baseline"\n[applies_to]\napps = ["durable"]\n'
                                         '[audit]\nparameters = true\n'},
               extra='[audit]\nfsync = "every_record"\n').start()
    acknowledged = []
    lock = threading.Lock()
    stop = threading.Event()

    def worker(n):
        try:
            with psycopg.connect(m.dsn("durable", "durable-pass-1"), autocommit=True) as c:
                i = 0
                while not stop.is_set():
                    marker = f"m-{n}-{i}"
                    c.execute("INSERT INTO audit_items (v) VALUES (%s) RETURNING id", (marker,)).fetchone()
                    with lock:
                        acknowledged.append(marker)
                    i += 1
        except psycopg.Error:
            pass

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    m.proc.send_signal(signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    m.proc.wait()
    logged = set()
    with open(m.audit_path) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue  # a line cut by the kill
            for p in r.get("parameters") or []:
                logged.add(p)
    assert len(acknowledged) > 50
    missing = [a for a in acknowledged if a not in logged]
    assert not missing, f"{len(missing)} acknowledged statements missing from the audit log, e.g. {missing[:3]}"
