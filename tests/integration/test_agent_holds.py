"""The shipped agent policy holds anything destructive: when a grant lets an agent
change schema (here DROP and ALTER TABLE), the statement is allowed by pgmoat's analysis yet
still waits for a person, who denies it from the admin console; a read goes on.
Real psycopg against the harness's real PostgreSQL."""
import psycopg
import pytest

from pgharness import UPSTREAM_USER, Pgmoat
from test_approval_holds import ADMIN, ADMIN_PASSWORD, Background, pending

AGENT, AGENT_PASSWORD = "helper-agent", "helper-agent-pass-1"


@pytest.fixture(scope="module")
def agent_moat(workdir, postgres):
    postgres.sql(f"DROP TABLE IF EXISTS agent_rows; CREATE TABLE agent_rows (id int); "
                 f"INSERT INTO agent_rows VALUES (1), (2); ALTER TABLE agent_rows OWNER TO {UPSTREAM_USER}", "app")
    m = Pgmoat(workdir, targets={"dev": {"port": postgres.port}},
               apps={AGENT: (AGENT_PASSWORD, ["dev"], {"kind": "agent"}),
                     ADMIN: (ADMIN_PASSWORD, [], {"admin": True})}).start()
    yield m
    m.stop()
    assert m.proc.returncode == 0, m.log()


@pytest.mark.parametrize("kind, sql", [
    ("drop", "DROP TABLE agent_rows"),
    ("alter_table", "ALTER TABLE agent_rows ADD COLUMN note text"),
])
def test_a_granted_destructive_statement_still_waits_for_a_person(agent_moat, postgres, kind, sql):
    with psycopg.connect(agent_moat.dsn(AGENT, AGENT_PASSWORD, "dev"), autocommit=True) as agent:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            agent.execute(sql)  # not allowed at all without a grant
        with psycopg.connect(agent_moat.dsn(ADMIN, ADMIN_PASSWORD, "pgmoat"), autocommit=True) as admin:
            gid = admin.execute(f"GRANT {kind} TO {AGENT} ON dev FOR 5m REASON 'cleanup'").fetchone()[0]
            notices = []
            agent.add_notice_handler(lambda d: notices.append(d.message_primary))
            held = Background(lambda: agent.execute(sql))
            row = pending(agent_moat, sql.split()[0])
            assert row["app"] == AGENT and row["rule"] == "hold_statements" and row["policy"] == "agent"
            admin.execute(f"DENY {row['approval']} not by an agent")
            held.join()
            assert isinstance(held.error, psycopg.errors.InsufficientPrivilege), held.error
            assert "not by an agent" in str(held.error)
            assert any("held for approval" in n for n in notices)
            # Reads are not held.
            assert agent.execute("SELECT count(*) FROM agent_rows").fetchone() == (2,)
            admin.execute(f"REVOKE {gid}")
    assert postgres.sql("SELECT count(*) FROM agent_rows", "app").strip() == "2"
    assert postgres.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'agent_rows'",
                        "app").strip() == "1"
