"""A bounded setting may be lowered, never raised, and session advisory locks
are the baseline's to refuse (issue 12 class 7, policy side, SECURITY.md F19),
through pgmoat against a real PostgreSQL with the shipped baseline enforcing.

The baseline pins statement_timeout, idle_in_transaction_session_timeout,
lock_timeout and work_mem on pgmoat's session with the server. Every SQL path
that can set one (SET, SET LOCAL, set_config() with a constant or a parameter,
pipelined, in a transaction) above its limit, or to 0 ("no limit"), must be
refused before the server sees it, and the server must still have the pinned
value; lowering, DEFAULT and RESET must work."""
import pytest

import pgwire
from holes import (attack, connect, enforcing, marked, marker, never_ran, ran, rejected_by_pgmoat, result,
                   run)


PINNED = {"statement_timeout": "2min", "idle_in_transaction_session_timeout": "5min",
          "lock_timeout": "30s", "work_mem": "64MB"}


def shows(c):
    out = {}
    for parameter in PINNED:
        err, rows, _ = run(c, f"SHOW {parameter}")
        assert err is None, err
        out[parameter] = rows[0][0]
    return out


RAISES = [
    ("SET statement_timeout = 0", None),
    ("SET statement_timeout TO '1h'", None),
    ("SET SESSION statement_timeout = 3600000", None),
    ("SET idle_in_transaction_session_timeout = 0", None),
    ("SET lock_timeout = '1d'", None),
    ("SET work_mem = '4GB'", None),
    ("SET work_mem TO 4194304", None),
    ("SET statement_timeout = '0x7fffffff'", None),
    ("SET statement_timeout = 'no limit'", None),
    ("SELECT set_config('statement_timeout', '0', false)", None),
    ("SELECT set_config('work_mem', '8GB', false)", None),
    ("SELECT set_config('statement_timeout', $1, false)", ["0"]),
    ("SELECT set_config('idle_in_transaction_session_timeout', $1::text, true)", ["0"]),
]


@pytest.mark.parametrize("sql,params", RAISES, ids=[s for s, _ in RAISES])
def test_a_setting_above_its_limit_is_refused_and_the_server_keeps_the_pinned_value(enforcing, postgres, sql,
                                                                                      params):
    attack(enforcing, postgres, sql, params=params)
    c = connect(enforcing)
    assert shows(c) == PINNED


def test_set_local_in_a_transaction_and_pipelined_raises_are_refused(enforcing, postgres):
    c = connect(enforcing)
    mark = marker()
    assert run(c, "BEGIN")[0] is None
    err, _, status = run(c, marked("SET LOCAL statement_timeout = 0", mark))
    rejected_by_pgmoat(err, "setting_limit")
    assert status == b"E"  # the transaction fails, as a server error would fail it
    assert run(c, "ROLLBACK")[2] == b"I"
    # SET and the statement it would free, in one write, without waiting.
    mark2 = marker()
    c.send(pgwire.query(marked("SET statement_timeout = 0", mark2)) + pgwire.query("SHOW statement_timeout") +
           pgwire.parse("", marked("SET work_mem = '1TB'", mark2)) + pgwire.bind() + pgwire.execute() +
           pgwire.SYNC + pgwire.query("SHOW work_mem"))
    first = result(c.read_until(b"Z"))
    rejected_by_pgmoat(first[0], "setting_limit")
    assert result(c.read_until(b"Z"))[1] == [["2min"]]
    rejected_by_pgmoat(result(c.read_until(b"Z"))[0], "setting_limit")
    assert result(c.read_until(b"Z"))[1] == [["64MB"]]
    never_ran(postgres, mark, mark2)


def test_lowering_default_and_reset_work(enforcing, postgres):
    c = connect(enforcing)
    for sql, parameter, want in [("SET statement_timeout = '5s'", "statement_timeout", "5s"),
                                 ("SET statement_timeout TO DEFAULT", "statement_timeout", "2min"),
                                 ("SET work_mem = '16MB'", "work_mem", "16MB"),
                                 ("RESET work_mem", "work_mem", "64MB"),
                                 ("SET lock_timeout = 1000", "lock_timeout", "1s"),
                                 ("RESET lock_timeout", "lock_timeout", "30s")]:
        mark = marker()
        err, _, _ = run(c, marked(sql, mark))
        assert err is None, (sql, err)
        ran(postgres, mark)
        assert shows(c)[parameter] == want, sql
    assert shows(c) == PINNED
    # RESET ALL is not an app's to send (set_parameters), and a set_config() value
    # for a bounded setting must be a constant pgmoat can read: fail closed.
    rejected_by_pgmoat(run(c, "RESET ALL")[0], "set_parameter")
    err, _, _ = run(c, "SELECT set_config('statement_timeout', $1, false)", ["3s"], "extended")
    rejected_by_pgmoat(err, "setting_limit")
    assert shows(c) == PINNED


def test_session_advisory_locks_are_refused_and_transaction_ones_work(enforcing, postgres):
    for sql in ["SELECT pg_advisory_lock($1)", "SELECT pg_advisory_lock_shared($1)",
                "SELECT pg_try_advisory_lock($1)", "SELECT pg_try_advisory_lock_shared($1)",
                "SELECT pg_advisory_lock($1::int, $1::int)"]:
        attack(enforcing, postgres, sql, "function", params=["4242"])
    assert postgres.sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'", "app") == "0"
    c = connect(enforcing)
    assert run(c, "BEGIN")[0] is None
    mark = marker()
    err, _, _ = run(c, marked("SELECT pg_advisory_xact_lock($1)", mark), ["4242"], "extended")
    assert err is None, err
    assert postgres.sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'", "app") == "1"
    assert run(c, "COMMIT")[0] is None
    assert postgres.sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'", "app") == "0"
    ran(postgres, mark)
