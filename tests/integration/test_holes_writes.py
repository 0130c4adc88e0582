"""Whole-table writes despite require_where, row locks of every row, and
sequences (issue 12 classes 5, 7 and 8, SECURITY.md F18-F20), through pgmoat
against a real PostgreSQL with the shipped baseline enforcing.

Every place a data-modifying statement can be written (the statement itself,
a WITH query at any depth, COPY (...) TO, MERGE's actions) is combined with
every kind of WHERE that is true for every row without being constant; pgmoat
must refuse each over both protocols, the server's log must not hold it, and
every row must still be there as it was."""
import pytest

from holes import (ANALYST, ANALYST_PASSWORD, MIGRATOR, MIGRATOR_PASSWORD, allowed, attack, attacks, connect,
                   enforcing, marked, marker, ran, run)


def rows_intact(postgres):
    assert postgres.sql("SELECT string_agg(id || ':' || role, ',' ORDER BY id) FROM users", "app") == \
        "1:member,2:member,3:member"
    assert postgres.sql("SELECT string_agg(id || ':' || status, ',' ORDER BY id) FROM orders", "app") == \
        "10:open,11:open,12:open"


# WHERE clauses true for every row, with the values of their parameters ($2 on).
EVERY_ROW = [
    ("id IS NOT NULL", []),
    ("$2", ["true"]),
    ("id > -id", []),
    ("id = id + $2", ["0"]),
    ("id IN (SELECT id FROM users)", []),
    ("EXISTS (SELECT 1 FROM orders)", []),
    ("id <> $2", ["0"]),
    ("NOT (id = $2)", ["0"]),
    ("id = $2 OR id IS NOT NULL", ["0"]),
    ("active", []),
    ("email IS DISTINCT FROM $2", ["nobody"]),
]

# Places a write can be written, on users: {w} is the WHERE, $1 the value written.
PLACES = [
    ("statement", "UPDATE users SET role = $1 WHERE {w}"),
    ("statement (delete)", "DELETE FROM users WHERE {w} AND $1::text IS NOT NULL"),
    ("with", "WITH d AS (UPDATE users SET role = $1 WHERE {w} RETURNING id) SELECT count(*) FROM d"),
    ("nested with", "WITH a AS (WITH b AS (DELETE FROM users WHERE {w} RETURNING id) SELECT * FROM b) "
                    "SELECT count(*), $1::text FROM a"),
    ("with under a write", "WITH d AS (DELETE FROM users WHERE {w} RETURNING id) "
                           "UPDATE orders SET status = $1 WHERE user_id IN (SELECT id FROM d)"),
    ("copy", "COPY (DELETE FROM users WHERE {w} RETURNING id, $1::text) TO STDOUT"),
    ("copy with", "COPY (WITH d AS (UPDATE users SET role = $1 WHERE {w} RETURNING id) SELECT * FROM d) TO STDOUT"),
]


@pytest.mark.parametrize("place,template", PLACES, ids=[p for p, _ in PLACES])
def test_a_write_whose_where_holds_for_every_row_never_runs(enforcing, postgres, place, template):
    # Values as parameters, so that only require_where is judged.
    attacks(enforcing, postgres, [(template.format(w=where), ["admin"] + params) for where, params in EVERY_ROW],
            "require_where", protocols=("extended",))
    rows_intact(postgres)


@pytest.mark.parametrize("sql", [
    "DELETE FROM users",
    "UPDATE users SET role = 'admin'",
    "WITH d AS (DELETE FROM users RETURNING id) SELECT count(*) FROM d",
    "COPY (UPDATE users SET role = 'admin' RETURNING id) TO STDOUT",
    "MERGE INTO users u USING orders o ON u.id = o.user_id WHEN MATCHED THEN DELETE",
    "MERGE INTO users u USING users s ON u.id = s.id WHEN MATCHED THEN UPDATE SET role = 'admin'",
    "MERGE INTO users u USING (SELECT id FROM users) s ON u.id = s.id WHEN MATCHED THEN DELETE",
    "UPDATE orders o SET status = 'gone' FROM users u WHERE o.user_id = u.id",
    "DELETE FROM orders o USING users u WHERE o.user_id = u.id",
])
def test_writes_without_a_restricting_where_never_run_over_the_simple_protocol(enforcing, postgres, sql):
    attack(enforcing, postgres, sql, "require_where", protocols=("simple",))
    rows_intact(postgres)


def test_writes_that_select_rows_by_value_run(enforcing, postgres):
    c = connect(enforcing)
    assert run(c, "BEGIN")[0] is None
    for sql, params, affected in [
        ("UPDATE users SET role = $1 WHERE id = $2", ["admin", "1"], 1),
        ("DELETE FROM orders WHERE user_id IN (SELECT id FROM users WHERE email = $1)", ["bob@example.com"], 1),
        ("UPDATE orders o SET status = $1 FROM users u WHERE o.user_id = u.id AND u.email = $2",
         ["paid", "ann@example.com"], 2),
        ("MERGE INTO users u USING (SELECT $1::bigint AS id) s ON u.id = s.id WHEN MATCHED THEN UPDATE SET role = $2",
         ["3", "owner"], 1),
        ("DELETE FROM users WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = users.id AND o.id = $1)",
         ["10"], 1),
    ]:
        mark = marker()
        err, _, status = run(c, marked(sql, mark), params, "extended")
        assert err is None, (sql, err)
        ran(postgres, mark)
    assert run(c, "ROLLBACK")[0] is None
    rows_intact(postgres)


# ---- row locks -------------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "SELECT id FROM jobs FOR UPDATE",
    "SELECT id FROM jobs WHERE state IS NOT NULL FOR NO KEY UPDATE",
    "SELECT j.id FROM jobs j JOIN users u ON u.id = j.id FOR SHARE OF j",
    "SELECT id FROM users WHERE id IN (SELECT id FROM jobs FOR UPDATE)",
])
def test_locking_every_row_never_runs(enforcing, postgres, sql):
    attack(enforcing, postgres, sql, "require_where")
    # Nothing is locked: another session updates every job at once.
    postgres.sql("SET lock_timeout = '2s'; UPDATE jobs SET state = state", "app")


def test_locking_rows_selected_by_value_or_limit_runs(enforcing, postgres):
    assert allowed(enforcing, postgres, "SELECT id FROM jobs WHERE state = $1 ORDER BY id LIMIT $2 "
                                        "FOR UPDATE SKIP LOCKED", ["ready", "2"]) == [["1"], ["2"]]
    assert allowed(enforcing, postgres, "SELECT id FROM jobs WHERE id = $1 FOR UPDATE", ["3"]) == [["3"]]


# ---- sequences ------------------------------------------------------------------

def last_value(postgres):
    return postgres.sql("SELECT last_value || ':' || is_called FROM orders_id_seq", "app")


@pytest.mark.parametrize("sql,params", [
    ("SELECT nextval('orders_id_seq')", None),
    ("SELECT nextval('public.orders_id_seq'::regclass)", None),
    ("SELECT nextval($1)", ["orders_id_seq"]),
    ("SELECT nextval($1::regclass)", ["orders_id_seq"]),
    ("SELECT s.nextval FROM CAST($1 AS regclass) s", ["orders_id_seq"]),
    ("SELECT setval('orders_id_seq', $1)", ["1000"]),
])
def test_a_read_only_policy_refuses_sequence_writes(enforcing, postgres, sql, params):
    before = last_value(postgres)
    attack(enforcing, postgres, sql, params=params, app=ANALYST, password=ANALYST_PASSWORD)
    assert last_value(postgres) == before


def test_the_baseline_refuses_setval_and_lets_nextval_run(enforcing, postgres):
    before = last_value(postgres)
    attack(enforcing, postgres, "SELECT setval('orders_id_seq', $1)", "function", params=["9223372036854775807"])
    assert last_value(postgres) == before
    assert allowed(enforcing, postgres, "SELECT nextval('orders_id_seq')")[0][0].isdigit()
    # The migration identity may reset sequences.
    assert allowed(enforcing, postgres, "SELECT setval('orders_id_seq', $1)", ["5"],
                   app=MIGRATOR, password=MIGRATOR_PASSWORD) == [["5"]]
