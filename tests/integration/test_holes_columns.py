"""A denied column must be a fact in every form that reads or writes it (issue
12 class 4, SECURITY.md F17), through pgmoat against a real PostgreSQL with the
shipped baseline enforcing and users.password_hash closed by a site policy.

Every form below reads or writes password_hash without naming it, as
PostgreSQL's grammar allows: whole-row references, functions of a row in
attribute notation, alias column lists, NATURAL JOIN and USING, COPY and
INSERT without a column list. pgmoat must refuse each, over both protocols,
the server's log must not hold it, and the hashes must be as they were."""
import os
import re

import pytest

import pgwire
from holes import allowed, attack, connect, enforcing, run


def hashes_intact(postgres):
    assert postgres.sql("SELECT string_agg(password_hash, ',' ORDER BY id) FROM users", "app") == \
        "hash-ann,hash-bob,hash-cy"


READS = [
    # whole-row references
    "SELECT u FROM users u",
    "SELECT users FROM users",
    "SELECT row_to_json(u) FROM users u",
    "SELECT to_jsonb(u)->>'password_hash' FROM users u",
    "SELECT u::text FROM users u",
    "SELECT array_agg(u) FROM users u",
    "SELECT (u).password_hash FROM users u",
    "SELECT (u).* FROM users u",
    "SELECT id FROM users u WHERE u IS NULL OR u IS NOT NULL",
    "SELECT ROW(u.*) FROM users u",
    "SELECT pg_notify('chan', u::text) FROM users u",
    "SELECT id FROM users u WHERE position('hash-a' IN u::text) > 0",
    # a function of the row written as a field of it
    "SELECT u.to_json FROM users u",
    "SELECT u.row_to_json FROM users u",
    "SELECT u.concat FROM users u",
    "SELECT u.quote_literal FROM users u",
    # renamed by position
    "SELECT x FROM users AS u(a, b, x)",
    "SELECT id FROM (users JOIN orders USING (id)) AS j(id, a, x)",
    # compared with the other side's columns: an oracle
    "SELECT u.id FROM users u NATURAL JOIN (SELECT 'hash-ann' AS password_hash) g",
    "SELECT u.id FROM users u JOIN (SELECT 'hash-ann'::text AS password_hash) g USING (password_hash)",
    # every column
    "TABLE users",
    "SELECT * FROM (SELECT * FROM users) s",
    "WITH c AS (SELECT u FROM users u) SELECT * FROM c",
]


@pytest.mark.parametrize("sql", READS)
def test_every_form_that_reads_a_denied_column_is_refused(enforcing, postgres, sql):
    attack(enforcing, postgres, sql, "column")


WRITES = [
    "UPDATE users SET email = email WHERE id = 1 RETURNING users",
    "INSERT INTO users VALUES (9, 'mallory@example.com', 'known-hash')",
    "INSERT INTO users SELECT 9, 'mallory@example.com', 'known-hash'",
    "MERGE INTO users u USING (SELECT 9 AS id) s ON u.id = s.id "
    "WHEN NOT MATCHED THEN INSERT VALUES (9, 'mallory@example.com', 'known-hash')",
]


@pytest.mark.parametrize("sql", WRITES)
def test_every_form_that_writes_a_denied_column_is_refused(enforcing, postgres, sql):
    attack(enforcing, postgres, sql, "column")
    hashes_intact(postgres)
    assert postgres.sql("SELECT count(*) FROM users", "app") == "3"


def test_copy_without_a_column_list_reads_and_writes_every_column(enforcing, postgres):
    attack(enforcing, postgres, "COPY users TO STDOUT", "column")
    attack(enforcing, postgres, "COPY users FROM STDIN", "column")
    hashes_intact(postgres)
    # With a column list COPY runs.
    c = connect(enforcing)
    c.send(pgwire.query("COPY users (id, email) TO STDOUT"))
    msgs = c.read_until(b"Z")
    assert pgwire.first_error(msgs) is None
    assert b"".join(body for t, body in msgs if t == b"d").count(b"\n") == 3


def test_reads_by_name_of_other_columns_still_pass(enforcing, postgres):
    assert allowed(enforcing, postgres, "SELECT (u).email FROM users u WHERE u.id = $1", ["1"]) == [
        ["ann@example.com"]]
    assert allowed(enforcing, postgres, "SELECT u.id, u.email FROM users u JOIN orders o ON o.user_id = u.id "
                                        "WHERE o.id = $1", ["12"]) == [["2", "bob@example.com"]]


def row_functions_in_pgmoat():
    """The list compiled into pgmoat (proxy/sql/catalog_functions.cpp)."""
    path = os.path.join(os.path.dirname(__file__), "..", "..", "proxy", "sql", "catalog_functions.cpp")
    text = open(path).read()
    body = text[text.index("kRowFunctions[]"):]
    body = body[:body.index("};")]
    return set(re.findall(r'"([a-z_0-9]+)"', body))


def test_every_function_that_takes_a_row_reads_the_whole_row_in_attribute_notation(enforcing, postgres):
    """pg_proc is the truth: each pg_catalog function PostgreSQL can call with a
    table's row as its only argument, written as t.f, must be refused on a table
    with a denied column; and pgmoat's list names nothing else."""
    server = set(postgres.sql("""
        SELECT string_agg(DISTINCT proname, ' ') FROM pg_proc
        WHERE pronamespace = 'pg_catalog'::regnamespace AND pronargs >= 1
          AND pronargs - pronargdefaults <= 1
          AND proargtypes[0] IN ('record'::regtype, 'anyelement'::regtype, 'anynonarray'::regtype,
                                 'anycompatible'::regtype, 'anycompatiblenonarray'::regtype, '"any"'::regtype)
    """, "app").split())
    assert server == row_functions_in_pgmoat()
    c = connect(enforcing)
    for name in sorted(server):
        err, _, status = run(c, f"SELECT u.{name} FROM users u")
        assert err is not None and 'rule "column"' in err.get("D", ""), (name, err)
        assert status == b"I"
