"""node-postgres and pgjdbc through pgmoat under the shipped baseline: their own
set-up and introspection pass untouched, parameterized statements work, and
rejections reach them as ordinary SQL errors they can act on."""
import json
import os
import subprocess

import pytest

from conftest import APP, APP_PASSWORD
from test_policy import enforcing, server_rows  # noqa: F401  (shared fixture)

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(HERE, "node")
JDBC_JAR = "/usr/share/java/postgresql.jar"


@pytest.fixture(scope="module", autouse=True)
def items(postgres):
    # Apps under the baseline run no DDL: their tables exist already.
    from pgharness import UPSTREAM_USER
    for t in ("node_items", "jdbc_items"):
        postgres.sql(f"DROP TABLE IF EXISTS {t}; CREATE TABLE {t} (id serial PRIMARY KEY, name text, qty int); "
                     f"ALTER TABLE {t} OWNER TO {UPSTREAM_USER}", "app")


def node(scenario, m):
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "pg")):
        pytest.fail("node-postgres is not installed: run `npm ci` in tests/integration/node (scripts/test.sh does)")
    url = f"postgresql://{APP}:{APP_PASSWORD}@127.0.0.1:{m.port}/dev"
    r = subprocess.run(["node", os.path.join(NODE_DIR, "client.js"), scenario, url], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def jdbc(scenario, m):
    url = f"jdbc:postgresql://127.0.0.1:{m.port}/dev?prepareThreshold=3"
    r = subprocess.run(["java", "-cp", JDBC_JAR, os.path.join(HERE, "java", "Client.java"), scenario, url, APP,
                        APP_PASSWORD], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def test_node_postgres_parameterized_crud_and_a_rejection(enforcing):
    out = node("crud", enforcing)
    assert out["insert"]["ok"] and out["select"]["value"] == {"name": "bolt", "qty": 5}
    assert out["update"]["value"] == 1
    lit = out["literal"]
    assert not lit["ok"] and lit["code"] == "42501"
    assert lit["message"].startswith("pgmoat: string literal compared in WHERE")
    assert "WHERE name = $1" in lit["hint"] and lit["position"] == str(len("SELECT * FROM node_items WHERE name = ") + 1)
    assert out["after"]["value"] == 1  # the connection is still usable


def test_node_postgres_transaction_rolls_back_after_a_rejection(enforcing, postgres):
    out = node("transaction", enforcing)
    assert out["rejected"]["code"] == "42501"
    assert out["next"]["code"] == "25P02"  # in failed transaction, exactly as PostgreSQL says
    assert out["commit"]["value"] == "ROLLBACK"
    assert server_rows(postgres, "node") == 0


def test_pgjdbc_prepared_statements_metadata_and_a_rejection(enforcing):
    out = jdbc("crud", enforcing)
    assert out["insert.ok"] == "10"
    assert out["select.ok"] == "45"
    assert out["literal.sqlstate"] == "42501"
    assert out["literal.message"].startswith("ERROR: pgmoat: string literal compared in WHERE")
    assert out.get("metadata.ok") == "3", out.get("metadata.message")  # DatabaseMetaData introspection passes the baseline
    assert out["after.ok"] == "1"


def test_pgjdbc_transaction_rolls_back_after_a_rejection(enforcing, postgres):
    out = jdbc("transaction", enforcing)
    assert out["rejected.sqlstate"] == "42501"
    assert server_rows(postgres, "jdbc") == 0
