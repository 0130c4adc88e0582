"""psql through pgmoat: scripts, transactions, errors, COPY, server settings."""
from conftest import APP, APP_PASSWORD, psql


def test_a_psql_script_runs_as_against_postgres(pgmoat, postgres):
    script = """
CREATE TABLE psql_items (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO psql_items VALUES (1, 'one'), (2, 'two');
BEGIN;
UPDATE psql_items SET name = 'uno' WHERE id = 1;
SAVEPOINT s1;
INSERT INTO psql_items VALUES (3, 'three');
ROLLBACK TO SAVEPOINT s1;
COMMIT;
SELECT id, name FROM psql_items ORDER BY id;
"""
    r = psql(pgmoat, args=["-A", "-t", "-q"], input=script)
    assert r.stdout.split() == ["1|uno", "2|two"]
    # The server itself holds exactly what the script left.
    assert postgres.sql("SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM psql_items", "app") == "1:uno,2:two"


def test_a_server_error_reaches_psql_with_its_sqlstate_and_the_session_goes_on(pgmoat):
    script = """
\\set ON_ERROR_STOP 0
\\set VERBOSITY verbose
SELECT 1/0;
SELECT 'still here';
"""
    r = psql(pgmoat, args=["-A", "-t"], input=script, check=False)
    assert "22012" in r.stderr and "division by zero" in r.stderr
    assert "still here" in r.stdout


def test_a_failed_transaction_reports_aborted_until_rollback(pgmoat):
    script = """
\\set ON_ERROR_STOP 0
BEGIN;
SELECT 1/0;
SELECT 1;
ROLLBACK;
SELECT 'after rollback';
"""
    r = psql(pgmoat, args=["-A", "-t"], input=script, check=False)
    assert "current transaction is aborted" in r.stderr
    assert "after rollback" in r.stdout


def test_copy_both_directions_with_psql(pgmoat, postgres, tmp_path):
    psql(pgmoat, "CREATE TABLE psql_copy (id int, payload text)")
    src = tmp_path / "in.csv"
    src.write_text("".join(f"{i},row {i}\n" for i in range(5000)))
    psql(pgmoat, f"\\copy psql_copy FROM '{src}' WITH (FORMAT csv)")
    assert postgres.sql("SELECT count(*), sum(id) FROM psql_copy", "app") == f"5000|{sum(range(5000))}"
    out = tmp_path / "out.csv"
    psql(pgmoat, f"\\copy (SELECT * FROM psql_copy ORDER BY id) TO '{out}' WITH (FORMAT csv)")
    assert out.read_text() == src.read_text()


def test_copy_from_stdin_failure_rolls_back(pgmoat, postgres):
    psql(pgmoat, "CREATE TABLE psql_copy_bad (id int)")
    r = psql(pgmoat, "COPY psql_copy_bad FROM STDIN", input="1\n2\nnot-a-number\n", check=False)
    assert r.returncode != 0
    assert "invalid input syntax for type integer" in r.stderr
    assert postgres.sql("SELECT count(*) FROM psql_copy_bad", "app") == "0"


def test_standard_conforming_strings_is_pinned_on(pgmoat):
    r = psql(pgmoat, "SHOW standard_conforming_strings", args=["-A", "-t"])
    assert r.stdout.strip() == "on"


def test_forwarded_startup_parameters_reach_the_server(pgmoat):
    r = psql(pgmoat, "SELECT current_setting('application_name'), current_user", args=["-A", "-t"],
             application_name="billing-worker")
    # The app's name is kept; the login upstream is pgmoat's own role.
    assert r.stdout.strip() == "billing-worker|pgmoat_upstream"


def test_many_statements_in_one_query_message(pgmoat):
    r = psql(pgmoat, "SELECT 1; SELECT 2; SELECT 3", args=["-A", "-t"])
    assert r.stdout.split() == ["1", "2", "3"]


def test_listen_notify_between_two_sessions(pgmoat):
    # psql prints notifications it has received when its next command completes.
    script = "LISTEN psql_chan;\n\\! psql -X -q -d '{dsn}' -c \"NOTIFY psql_chan, 'hello'\"\nSELECT pg_sleep(0.2);\n".format(
        dsn=pgmoat.dsn(APP, APP_PASSWORD))
    r = psql(pgmoat, args=["-A", "-t"], input=script)
    assert 'Asynchronous notification "psql_chan" with payload "hello" received' in r.stdout
