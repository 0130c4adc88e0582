"""pgbench through pgmoat, in every query mode, with exact transaction counts."""
import os
import re
import subprocess

import pytest

from conftest import APP, APP_PASSWORD


def pgbench(pgmoat, *args, timeout=300):
    env = dict(os.environ, PGPASSWORD=APP_PASSWORD, PGHOST="127.0.0.1", PGPORT=str(pgmoat.port), PGUSER=APP)
    r = subprocess.run(["pgbench", *args, "dev"], capture_output=True, text=True, env=env, timeout=timeout)
    assert r.returncode == 0, f"pgbench failed: {r.stderr}\n{pgmoat.log()[-3000:]}"
    return r.stdout


@pytest.fixture(scope="module")
def initialized(pgmoat):
    # Initialization itself goes through pgmoat: DDL, COPY FROM STDIN, VACUUM.
    pgbench(pgmoat, "-i", "-s", "2", "-q")
    return pgmoat


@pytest.mark.parametrize("mode", ["simple", "extended", "prepared"])
@pytest.mark.parametrize("select_only", [False, True], ids=["tpcb", "select-only"])
def test_pgbench_runs_every_transaction_without_errors(initialized, postgres, mode, select_only):
    before = int(postgres.sql("SELECT count(*) FROM pgbench_history", "app"))
    args = ["-M", mode, "-c", "4", "-j", "2", "-t", "250", "--no-vacuum"]
    if select_only:
        args.append("-S")
    out = pgbench(initialized, *args)
    assert "number of transactions actually processed: 1000/1000" in out
    failed = re.search(r"number of failed transactions: (\d+)", out)
    assert failed is None or failed.group(1) == "0"
    after = int(postgres.sql("SELECT count(*) FROM pgbench_history", "app"))
    # TPC-B writes one history row per transaction; select-only writes none.
    assert after - before == (0 if select_only else 1000)
