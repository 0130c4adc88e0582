"""Production freeze per target against a real PostgreSQL: `freeze = true` and
freeze windows in pgmoat.toml refuse every write (25006) before it reaches the
server, reads go on, and a reload turns it on and off for running sessions too,
also while writers are busy."""
import datetime
import signal
import threading
import time

import psycopg
import pytest

from conftest import psql
from pgharness import UPSTREAM_USER, Pgmoat

WRITER, WRITER_PASSWORD = "freeze-writer", "freeze-pass-123"


@pytest.fixture(scope="module")
def frozen(workdir, postgres):
    postgres.sql(f"DROP TABLE IF EXISTS freeze_rows; CREATE TABLE freeze_rows (id serial PRIMARY KEY, tag text);"
                 f"ALTER TABLE freeze_rows OWNER TO {UPSTREAM_USER}", "app")
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port, "freeze": False}},
               apps={WRITER: (WRITER_PASSWORD, ["dev"])},
               policies={"writer.toml": f"""
[policy]
extends = "baseline"
[applies_to]
apps = ["{WRITER}"]
[parameters]
mode = "off"
"""}).start()
    yield m
    m.stop()


def reload(m, **target):
    """Rewrites the dev target's keys and waits until pgmoat has reloaded."""
    before = m.log().count("configuration reloaded")
    m.targets["dev"].update(target)
    for k in [k for k, v in m.targets["dev"].items() if v is None]:
        del m.targets["dev"][k]
    m._write_files()
    m.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while m.log().count("configuration reloaded") == before:
        assert time.time() < deadline, m.log()[-2000:]
        time.sleep(0.05)


def connect(m):
    return psycopg.connect(m.dsn(WRITER, WRITER_PASSWORD), autocommit=True)


def count(postgres, tag):
    return int(postgres.sql(f"SELECT count(*) FROM freeze_rows WHERE tag = '{tag}'", "app"))


def insert(c, tag):
    c.execute("INSERT INTO freeze_rows (tag) VALUES (%s)", [tag])


def window(start_offset, end_offset):
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return (now + datetime.timedelta(seconds=start_offset)).strftime(fmt) + "/" + \
        (now + datetime.timedelta(seconds=end_offset)).strftime(fmt)


def test_freeze_on_and_off_by_reload_reaches_a_running_session(frozen, postgres):
    update = "UPDATE freeze_rows SET tag = 'x' WHERE id = %s"
    with connect(frozen) as c:
        insert(c, "before")
        c.execute(update, [0], prepare=True)  # a named statement on the server
        reload(frozen, freeze=True)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction) as e:
            insert(c, "during")
        assert e.value.diag.message_primary == 'pgmoat: target "dev" is frozen: writes are not allowed'
        assert "freeze = true (" in e.value.diag.message_detail
        assert c.execute("SELECT count(*) FROM freeze_rows WHERE tag = %s", ["before"]).fetchone() == (1,)
        # A statement prepared before the freeze is judged again at its Execute
        # (Bind and Execute only: no Parse to judge).
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            c.execute(update, [1], prepare=True)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            c.execute("DELETE FROM freeze_rows WHERE id = %s", [1])
        reload(frozen, freeze=False)
        insert(c, "after")
    assert (count(postgres, "before"), count(postgres, "during"), count(postgres, "after")) == (1, 0, 1)
    assert "$1 = 'during'" not in postgres.log()  # the refused INSERT's value never reached it


def test_psql_in_a_transaction_during_a_freeze(frozen, postgres):
    reload(frozen, freeze=True)
    try:
        r = psql(frozen, app=WRITER, password=WRITER_PASSWORD, args=["-v", "ON_ERROR_STOP=0"], check=False,
                 input="BEGIN;\nSELECT 1;\nINSERT INTO freeze_rows (tag) VALUES ('psql');\nCOMMIT;\n")
        assert 'ERROR:  pgmoat: target "dev" is frozen: writes are not allowed' in r.stderr
        assert r.stdout.strip().splitlines()[-1] == "ROLLBACK"
    finally:
        reload(frozen, freeze=False)
    assert count(postgres, "psql") == 0


def test_a_window_now_freezes_and_one_past_does_not(frozen, postgres):
    reload(frozen, freeze_windows=[window(-3600, -60)])
    with connect(frozen) as c:
        insert(c, "past-window")
    reload(frozen, freeze_windows=[window(-60, 3600)])
    try:
        with connect(frozen) as c:
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction) as e:
                insert(c, "in-window")
            assert "the freeze window" in e.value.diag.message_detail
    finally:
        reload(frozen, freeze_windows=None)
    assert (count(postgres, "past-window"), count(postgres, "in-window")) == (1, 0)


def test_a_bad_window_keeps_the_config_in_force(frozen):
    before = frozen.log().count("configuration reload failed")
    frozen.targets["dev"]["freeze_windows"] = ["tomorrow"]
    frozen._write_files()
    frozen.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while frozen.log().count("configuration reload failed") == before:
        assert time.time() < deadline
        time.sleep(0.05)
    assert 'is not a window: write "FROM/UNTIL" in UTC' in frozen.log()
    del frozen.targets["dev"]["freeze_windows"]
    frozen._write_files()


def test_freeze_under_load(frozen, postgres):
    stop = threading.Event()
    refused_after_freeze = []
    results = {"ok": 0, "refused": 0}
    lock = threading.Lock()
    frozen_at = {}

    def writer(n):
        with connect(frozen) as c:
            while not stop.is_set():
                try:
                    insert(c, f"load-{n}")
                    with lock:
                        results["ok"] += 1
                except psycopg.errors.ReadOnlySqlTransaction:
                    with lock:
                        results["refused"] += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    reload(frozen, freeze=True)
    time.sleep(0.2)  # statements already past the check when the reload landed finish
    frozen_count = int(postgres.sql("SELECT count(*) FROM freeze_rows WHERE tag LIKE 'load-%'", "app"))
    time.sleep(1.0)
    during = int(postgres.sql("SELECT count(*) FROM freeze_rows WHERE tag LIKE 'load-%'", "app"))
    reload(frozen, freeze=False)
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    after = int(postgres.sql("SELECT count(*) FROM freeze_rows WHERE tag LIKE 'load-%'", "app"))
    assert frozen_count > 0 and results["refused"] > 0
    assert during == frozen_count  # nothing written while frozen
    assert after > during          # writes resume once lifted
