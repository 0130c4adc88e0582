"""The catalog rule covers what a system view exposes whatever it is called
through (issue 12 class 9, SECURITY.md F21), through pgmoat against a real
PostgreSQL with the shipped baseline enforcing.

Each closed view of PostgreSQL 15 is built on functions (pg_locks on
pg_lock_status(), pg_stat_* on pg_stat_get_*, ...); called directly, in FROM,
in a select list or in attribute notation, they must be refused as the view
is, and never reach the server; the views the baseline opens stay open through
their functions."""
import pytest

from holes import allowed, attack, enforcing


@pytest.mark.parametrize("sql,params", [
    ("SELECT * FROM pg_lock_status()", None),
    ("SELECT locktype, pid FROM pg_catalog.pg_lock_status() l", None),
    ("SELECT * FROM pg_hba_file_rules()", None),
    ("SELECT * FROM pg_show_all_file_settings()", None),
    ("SELECT * FROM pg_config()", None),
    ("SELECT * FROM pg_get_backend_memory_contexts()", None),
    ("SELECT * FROM pg_get_shmem_allocations()", None),
    ("SELECT * FROM pg_prepared_xact()", None),
    ("SELECT * FROM pg_stat_get_activity(NULL)", None),
    ("SELECT * FROM pg_stat_get_wal()", None),
    ("SELECT * FROM pg_stat_get_archiver()", None),
    ("SELECT pg_stat_get_db_numbackends(oid) FROM pg_database", None),
    ("SELECT pg_stat_get_numscans($1::oid)", ["1259"]),
    ("SELECT pg_stat_get_backend_pid($1)", ["1"]),
    ("SELECT (oid).pg_stat_get_db_xact_commit FROM pg_database", None),
    ("SELECT * FROM pg_timezone_names() LIMIT $1", ["1"]),
])
def test_functions_behind_closed_views_are_refused(enforcing, postgres, sql, params):
    attack(enforcing, postgres, sql, "catalog", params=params)


def test_functions_behind_open_views_stay_open(enforcing, postgres):
    assert allowed(enforcing, postgres, "SELECT setting FROM pg_show_all_settings() WHERE name = $1",
                   ["max_connections"])[0][0].isdigit()
    assert allowed(enforcing, postgres, "SELECT name FROM pg_cursor()") == [[""]]  # its own unnamed portal
