"""Holes at the session level (issue 12, SECURITY.md F11-F13), against a real
PostgreSQL with the shipped baseline enforcing. Each attack carries a unique
marker; PostgreSQL's own log (log_statement = all) must show it never ran.

Settings races: anything the server runs can change standard_conforming_strings
or client_encoding (here: functions a DBA created, a cursor over one, a trigger
the app cannot see), PostgreSQL reports the change only at ReadyForQuery, and a
change undone within one batch is never reported. Text pipelined behind such a
request must not be judged with settings pgmoat no longer knows."""
import time
import uuid

import psycopg
import pytest

import pgwire
from conftest import APP, APP_PASSWORD, row_cap_policy
CAPPED, CAPPED_PASSWORD = "capped-app", "capped-pass-123"

from pgharness import SUPERUSER, SUPERUSER_PASSWORD, UPSTREAM_USER, Pgmoat


@pytest.fixture(scope="module")
def enforcing(workdir, postgres):
    postgres.sql(f"""
        CREATE FUNCTION scs_off() RETURNS text LANGUAGE sql
            AS $$ SELECT set_config('standard_conforming_strings', 'off', false) $$;
        CREATE FUNCTION scs_on() RETURNS text LANGUAGE sql
            AS $$ SELECT set_config('standard_conforming_strings', 'on', false) $$;
        CREATE FUNCTION to_sjis() RETURNS text LANGUAGE sql
            AS $$ SELECT set_config('client_encoding', 'SJIS', false) $$;
        CREATE TABLE notes (id serial PRIMARY KEY, body text);
        CREATE FUNCTION notes_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM set_config('standard_conforming_strings', 'off', false); RETURN NEW; END $$;
        CREATE TRIGGER notes_settings BEFORE INSERT ON notes FOR EACH ROW EXECUTE FUNCTION notes_trigger();
        ALTER TABLE notes OWNER TO {UPSTREAM_USER};
        CREATE TABLE secrets (id int PRIMARY KEY, secret text);
        INSERT INTO secrets VALUES (1, 'the-secret');
        ALTER TABLE secrets OWNER TO {UPSTREAM_USER};
        CREATE TABLE many AS SELECT generate_series(1, 50) AS n;
        ALTER TABLE many OWNER TO {UPSTREAM_USER};
    """, "app")
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}},
               apps={APP: (APP_PASSWORD, ["dev"]), CAPPED: (CAPPED_PASSWORD, ["dev"])},
               policies={"capped.toml": row_cap_policy(CAPPED, 5)},
               extra='[audit]\nfsync = "every_record"\n').start()
    yield m
    m.stop()


@pytest.fixture
def victims(postgres):
    """A fresh table for each attack to drop."""
    name = "victims_" + uuid.uuid4().hex[:8]
    postgres.sql(f"CREATE TABLE {name} (id int); ALTER TABLE {name} OWNER TO {UPSTREAM_USER}", "app")
    return name


def exists(postgres, table):
    return postgres.sql(f"SELECT to_regclass('{table}') IS NOT NULL", "app") == "t"


def backslash_trick(table, mark):
    """With standard_conforming_strings on: a SELECT of two strings. Off: a DROP."""
    return f"SELECT 'x\\' AS a, ' ; DROP TABLE {table}; -- {mark}' AS b"


def backslash_call(mark):
    """One statement (the extended protocol takes no more): with
    standard_conforming_strings on, a SELECT of two strings; off, a call of a
    denied function that sets application_name to the marker."""
    return f"SELECT 'x\\' AS a, ' AS b, set_config($$application_name$$, $${mark}$$, false) AS c --' AS d"


def encoding_trick(table, mark):
    """In UTF-8: one E'' string. In SJIS the last byte of the katakana swallows the
    backslash, the quote ends the string and the DROP runs."""
    return f"SELECT E'\u30c3\\' ; DROP TABLE {table}; -- {mark}' AS a"


def connect(m):
    c = pgwire.Conn(m.port)
    msgs = c.login(APP, APP_PASSWORD)
    assert msgs[-1][0] == b"Z", msgs
    return c


def read_answers(c, n):
    """n requests' answers, each up to its ReadyForQuery: their first errors."""
    return [pgwire.first_error(c.read_until(b"Z")) for _ in range(n)]


def never_ran(postgres, mark):
    time.sleep(0.2)  # the server writes its log asynchronously
    assert mark not in postgres.log(), f"{mark} reached the server"


def extended(sql, statement=""):
    return pgwire.parse(statement, sql) + pgwire.bind("", statement) + pgwire.execute()


SETTINGS_MESSAGE = "may change standard_conforming_strings or client_encoding"


def paths(table, mark):
    """Every way to have the server change a setting just before the next text, and
    that text, in one write: (name, bytes, requests answered with ReadyForQuery,
    SQL to run first in its own round trip)."""
    bs = backslash_trick(table, mark)
    call = backslash_call(mark)
    return [
        ("simple query behind simple query", pgwire.query("SELECT scs_off()") + pgwire.query(bs), 2, None),
        ("parse behind execute in one batch", extended("SELECT scs_off()") + extended(call) + pgwire.SYNC, 1, None),
        ("parse behind the execute of a statement prepared earlier",
         pgwire.bind("", "flip") + pgwire.execute() + extended(call) + pgwire.SYNC, 1, "prepare flip"),
        ("query behind a FETCH from a cursor", pgwire.query("FETCH ALL FROM flipper") + pgwire.query(bs), 2,
         "declare flipper"),
        ("parse behind an insert whose trigger changes it",
         pgwire.parse("", "INSERT INTO notes (body) VALUES ($1)") + pgwire.bind("", "", ["x"]) + pgwire.execute() +
         extended(call) + pgwire.SYNC, 1, None),
        ("changed and restored within one batch",
         extended("SELECT scs_off()") + extended(call) + extended("SELECT scs_on()") + pgwire.SYNC, 1, None),
        ("encoding: simple query behind simple query",
         pgwire.query("SELECT to_sjis()") + pgwire.message(b"Q", encoding_trick(table, mark).encode() + b"\0"), 2,
         None),
    ]


def prepare(c, step):
    if step == "prepare flip":
        c.send(pgwire.parse("flip", "SELECT scs_off()") + pgwire.SYNC)
        assert pgwire.first_error(c.read_until(b"Z")) is None
    elif step == "declare flipper":
        c.send(pgwire.query("BEGIN") + pgwire.query("DECLARE flipper CURSOR FOR SELECT scs_off()"))
        assert read_answers(c, 2) == [None, None]


@pytest.mark.parametrize("index", range(7), ids=[p[0] for p in paths("t", "m")])
def test_text_behind_a_settings_change_is_refused_and_never_reaches_the_server(enforcing, postgres, victims, index):
    mark = "mk" + uuid.uuid4().hex[:12]
    name, data, answers, first = paths(victims, mark)[index]
    c = connect(enforcing)
    prepare(c, first)
    c.send(data)
    errors = [e for e in read_answers(c, answers) if e]
    assert errors and errors[-1]["M"].startswith("pgmoat:") and SETTINGS_MESSAGE in errors[-1]["M"], errors
    assert errors[-1]["C"] == "42501"
    never_ran(postgres, mark)
    assert exists(postgres, victims)
    # The session goes on, and knows the settings again: plain text is judged.
    c.send(pgwire.query("ROLLBACK") + pgwire.query("SELECT scs_on()") + pgwire.query("SELECT 1"))
    assert read_answers(c, 3)[2] is None
    c.close()


@pytest.mark.parametrize("index", [0, 1, 5, 6], ids=["simple", "extended", "restored", "encoding"])
def test_the_same_bytes_sent_straight_to_postgresql_do_what_pgmoat_refused(postgres, victims, index):
    """The payloads are real: without pgmoat the server drops the table, or calls
    the function hidden in a string."""
    mark = "mk" + uuid.uuid4().hex[:12]
    name, data, answers, _ = paths(victims, mark)[index]
    c = pgwire.Conn(postgres.port)
    msgs = c.login(SUPERUSER, SUPERUSER_PASSWORD, database="app")
    assert msgs[-1][0] == b"Z", msgs
    c.send(data)
    for _ in range(answers):
        c.read_until(b"Z")
    c.send(pgwire.query("SET client_encoding = UTF8") + pgwire.query("SHOW application_name"))
    c.read_until(b"Z")
    rows = [body for t, body in c.read_until(b"Z") if t == b"D"]
    c.close()
    if index in (0, 6):
        assert not exists(postgres, victims)
    else:
        assert mark.encode() in rows[0]


def test_text_that_reads_the_same_under_every_setting_is_not_held_back(enforcing, postgres):
    """Pipelines keep working: plain text behind an Execute is judged at once."""
    c = connect(enforcing)
    c.send(extended("SELECT scs_off()") + extended("SELECT E'it\\'s' AS a") +
           pgwire.parse("q", "SELECT $1::int AS n") + pgwire.bind("", "q", ["7"]) + pgwire.execute() + pgwire.SYNC)
    msgs = c.read_until(b"Z")
    assert pgwire.first_error(msgs) is None, msgs
    rows = [body for t, body in msgs if t == b"D"]
    assert rows[-1].endswith(b"7")
    c.send(pgwire.query("SELECT scs_on()"))
    assert read_answers(c, 1) == [None]
    c.close()


# ---- the audit record names what the server ran (F12) ---------------------------


def statement_records(m, needle):
    time.sleep(0.1)
    return [r for r in m.audit_records("statement") if needle in r.get("statement", "")]


def test_a_pipelined_deallocate_and_re_parse_is_audited_as_the_new_text(enforcing, postgres):
    mark = "mk" + uuid.uuid4().hex[:12]
    c = connect(enforcing)
    c.send(pgwire.parse("s1", f"SELECT id /* {mark} */ FROM notes WHERE id = $1") + pgwire.SYNC)
    assert pgwire.first_error(c.read_until(b"Z")) is None
    time.sleep(0.1)
    before = len(enforcing.audit_records("statement"))
    # One write: the server drops s1 and prepares the other text under its name.
    c.send(pgwire.query("DEALLOCATE s1") + pgwire.parse("s1", f"SELECT secret /* {mark} */ FROM secrets WHERE id = $1") +
           pgwire.bind("", "s1", ["1"]) + pgwire.execute() + pgwire.SYNC)
    assert read_answers(c, 1) == [None]
    msgs = c.read_until(b"Z")
    assert pgwire.first_error(msgs) is None
    assert any(t == b"D" and b"the-secret" in body for t, body in msgs)
    c.close()
    # The server ran the secrets text under s1 (its log says so), and so says the audit log.
    time.sleep(0.2)
    assert f"SELECT secret /* {mark} */ FROM secrets" in postgres.log()
    new = enforcing.audit_records("statement")[before:]
    assert [r["statement_kind"] for r in new] == ["deallocate", "select"], new
    assert new[1]["statement"] == "SELECT secret FROM secrets WHERE id = $1"
    assert new[1]["relations"] == [{"name": "secrets", "access": "read"}] and new[1]["rows"] == 1


def test_an_execute_of_a_cursor_portal_is_audited_as_the_cursor_and_unknown_portals_are_refused(enforcing, postgres):
    mark = "mk" + uuid.uuid4().hex[:12]
    c = connect(enforcing)
    c.send(pgwire.query("BEGIN") + pgwire.query(f"DECLARE c_{mark} CURSOR FOR SELECT secret FROM secrets") +
           pgwire.execute(f"c_{mark}") + pgwire.SYNC)
    assert read_answers(c, 2) == [None, None]
    msgs = c.read_until(b"Z")
    assert pgwire.first_error(msgs) is None and any(t == b"D" for t, _ in msgs)
    records = statement_records(enforcing, f"c_{mark}")
    assert len(records) == 2  # the DECLARE, and the Execute of its portal
    assert records[-1]["statement_kind"] == "declare_cursor" and records[-1]["rows"] == 1
    assert records[-1]["relations"] == [{"name": "secrets", "access": "read"}]
    # A portal nothing pgmoat saw created (a function could open one) is refused.
    c.send(pgwire.execute(f"p_{mark}") + pgwire.SYNC)
    err = pgwire.first_error(c.read_until(b"Z"))
    assert err and err["C"] == "34000" and err["M"].startswith("pgmoat:"), err
    never_ran(postgres, f"p_{mark}")
    c.send(pgwire.query("ROLLBACK"))
    assert read_answers(c, 1) == [None]
    c.close()


# ---- max_rows counts COPY TO STDOUT (F13) ----------------------------------------


@pytest.mark.parametrize("form", ["COPY many TO STDOUT", "COPY (SELECT n FROM many) TO STDOUT"])
def test_copy_to_stdout_stops_at_max_rows(enforcing, form):
    with psycopg.connect(enforcing.dsn(CAPPED, CAPPED_PASSWORD), autocommit=True) as conn:
        got = []
        with pytest.raises(psycopg.Error) as e:
            with conn.cursor().copy(form) as copy:
                for row in copy.rows():
                    got.append(row)
        assert e.value.sqlstate == "54000", e.value
        assert len(got) <= 5
        assert conn.execute("SELECT count(*) FROM many").fetchone() == (50,)  # the session goes on
