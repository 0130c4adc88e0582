"""People through pgmoat under the shipped policies/people.toml: psql's
meta-commands and a pgjdbc schema browser see what they see against PostgreSQL,
nothing writes, the row cap and the time limit hold, a person's own policy gives
them their rights, and the audit log names the person."""
import os
import subprocess
import time

import pytest

from conftest import psql
from pgharness import ROOT, UPSTREAM_PASSWORD, UPSTREAM_USER, Pgmoat

ALICE, ALICE_PASSWORD = "person-alice", "alice-pass-2718"
BOB, BOB_PASSWORD = "person-bob", "bob-pass-31415"
READER_ROLE, READER_PASSWORD = "pgmoat_people", "people-secret-Kq5"
HERE = os.path.dirname(os.path.abspath(__file__))
JDBC_JAR = "/usr/share/java/postgresql.jar"


@pytest.fixture(scope="module")
def people(workdir, postgres):
    with open(os.path.join(ROOT, "demo", "schema.sql")) as f:
        postgres.sql(f"SET ROLE {UPSTREAM_USER};\n" + f.read(), "app")
    postgres.sql(f"""
        SET ROLE {UPSTREAM_USER};
        CREATE SCHEMA reporting;
        CREATE TABLE reporting.daily_sales (day date PRIMARY KEY, total numeric);
        CREATE TABLE notes (id serial PRIMARY KEY, author text, body text);
        CREATE SEQUENCE invoice_numbers;
        CREATE FUNCTION log_visit(who text) RETURNS void LANGUAGE sql
          AS $$ INSERT INTO notes (author, body) VALUES (who, 'visited') $$;
        RESET ROLE;
        -- The read-only role README recommends for people's target.
        CREATE ROLE {READER_ROLE} LOGIN PASSWORD '{READER_PASSWORD}';
        ALTER ROLE {READER_ROLE} SET default_transaction_read_only = on;
        GRANT USAGE ON SCHEMA public, reporting TO {READER_ROLE};
        GRANT SELECT ON ALL TABLES IN SCHEMA public, reporting TO {READER_ROLE};
    """, "app")
    m = Pgmoat(workdir,
               targets={"dev": {"port": postgres.port},
                        "dev-ro": {"port": postgres.port, "user": READER_ROLE, "password_file": "people.password"}},
               apps={ALICE: (ALICE_PASSWORD, ["dev", "dev-ro"]), BOB: (BOB_PASSWORD, ["dev"])},
               server={"log_level": "info"},
               policies={"people-bob.toml": f"""
[policy]
extends = "people"
priority = 16
description = "Bob keeps the team's notes"
[applies_to]
apps = ["{BOB}"]
[statements]
allow = ["select", "insert", "update", "transaction", "set", "reset", "show"]
[relations]
write = {{ allow = ["public.notes"] }}
"""})
    pw = os.path.join(m.dir, "people.password")
    with open(pw, "w") as f:
        f.write(READER_PASSWORD + "\n")
    os.chmod(pw, 0o600)
    m.start()
    yield m
    m.stop()
    assert m.proc.returncode == 0, m.log()


def as_person(m, sql=None, person=ALICE, password=ALICE_PASSWORD, **kw):
    return psql(m, sql, app=person, password=password, **kw)


def statements_of(m, app, until):
    """The app's statement records, once one matching `until` is in the file
    (records land a moment after the statement: fsync = "interval")."""
    deadline = time.time() + 10
    while True:
        recs = [r for r in m.audit_records("statement") if r.get("app") == app]
        if any(until(r) for r in recs) or time.time() > deadline:
            return recs
        time.sleep(0.05)


def direct(postgres, command):
    """psql straight to PostgreSQL as the role pgmoat logs in as: the same rights."""
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    r = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-d",
                        postgres.dsn(user=UPSTREAM_USER, password=UPSTREAM_PASSWORD), "-c", command],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


# psql sends its own catalog queries for these; the output through pgmoat must
# be what PostgreSQL gives the same role directly. (Sizes, \conninfo and
# \dconfig, which differ by nature, are checked below without comparing.)
META_COMMANDS = [r"\d", r"\dt", r"\d orders", r"\d+ customers", r"\d+ order_totals", r"\df", r"\df+",
                 r"\dn", r"\dn+", r"\di", r"\dv", r"\ds", r"\dT", r"\dT+", r"\l", r"\du", r"\dg", r"\dp",
                 r"\dx", r"\dd", r"\drds", r"\dD", r"\dE", r"\dm", r"\dC", r"\dy", r"\dRp", r"\ddp",
                 r"\d orders_customer_id_idx", r"\sf customer_lifetime_value", r"\sv order_totals",
                 r"\dt reporting.*", r"\dfS pg_catalog.now"]


@pytest.mark.parametrize("command", META_COMMANDS)
def test_psql_meta_command_shows_what_postgres_shows(people, postgres, command):
    r = as_person(people, command)
    assert r.stdout == direct(postgres, command)


def test_meta_commands_show_the_demo_schema(people):
    assert "| orders " in as_person(people, r"\dt").stdout
    d = as_person(people, r"\d+ orders").stdout
    assert 'Table "public.orders"' in d and "orders_customer_id_idx" in d and "order_items_order_id_fkey" in d
    assert "customer_lifetime_value" in as_person(people, r"\df").stdout
    assert "reporting" in as_person(people, r"\dn").stdout
    assert "order_status" in as_person(people, r"\dT").stdout


def test_meta_commands_whose_output_differs_by_nature_still_work(people):
    # Sizes move with autovacuum; \conninfo names pgmoat's port; \dconfig shows
    # the settings pgmoat pinned for this policy.
    assert "order_items" in as_person(people, r"\dt+").stdout
    assert "app" in as_person(people, r"\l+").stdout
    assert f'as user "{ALICE}"' in as_person(people, r"\conninfo").stdout
    dconfig = as_person(people, r"\dconfig").stdout
    assert "statement_timeout" in dconfig and "30s" in dconfig


def test_a_psql_session_browses_with_expanded_display(people):
    script = "\\x\n\\dn\nSELECT id, email, name FROM customers WHERE email = 'alan.lovelace42@example.com';\n" \
             "\\d customers\n\\x\nSELECT count(*) FROM orders WHERE status = 'paid';\n"
    r = as_person(people, input=script)
    assert "Expanded display is on." in r.stdout and "-[ RECORD 1 ]" in r.stdout
    assert "email | alan.lovelace42@example.com" in r.stdout
    assert 'Table "public.customers"' in r.stdout
    assert " 1250\n" in r.stdout  # \x off again: a plain one-column table


def browse(url, user, password, *args):
    r = subprocess.run(["java", "-cp", JDBC_JAR, os.path.join(HERE, "java", "SchemaBrowser.java"), url, user,
                        password, *args], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def test_a_pgjdbc_schema_browser_sees_what_postgres_shows(people, postgres):
    through = browse(f"jdbc:postgresql://127.0.0.1:{people.port}/dev", ALICE, ALICE_PASSWORD)
    errors = {k: v for k, v in through.items() if not k.endswith(".ok")}
    assert not errors, errors
    assert through == browse(f"jdbc:postgresql://127.0.0.1:{postgres.port}/app", UPSTREAM_USER, UPSTREAM_PASSWORD)
    assert int(through["tables.ok"]) >= 6 and through["first_page.ok"] == "200"
    # Its read-only data view opened a read-only transaction, which people may.
    recs = statements_of(people, ALICE, until=lambda r: r.get("raw_statement") == "BEGIN READ ONLY")
    assert any(r.get("raw_statement") == "BEGIN READ ONLY" and r["decision"] == "allow" for r in recs)


WRITES = [
    ("INSERT INTO notes (author, body) VALUES ('alice', 'hi')", "statement_kind"),
    ("UPDATE customers SET name = 'x' WHERE id = 1", "statement_kind"),
    ("DELETE FROM orders WHERE id = 1", "statement_kind"),
    ("TRUNCATE notes", "statement_kind"),
    ("CREATE TABLE mine (id int)", "statement_kind"),
    ("DROP TABLE notes", "statement_kind"),
    ("ALTER TABLE customers ADD COLUMN x int", "statement_kind"),
    ("GRANT SELECT ON customers TO PUBLIC", "statement_kind"),
    ("COPY notes FROM STDIN", "copy"),
    ("SELECT * FROM orders WHERE id = 1 FOR UPDATE", "relation"),
    ("WITH d AS (DELETE FROM notes WHERE id > 0 RETURNING *) SELECT * FROM d", "statement_kind"),
    ("EXPLAIN ANALYZE DELETE FROM notes WHERE id = 1", "statement_kind"),
    ("SELECT nextval('invoice_numbers')", "relation"),  # a write of the sequence (F20)
    ("SELECT pg_advisory_lock(42)", "function"),
    ("SELECT pg_notify('orders', 'x')", "function"),
    ("SELECT query FROM pg_stat_activity", "catalog"),
    ("SELECT most_common_vals FROM pg_stats WHERE tablename = 'customers'", "catalog"),
    ("SET search_path = reporting", "set_parameter"),
]


@pytest.mark.parametrize("sql,rule", WRITES, ids=[w[0][:40] for w in WRITES])
def test_a_person_cannot_write_or_reach_around_the_policy(people, postgres, sql, rule):
    before = postgres.sql("SELECT (SELECT count(*) FROM notes) || '/' || (SELECT count(*) FROM customers "
                          "WHERE name = 'x') || '/' || (SELECT last_value FROM invoice_numbers)", "app")
    r = as_person(people, sql, check=False, args=["-v", "VERBOSITY=verbose"])
    assert r.returncode != 0
    assert "ERROR:  42501: pgmoat:" in r.stderr and f'Rejected by rule "{rule}" of policy "people"' in r.stderr
    assert postgres.sql("SELECT (SELECT count(*) FROM notes) || '/' || (SELECT count(*) FROM customers "
                        "WHERE name = 'x') || '/' || (SELECT last_value FROM invoice_numbers)", "app") == before


def test_people_write_sql_by_hand_literals_comments_and_scripts_pass(people):
    r = as_person(people, "SELECT name FROM customers WHERE 1=1 AND email = 'grace.hopper1@example.com' -- who?",
                  args=["-A", "-t"])
    assert r.stdout.strip() == "Grace Hopper"
    r = as_person(people, "SELECT count(*) FROM products; SELECT max(id) FROM orders", args=["-A", "-t"])
    assert r.stdout.split() == ["200", "5000"]
    # One rejected statement in a script runs none of them.
    r = as_person(people, "SELECT 'ran'; DELETE FROM notes WHERE id = 1", args=["-A", "-t"], check=False)
    assert r.returncode != 0 and "ran" not in r.stdout
    r = as_person(people, "EXPLAIN ANALYZE SELECT * FROM order_totals WHERE customer_id = 42", args=["-A", "-t"])
    assert "Execution Time" in r.stdout


def test_the_row_cap_stops_a_large_result_at_10000_rows(people):
    r = as_person(people, "SELECT * FROM order_items ORDER BY order_id LIMIT 10000", args=["-A", "-t"])
    assert len(r.stdout.splitlines()) == 10000
    r = as_person(people, "SELECT * FROM order_items", args=["-A", "-t", "-v", "VERBOSITY=verbose"], check=False)
    assert r.returncode != 0 and "ERROR:  54000:" in r.stderr and "10000" in r.stderr
    # psql's \copy out is a COPY TO STDOUT: capped the same way.
    r = as_person(people, r"\copy order_items TO STDOUT", check=False)
    assert r.returncode != 0 and "10000" in r.stderr


def test_the_row_cap_holds_when_psql_fetches_in_pages(people):
    # \set FETCH_COUNT makes psql DECLARE a cursor and FETCH FORWARD 1000 at a time.
    r = as_person(people, "SELECT * FROM order_items", args=["-A", "-t", "-v", "FETCH_COUNT=1000"], check=False)
    assert r.returncode != 0 and "10000" in r.stderr and len(r.stdout.splitlines()) <= 10000


def test_the_row_cap_holds_when_a_gui_fetches_all_rows_in_pages(people):
    # pgjdbc with a fetch size: one portal, Execute with a row limit, PortalSuspended, again.
    assert browse(f"jdbc:postgresql://127.0.0.1:{people.port}/dev", ALICE, ALICE_PASSWORD,
                  "read-all") == {"all_rows.sqlstate": "54000"}


def test_the_statement_time_limit_is_pinned_and_can_only_go_down(people):
    assert as_person(people, "SHOW statement_timeout", args=["-A", "-t"]).stdout.strip() == "30s"
    assert as_person(people, "SHOW lock_timeout", args=["-A", "-t"]).stdout.strip() == "5s"
    r = as_person(people, input="SET statement_timeout = '300ms';\n"
                                "SELECT count(*) FROM order_items a, order_items b;\n",
                  args=["-v", "VERBOSITY=verbose"], check=False)
    assert "57014" in r.stderr and "canceling statement due to statement timeout" in r.stderr


@pytest.mark.parametrize("sql", ["SET statement_timeout = '10min'", "SET statement_timeout = 0",
                                 "SELECT set_config('statement_timeout', '1h', false)"])
def test_a_person_cannot_raise_the_time_limit(people, sql):
    r = as_person(people, sql, check=False)
    assert r.returncode != 0 and "statement_timeout" in r.stderr


def test_a_person_with_a_policy_of_their_own_gets_their_rights(people, postgres):
    as_person(people, "INSERT INTO notes (author, body) VALUES ('bob', 'restock tea')", person=BOB, password=BOB_PASSWORD)
    assert postgres.sql("SELECT count(*) FROM notes WHERE author = 'bob'", "app") == "1"
    r = as_person(people, "UPDATE customers SET name = 'x' WHERE id = 1", person=BOB, password=BOB_PASSWORD,
                  check=False)
    assert r.returncode != 0 and 'writing to customers is not allowed' in r.stderr
    # Everything else Bob inherits from people: \d works, the row cap holds.
    assert "notes" in as_person(people, r"\dt", person=BOB, password=BOB_PASSWORD).stdout
    r = as_person(people, "SELECT * FROM order_items", person=BOB, password=BOB_PASSWORD, check=False)
    assert "10000" in r.stderr


def test_a_read_only_role_upstream_stops_what_a_function_writes(people, postgres):
    # pgmoat sees SELECT log_visit(...), a read; the function writes. On the
    # shared role it would; on the target whose role may only read, the server refuses.
    r = as_person(people, "SELECT log_visit('alice')", target="dev-ro", check=False)
    assert r.returncode != 0 and "read-only transaction" in r.stderr
    assert postgres.sql("SELECT count(*) FROM notes WHERE body = 'visited'", "app") == "0"
    assert as_person(people, r"\dt", target="dev-ro").stdout == as_person(people, r"\dt").stdout


def test_the_audit_log_names_the_person_and_what_they_typed(people):
    as_person(people, "SELECT name FROM customers WHERE email = 'ken.lovelace7@example.com'",
              application_name="'DBeaver 24.1.0 - SQLEditor'")
    as_person(people, "DELETE FROM customers WHERE email = 'ken.lovelace7@example.com'", check=False)
    as_person(people, r"\dt")
    recs = statements_of(people, ALICE, until=lambda r: "ken.lovelace7" in r.get("raw_statement", "")
                         and r.get("statement_kind") == "delete")
    read = [r for r in recs if r.get("raw_statement", "").endswith("'ken.lovelace7@example.com'")
            and r["statement_kind"] == "select"]
    assert read and read[-1]["decision"] == "allow" and read[-1]["application_name"] == "DBeaver 24.1.0 - SQLEditor"
    assert read[-1]["relations"] == [{"name": "customers", "access": "read"}] and read[-1]["rows"] == 1
    delete = [r for r in recs if r.get("statement_kind") == "delete"][-1]
    assert delete["decision"] == "reject" and delete["rule"] == "statement_kind"
    assert delete["policy_file"].endswith("people.toml")
    assert "ken.lovelace7@example.com" in delete["raw_statement"]
    logins = [r for r in people.audit_records("auth_succeeded") if r.get("app") == ALICE]
    assert logins and {r["target"] for r in logins} <= {"dev", "dev-ro"}
    # The catalog queries psql sent for \d are in the log too, under her name.
    assert any(r.get("application_name") == "psql" and "pg_catalog.pg_class" in r.get("raw_statement", "")
               for r in recs)
