"""Bypass attempts against the shipped baseline in enforce mode, through real
clients and raw protocol. Each attack carries a unique marker; PostgreSQL's own
log (log_statement = all) must show that the attack never ran, and the data it
aimed at must be intact. Findings that still work are strict xfails naming the
fix (see SECURITY.md)."""
import json
import struct
import time
import uuid

import psycopg
import pytest

import pgwire
from conftest import APP, APP_PASSWORD, row_cap_policy
from pgharness import UPSTREAM_USER, Pgmoat

CAPPED, CAPPED_PASSWORD = "capped-app", "capped-pass-123"
ANALYST, ANALYST_PASSWORD = "analyst-eve", "analyst-pass-123"


@pytest.fixture(scope="module")
def enforcing(workdir, postgres):
    postgres.sql(f"""
        CREATE TABLE victims (id serial PRIMARY KEY, name text NOT NULL);
        INSERT INTO victims (name) VALUES ('alice'), ('bob'), ('carol');
        CREATE TABLE notes (id serial PRIMARY KEY, body text);
        CREATE TABLE secrets (id int PRIMARY KEY, secret text);
        INSERT INTO secrets VALUES (1, 'the-secret');
        CREATE TABLE many AS SELECT generate_series(1, 50) AS n;
        ALTER TABLE many OWNER TO {UPSTREAM_USER};
        ALTER TABLE victims OWNER TO {UPSTREAM_USER};
        ALTER TABLE notes OWNER TO {UPSTREAM_USER};
        ALTER TABLE secrets OWNER TO {UPSTREAM_USER};
        CREATE TABLE api_keys (id int, key text);
        INSERT INTO api_keys VALUES (1, 'key-of-the-kingdom');
        ALTER TABLE api_keys OWNER TO {UPSTREAM_USER};
        CREATE EXTENSION IF NOT EXISTS tablefunc;
    """, "app")
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}},
               apps={APP: (APP_PASSWORD, ["dev"]), CAPPED: (CAPPED_PASSWORD, ["dev"]),
                     ANALYST: (ANALYST_PASSWORD, ["dev"])},
               policies={"capped.toml": row_cap_policy(CAPPED, 5)},
               extra='[audit]\nfsync = "every_record"\n').start()
    yield m
    m.stop()


def marker():
    return "mk" + uuid.uuid4().hex[:12]


def connect(m, app=APP, password=APP_PASSWORD, **extra):
    c = pgwire.Conn(m.port)
    msgs = c.login(app, password, extra=extra)
    assert msgs[-1][0] == b"Z", msgs
    return c


def simple(c, sql):
    """One Query; returns (error fields or None, rows as bytes, ReadyForQuery status)."""
    c.send(pgwire.query(sql) if isinstance(sql, str) else pgwire.message(b"Q", sql + b"\0"))
    return result(c.read_until(b"Z"))


def result(msgs):
    err = pgwire.first_error(msgs)
    rows = [body for t, body in msgs if t == b"D"]
    status = msgs[-1][1] if msgs[-1][0] == b"Z" else None
    return err, rows, status


def victims_intact(postgres):
    assert postgres.sql("SELECT string_agg(name, ',' ORDER BY id) FROM victims", "app") == "alice,bob,carol"


def never_ran(postgres, mark):
    time.sleep(0.2)  # the server writes its log asynchronously
    assert mark not in postgres.log(), f"{mark} reached the server"


def rejected_by_pgmoat(err):
    assert err is not None and err["M"].startswith("pgmoat:"), err
    return err


# ---- statements split across several Query messages in one transaction ------


def test_a_statement_split_across_query_messages_never_runs(enforcing, postgres):
    mark = marker()
    c = connect(enforcing)
    assert simple(c, "BEGIN")[2] == b"T"
    # Each piece is judged on its own: an unterminated quote or comment is
    # unparseable, so the server never sees a half that the next would complete.
    pieces = ["SELECT $q$", f"$q$; DELETE FROM victims WHERE name <> '{mark}'; SELECT $q$", "$q$",
              "SELECT 1 /*", f"*/; DROP TABLE victims; -- {mark}", "SELECT '", f"'; TRUNCATE victims; -- {mark}"]
    for i, piece in enumerate(pieces):
        err, _, status = simple(c, piece)
        rejected_by_pgmoat(err)
        assert status == b"E", "a rejection inside a transaction fails it"
    assert simple(c, "ROLLBACK")[2] == b"I"
    assert simple(c, "SELECT count(*) FROM victims")[1] == [b"\x00\x01\x00\x00\x00\x013"]
    victims_intact(postgres)
    never_ran(postgres, mark)


def test_pipelined_halves_of_a_statement_are_judged_one_by_one(enforcing, postgres):
    mark = marker()
    c = connect(enforcing)
    c.send(pgwire.query("BEGIN") + pgwire.query("SELECT '") +
           pgwire.query(f"' ; DELETE FROM victims WHERE name <> '{mark}'") + pgwire.query("ROLLBACK"))
    statuses = [result(c.read_until(b"Z"))[2] for _ in range(4)]
    assert statuses == [b"T", b"E", b"E", b"I"]
    victims_intact(postgres)
    never_ran(postgres, mark)


# ---- PREPARE / EXECUTE ------------------------------------------------------


@pytest.mark.parametrize("how", ["simple", "extended"])
def test_sql_smuggled_through_prepare_and_execute_is_rejected(enforcing, postgres, how):
    mark = marker()
    c = connect(enforcing)
    attempts = [f"PREPARE p_{mark} AS DELETE FROM victims WHERE name <> '{mark}'",
                f"PREPARE q_{mark}(text) AS DELETE FROM victims WHERE name <> $1",
                f"EXECUTE p_{mark}", f"EXECUTE q_{mark}('{mark}')",
                f"EXPLAIN ANALYZE EXECUTE p_{mark}",
                f"DECLARE c_{mark} CURSOR FOR DELETE FROM victims WHERE name <> '{mark}' RETURNING *",
                f"CREATE RULE r_{mark} AS ON SELECT TO victims DO INSTEAD NOTHING"]
    for sql in attempts:
        if how == "simple":
            err, _, status = simple(c, sql)
        else:
            c.send(pgwire.parse("", sql) + pgwire.bind() + pgwire.execute() + pgwire.SYNC)
            err, _, status = result(c.read_until(b"Z"))
        rejected_by_pgmoat(err)
        assert err["C"] in ("42501", "42601"), (sql, err)
        assert status == b"I"
    victims_intact(postgres)
    never_ran(postgres, mark)


# ---- standard_conforming_strings and backslashes ------------------------------

# Read with standard_conforming_strings on (as pgmoat and, pinned, the server read
# it), this is one SELECT of two string constants. Read with it off, 'a\', ' is one
# string, b an alias, and the DELETE a second statement.
SCS_PAYLOAD = "SELECT 'a\\', 'b; DELETE FROM victims WHERE name <> $m${mark}$m$; --'"


@pytest.mark.parametrize("attempt", [
    "SET standard_conforming_strings = off",
    "SET SESSION standard_conforming_strings TO off",
    "SET LOCAL standard_conforming_strings = 'off'",
    "RESET standard_conforming_strings",
    "SELECT set_config('standard_conforming_strings', 'off', false)",
    "SELECT pg_catalog.set_config('standard_conforming_strings', 'off', false)",
    "UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'",
    "UPDATE pg_catalog.pg_settings SET setting = 'off' WHERE name = $1",
    "ALTER ROLE CURRENT_USER SET standard_conforming_strings = off",
    "SET escape_string_warning = off",
    "SET backslash_quote = on",
])
def test_standard_conforming_strings_cannot_be_turned_off(enforcing, postgres, attempt):
    mark = marker()
    c = connect(enforcing)
    assert simple(c, "BEGIN")[2] == b"T"
    err, _, status = simple(c, attempt)
    rejected_by_pgmoat(err)
    simple(c, "ROLLBACK")
    # Then the payload, which the server must read exactly as pgmoat did.
    err, rows, _ = simple(c, SCS_PAYLOAD.format(mark=mark))
    assert err is None, err
    assert len(rows) == 1 and rows[0].count(b"DELETE FROM victims") == 1  # inside the second constant
    err, rows, _ = simple(c, "SHOW standard_conforming_strings")
    assert rows[0].endswith(b"on")
    victims_intact(postgres)


def test_pipelined_scs_change_and_backslash_payload(enforcing, postgres):
    """SET and payload in one write, without waiting: the payload is analyzed
    with the setting the server will really have (the SET never runs)."""
    mark = marker()
    c = connect(enforcing)
    c.send(pgwire.query("SET standard_conforming_strings = off") + pgwire.query(SCS_PAYLOAD.format(mark=mark)) +
           pgwire.parse("", "SET standard_conforming_strings = off") + pgwire.bind() + pgwire.execute() +
           pgwire.parse("", SCS_PAYLOAD.format(mark=mark)) + pgwire.bind() + pgwire.execute() + pgwire.SYNC +
           pgwire.query("SHOW standard_conforming_strings"))
    first = result(c.read_until(b"Z"))
    rejected_by_pgmoat(first[0])
    second = result(c.read_until(b"Z"))
    assert second[0] is None and len(second[1]) == 1
    third = result(c.read_until(b"Z"))
    rejected_by_pgmoat(third[0])  # the Parse of the SET fails the batch: the payload is skipped
    assert result(c.read_until(b"Z"))[1][0].endswith(b"on")
    victims_intact(postgres)


def test_an_escape_string_payload_is_read_as_the_server_reads_it(enforcing, postgres):
    mark = marker()
    c = connect(enforcing)
    # E'' strings honour backslashes whatever the setting; pgmoat's parser agrees.
    err, _, _ = simple(c, f"SELECT E'\\'' ; DELETE FROM victims WHERE name <> '{mark}' --'")
    rejected_by_pgmoat(err)
    assert err["C"] == "42501" and "statement" in err["M"]
    err, rows, _ = simple(c, f"SELECT E'x\\\\', ' ; DELETE FROM victims WHERE name <> ''{mark}'' --'")
    assert err is None and len(rows) == 1
    victims_intact(postgres)
    assert f"DELETE FROM victims WHERE name <> '{mark}'" not in postgres.log()


# ---- client_encoding ------------------------------------------------------------


@pytest.mark.parametrize("attempt", [
    "SET client_encoding = 'SJIS'",
    "SET client_encoding TO 'GBK'",
    "SET NAMES 'BIG5'",
    "SET NAMES DEFAULT",
    "RESET client_encoding",
    "SELECT set_config('client_encoding', 'SJIS', false)",
    "UPDATE pg_settings SET setting = 'SJIS' WHERE name = 'client_encoding'",
    "RESET ALL",
    "DISCARD ALL",
])
def test_client_encoding_cannot_be_changed_in_the_session(enforcing, postgres, attempt):
    c = connect(enforcing)
    err, _, _ = simple(c, attempt)
    rejected_by_pgmoat(err)
    assert simple(c, "SHOW client_encoding")[1][0].endswith(b"UTF8")


def test_a_non_utf8_client_encoding_from_startup_fails_closed(enforcing, postgres):
    mark = marker()
    c = connect(enforcing, client_encoding="SJIS")
    # 0x95 0x5C is one SJIS character whose second byte is a backslash.
    payload = (b"SELECT E'\x95\\' ; DELETE FROM victims WHERE name <> '" + mark.encode() + b"' --'")
    err, _, _ = simple(c, payload)
    rejected_by_pgmoat(err)
    # Text that reads the same in every encoding (7-bit ASCII) is judged as usual;
    # text with other bytes is refused while the encoding is not UTF8 (F11).
    err, rows, _ = simple(c, "SELECT 1")
    assert err is None and rows
    err, _, _ = simple(c, "SELECT '\u30c3' AS a")
    assert err is not None and "client_encoding is SJIS" in err["M"], err
    victims_intact(postgres)
    never_ran(postgres, mark)


def test_pipelined_encoding_change_and_multibyte_payload(enforcing, postgres):
    mark = marker()
    c = connect(enforcing)
    c.send(pgwire.query("SET client_encoding = 'SJIS'") +
           pgwire.message(b"Q", b"SELECT E'\x95\\' ; DELETE FROM victims WHERE name <> '" + mark.encode() +
                          b"' --'\0"))
    rejected_by_pgmoat(result(c.read_until(b"Z"))[0])
    rejected_by_pgmoat(result(c.read_until(b"Z"))[0])  # invalid UTF-8: refused, not forwarded
    victims_intact(postgres)
    never_ran(postgres, mark)


# ---- search_path and denied functions under other names -----------------------


@pytest.mark.parametrize("attempt", [
    "SET search_path = evil, public",
    "SET search_path TO DEFAULT",
    "SET LOCAL search_path = evil",
    "SET SESSION search_path = evil",
    "SELECT set_config('search_path', 'evil', false)",
    "SELECT \"set_config\"('search_path', 'evil', false)",
    "SELECT * FROM pg_catalog.set_config('search_path', 'evil', false)",
    "UPDATE pg_settings SET setting = 'evil' WHERE name = 'search_path'",
    "ALTER ROLE CURRENT_USER SET search_path = evil",
    "ALTER DATABASE app SET search_path = evil",
    "SET ROLE postgres",
    "SET SESSION AUTHORIZATION postgres",
])
def test_search_path_and_identity_cannot_be_changed(enforcing, attempt):
    c = connect(enforcing)
    rejected_by_pgmoat(simple(c, attempt)[0])
    assert simple(c, "SHOW search_path")[1][0].endswith(b'"$user", public')


def test_a_function_shadowing_a_denied_one_does_not_route_around_the_deny(enforcing, postgres):
    """A schema with functions named like denied ones, and a role whose
    search_path puts it first: calls by any spelling stay denied."""
    postgres.sql(f"""
        CREATE SCHEMA IF NOT EXISTS shadow AUTHORIZATION {UPSTREAM_USER};
        CREATE OR REPLACE FUNCTION shadow.pg_sleep(float8) RETURNS text LANGUAGE sql AS $$ SELECT 'shadow' $$;
        CREATE OR REPLACE FUNCTION shadow.pg_read_file(text) RETURNS text LANGUAGE sql AS $$ SELECT 'shadow' $$;
    """, "app")
    mark = marker()
    c = connect(enforcing)
    for call in [f"pg_sleep(0.01) /* {mark} */", f"shadow.pg_sleep(0.01) /* {mark} */",
                 f"PG_SLEEP(0.01) /* {mark} */", f"\"pg_sleep\"(0.01) /* {mark} */",
                 f"pg_catalog.pg_sleep(0.01) /* {mark} */", f"\"pg_catalog\".\"pg_sleep\"(0.01) /* {mark} */",
                 f"U&\"pg\\005fsleep\"(0.01) /* {mark} */", f"shadow.pg_read_file('/etc/passwd') /* {mark} */",
                 f"pg_read_file('/etc/passwd') /* {mark} */", f"pg_catalog.pg_read_file('x', 0, 1) /* {mark} */"]:
        for sql in (f"SELECT {call}", f"SELECT * FROM {call}", f"SELECT (SELECT {call})",
                    f"SELECT 1 FROM victims WHERE id = (SELECT length({call}))",
                    f"WITH x AS (SELECT {call}) SELECT 1"):
            err, _, _ = simple(c, sql)
            rejected_by_pgmoat(err)
            assert err["C"] == "42501"
    never_ran(postgres, mark)


# ---- FunctionCall messages ----------------------------------------------------


def function_call(oid, *args):
    body = struct.pack("!ih", oid, 0) + struct.pack("!h", len(args))
    for a in args:
        b = a.encode()
        body += struct.pack("!i", len(b)) + b
    return pgwire.message(b"F", body + struct.pack("!h", 0))


def test_function_call_messages_of_denied_functions_never_reach_the_server(enforcing, postgres):
    oids = dict(line.split("|") for line in postgres.sql(
        "SELECT proname, min(oid) FROM pg_proc WHERE proname IN ('pg_sleep', 'pg_read_file', 'set_config', "
        "'pg_terminate_backend', 'lo_import') GROUP BY proname").splitlines())
    c = connect(enforcing)
    for name, oid in oids.items():
        args = {"pg_sleep": ["0.01"], "pg_read_file": ["postgresql.conf"],
                "set_config": ["standard_conforming_strings", "off", "false"],
                "pg_terminate_backend": ["1"], "lo_import": ["/etc/passwd"]}[name]
        c.send(function_call(int(oid), *args))
        err, _, status = result(c.read_until(b"Z"))
        # Judged by the function its OID names, as the SQL call would be.
        assert err["C"] == "42501" and name in err["M"], err
        assert status == b"I"
    # An OID the catalog does not know: fail closed.
    c.send(function_call(4000000000 - 2**32, "x"))
    err, _, status = result(c.read_until(b"Z"))
    assert err["C"] == "42501" and "could not be identified" in err["M"]
    # Inside an extended-protocol batch and inside a transaction.
    assert simple(c, "BEGIN")[2] == b"T"
    c.send(pgwire.parse("", "SELECT 1") + pgwire.bind() + function_call(int(oids["pg_sleep"]), "0.01") +
           pgwire.execute() + pgwire.SYNC)
    msgs = []
    while True:
        m = c.read_message()
        msgs.append(m)
        if m[0] == b"Z" and len([x for x in msgs if x[0] == b"Z"]) == 2:
            break
    assert any(t == b"E" and b"FunctionCall" in body for t, body in msgs)
    simple(c, "ROLLBACK")
    time.sleep(0.2)
    assert "fastpath function call" not in postgres.log()
    assert simple(c, "SHOW standard_conforming_strings")[1][0].endswith(b"on")


# ---- COPY data ----------------------------------------------------------------


def test_copy_data_that_carries_sql_is_inert(enforcing, postgres):
    mark = marker()
    lines = [f"x'); DROP TABLE victims; -- {mark}", f"{mark}\\.", f"; DELETE FROM victims; SELECT '{mark}",
             "\\\\.", f"$$ {mark} $$; TRUNCATE victims"]
    with psycopg.connect(enforcing.dsn(APP, APP_PASSWORD), autocommit=True) as c:
        with c.cursor().copy("COPY notes (body) FROM STDIN") as cp:
            for line in lines:
                cp.write_row((line,))
        got = [r[0] for r in c.execute("SELECT body FROM notes WHERE body LIKE %s ORDER BY id", (f"%{mark}%",))]
    assert got == [ln.replace("\\\\", "\\") for ln in lines if mark in ln]
    victims_intact(postgres)
    log = postgres.log()
    assert f"DROP TABLE victims; -- {mark}" not in log.split("COPY notes")[0]
    assert "statement: COPY notes (body) FROM STDIN" in log


def test_copy_data_after_the_copy_ended_is_dropped(enforcing, postgres):
    mark = marker()
    c = connect(enforcing)
    c.send(pgwire.query("COPY notes (body) FROM STDIN"))
    assert c.read_message()[0] == b"G"
    c.send(pgwire.message(b"d", f"{mark}-row\n".encode()) + pgwire.message(b"c"))
    assert result(c.read_until(b"Z"))[0] is None
    # CopyData now is outside COPY: pgmoat drops it, whatever it holds.
    c.send(pgwire.message(b"d", f"DELETE FROM victims -- {mark}\n".encode()) + pgwire.message(b"c") +
           pgwire.query("SELECT 'after'"))
    err, rows, _ = result(c.read_until(b"Z"))
    assert err is None and rows[0].endswith(b"after")
    victims_intact(postgres)
    assert postgres.sql(f"SELECT count(*) FROM notes WHERE body LIKE '{mark}%'", "app") == "1"


# ---- prepared statements: unnamed, whitespace names, re-prepared names -------


def rows_of(msgs):
    return [body for t, body in msgs if t == b"D"]


@pytest.mark.parametrize("name", ["", " ", "  \t"])
def test_a_rejected_reparse_never_runs_the_approved_statement_it_replaced(enforcing, postgres, name):
    mark = marker()
    c = connect(enforcing)
    # Approved first ...
    c.send(pgwire.parse(name, "SELECT name FROM victims WHERE id = $1") + pgwire.SYNC)
    assert result(c.read_until(b"Z"))[0] is None
    # ... then the same name re-parsed with rejected text, and bound at once.
    c.send(pgwire.parse(name, f"DELETE FROM victims /* {mark} */") + pgwire.bind("", name, ["1"]) +
           pgwire.execute() + pgwire.SYNC)
    err, rows, _ = result(c.read_until(b"Z"))
    rejected_by_pgmoat(err)
    assert rows == []
    # The next batch: for the unnamed statement PostgreSQL dropped it (a failed
    # Parse of "" drops the old one); a named one still holds the approved text.
    c.send(pgwire.bind("", name, ["1"]) + pgwire.execute() + pgwire.SYNC)
    err, rows, _ = result(c.read_until(b"Z"))
    if name == "":
        assert err is not None and err["C"] == "26000", err
    else:
        assert err is None and rows and rows[0].endswith(b"alice")
    victims_intact(postgres)
    never_ran(postgres, mark)


def test_rejected_parse_in_the_middle_of_a_pipeline_skips_to_sync(enforcing, postgres):
    mark = marker()
    c = connect(enforcing)
    c.send(pgwire.parse("", "SELECT name FROM victims WHERE id = $1") + pgwire.bind("", "", ["1"]) +
           pgwire.execute() +
           pgwire.parse("", f"DELETE FROM victims /* {mark} */") +
           pgwire.bind("", "", []) + pgwire.execute() +
           pgwire.parse(" ", f"TRUNCATE victims /* {mark} */") + pgwire.bind("p", " ") + pgwire.execute("p") +
           pgwire.SYNC)
    msgs = c.read_until(b"Z")
    err = pgwire.first_error(msgs)
    rejected_by_pgmoat(err)
    assert len(rows_of(msgs)) == 1
    victims_intact(postgres)
    never_ran(postgres, mark)


def test_a_named_statement_cannot_be_replaced_by_reparsing(enforcing, postgres):
    mark = marker()
    c = connect(enforcing)
    c.send(pgwire.parse("s1", "SELECT name FROM victims WHERE id = $1") + pgwire.SYNC)
    c.read_until(b"Z")
    # Allowed text under an existing name: the server refuses (42P05), the old stays.
    c.send(pgwire.parse("s1", "SELECT count(*) FROM victims WHERE id > $1") + pgwire.SYNC)
    err, _, _ = result(c.read_until(b"Z"))
    assert err["C"] == "42P05"
    # Rejected text under an existing name: pgmoat's error, the old still stays.
    c.send(pgwire.parse("s1", f"DELETE FROM victims /* {mark} */") + pgwire.SYNC)
    rejected_by_pgmoat(result(c.read_until(b"Z"))[0])
    c.send(pgwire.bind("", "s1", ["2"]) + pgwire.execute() + pgwire.SYNC)
    err, rows, _ = result(c.read_until(b"Z"))
    assert err is None and rows[0].endswith(b"bob")
    # Closed, then re-prepared with new text: the new one runs.
    c.send(pgwire.message(b"C", b"Ss1\0") + pgwire.parse("s1", "SELECT upper(name) FROM victims WHERE id = $1") +
           pgwire.bind("", "s1", ["3"]) + pgwire.execute() + pgwire.SYNC)
    err, rows, _ = result(c.read_until(b"Z"))
    assert err is None and rows[0].endswith(b"CAROL")
    victims_intact(postgres)
    never_ran(postgres, mark)


def audit_statements(m, needle):
    deadline = time.time() + 5
    while time.time() < deadline:
        found = [r for r in m.audit_records("statement") if needle in json.dumps(r)]
        if found:
            return found
        time.sleep(0.1)
    return []


def test_a_re_prepared_name_is_audited_as_what_the_server_runs(enforcing, postgres):
    c = connect(enforcing)
    # A Parse pgmoat allows but the server refuses: pgmoat remembers it anyway.
    c.send(pgwire.parse("s2", "SELECT id FROM no_such_table WHERE id = $1") + pgwire.SYNC)
    assert result(c.read_until(b"Z"))[0]["C"] == "42P01"
    c.send(pgwire.parse("s2", "SELECT secret FROM secrets WHERE id = $1") + pgwire.bind("", "s2", ["1"]) +
           pgwire.execute() + pgwire.SYNC)
    err, rows, _ = result(c.read_until(b"Z"))
    assert err is None and rows[0].endswith(b"the-secret")
    # Same through DEALLOCATE: the server forgets the name, pgmoat does not.
    c.send(pgwire.parse("s3", "SELECT name FROM victims WHERE id = $1") + pgwire.SYNC)
    assert result(c.read_until(b"Z"))[0] is None
    assert simple(c, "DEALLOCATE s3")[0] is None
    c.send(pgwire.parse("s3", "SELECT secret FROM secrets WHERE id = $1") + pgwire.bind("", "s3", ["1"]) +
           pgwire.execute() + pgwire.SYNC)
    assert result(c.read_until(b"Z"))[1][0].endswith(b"the-secret")
    records = [r for r in audit_statements(enforcing, "secrets") if r.get("decision") == "allow"]
    assert len(records) >= 2, "executions that read public.secrets are audited as other statements"
    assert all(rel["name"].endswith("secrets") for r in records for rel in r["relations"])


# ---- bookkeeping: what the server swallows during COPY IN ---------------------


# Finding F1 (SECURITY.md): PostgreSQL ignores a Sync that arrives during COPY FROM
# STDIN (libpq sends one with an extended-protocol COPY, as PQexecParams does); pgmoat
# once counted it as a request the server would answer, and from then on matched every
# result to the request before it.


def copy_in_with_ignored_sync(c, extended):
    if extended:
        # As libpq sends COPY through PQexecParams: the batch with its Sync, then the data.
        c.send(pgwire.parse("", "COPY notes (body) FROM STDIN") + pgwire.bind() + pgwire.execute() + pgwire.SYNC)
        assert [c.read_message()[0] for _ in range(3)] == [b"1", b"2", b"G"]
        c.send(pgwire.message(b"d", b"row\n") + pgwire.message(b"c") + pgwire.SYNC)
    else:
        c.send(pgwire.query("COPY notes (body) FROM STDIN"))
        assert c.read_message()[0] == b"G"
        c.send(pgwire.message(b"d", b"row\n") + pgwire.SYNC + pgwire.message(b"c"))
    err, _, status = result(c.read_until(b"Z"))
    assert err is None and status == b"I"


@pytest.mark.parametrize("extended", [True, False], ids=["extended", "simple"])
def test_a_sync_ignored_during_copy_in_does_not_lift_the_row_cap(enforcing, postgres, extended):
    c = connect(enforcing, app=CAPPED, password=CAPPED_PASSWORD)
    err, rows, _ = simple(c, "SELECT n FROM many")
    assert err is not None and err["C"] == "54000" and len(rows) == 5  # the cap works
    copy_in_with_ignored_sync(c, extended)
    err, rows, _ = simple(c, "SELECT n FROM many")
    assert err is not None and err["C"] == "54000" and len(rows) <= 5, f"{len(rows)} rows passed a cap of 5"


def test_a_sync_ignored_during_copy_in_keeps_audit_records_and_errors_right(enforcing, postgres):
    mark = marker()
    c = connect(enforcing)
    copy_in_with_ignored_sync(c, True)
    err, rows, _ = simple(c, f"SELECT secret /* {mark} */ FROM secrets")
    assert err is None and rows
    err, _, _ = simple(c, "SELECT pg_sleep(0)")
    rejected_by_pgmoat(err)  # not "syntax error at or near pgmoat_rejected_statement"
    records = audit_statements(enforcing, "FROM secrets")
    assert records and records[-1]["sqlstate"] == "00000" and records[-1]["rows"] == 1, records


# ---- functions called in attribute notation -------------------------------------

# Finding F4 (SECURITY.md): PostgreSQL calls a one-argument function written as a field
# of its argument, (arg).fn, or alias.fn for a scalar FROM item; the analyzer once read
# these as field or column references, so the function deny list never saw pg_sleep,
# pg_terminate_backend, ts_stat (which runs the SQL text it is given), pg_read_file, ...


@pytest.mark.parametrize("sql,params", [
    ("SELECT (0.01::float8).pg_sleep", []),
    ("SELECT ($1::float8).pg_sleep", ["0.01"]),
    ("SELECT ('postgresql.conf'::text).pg_read_file", []),
    ("SELECT ('.'::text).pg_ls_dir", []),
    ("SELECT ('SELECT 1'::text).ts_stat", []),
    ("SELECT (v.name).pg_stat_file FROM victims v WHERE v.id = $1", ["1"]),
    ("SELECT (x.d).pg_sleep FROM (SELECT 0.01::float8 AS d) x", []),
    ("SELECT id FROM victims WHERE id = $1 AND name <> ($2::float8).pg_sleep::text", ["1", "0.01"]),
    ("COPY (SELECT (0.01::float8).pg_sleep) TO STDOUT", []),
    ("SELECT f.pg_sleep FROM unnest($1::float8[]) f", ["{0.01}"]),
    ("SELECT x.ts_stat FROM CAST($1 AS text) x", ["SELECT 1"]),
], ids=["cast", "param", "read_file", "ls_dir", "ts_stat", "column", "subselect", "where", "copy", "from_alias",
        "cast_alias"])
def test_denied_functions_in_attribute_notation_are_rejected(enforcing, postgres, sql, params):
    c = connect(enforcing)
    mark = marker()
    c.send(pgwire.parse("", f"{sql} /* {mark} */") + pgwire.bind(params=params) + pgwire.execute() + pgwire.SYNC)
    err, _, _ = result(c.read_until(b"Z"))
    rejected_by_pgmoat(err)
    never_ran(postgres, mark)


def test_an_app_cannot_terminate_other_sessions_through_attribute_notation(enforcing, postgres):
    victim = connect(enforcing, app=CAPPED, password=CAPPED_PASSWORD)
    _, rows, _ = simple(victim, "SELECT pg_backend_pid()")
    pid = rows[0][6:].decode()
    attacker = connect(enforcing)
    c = attacker
    c.send(pgwire.parse("", "SELECT (g::int).pg_terminate_backend FROM generate_series($1::int, $2::int) g") +
           pgwire.bind(params=[pid, pid]) + pgwire.execute() + pgwire.SYNC)
    err, _, _ = result(c.read_until(b"Z"))
    err_v, rows, _ = simple(victim, "SELECT 'still here'")
    assert err_v is None, f"another app's session was terminated: {err_v}"
    rejected_by_pgmoat(err)


def test_a_hidden_settings_change_cannot_desynchronise_the_parser(enforcing, postgres):
    mark = marker()
    postgres.sql(f"INSERT INTO notes (body) VALUES ('{mark}')", "app")
    c = connect(enforcing)
    hidden = ("SELECT ('SELECT set_config(''standard_conforming_strings'', ''off'', false)::tsvector'::text)"
              ".ts_stat")
    payload = f"SELECT 'a\\', 'b; DELETE FROM notes WHERE body = $m${mark}$m$; --'"
    c.send(pgwire.query(hidden) + pgwire.query(payload) + pgwire.query("SHOW standard_conforming_strings"))
    results = [result(c.read_until(b"Z")) for _ in range(3)]
    assert postgres.sql(f"SELECT count(*) FROM notes WHERE body = '{mark}'", "app") == "1", \
        "the DELETE hidden in a string constant ran"
    rejected_by_pgmoat(results[0][0])


def test_functions_that_run_sql_text_cannot_read_denied_relations(enforcing, postgres):
    c = connect(enforcing, app=ANALYST, password=ANALYST_PASSWORD)
    err, _, _ = simple(c, "SELECT key FROM api_keys")
    rejected_by_pgmoat(err)  # readonly-analyst denies public.api_keys
    c.send(pgwire.parse("", "SELECT * FROM crosstab($1) AS t(row_name text, k text)") +
           pgwire.bind(params=["SELECT 'r'::text, 'c'::text, key FROM api_keys"]) + pgwire.execute() + pgwire.SYNC)
    err, rows, _ = result(c.read_until(b"Z"))
    assert not any(b"key-of-the-kingdom" in r for r in rows), "a denied relation was read through crosstab"
    rejected_by_pgmoat(err)
