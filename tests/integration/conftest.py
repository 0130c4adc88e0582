"""Fixtures: one real PostgreSQL per test module and a pgmoat in front of it."""
import os
import shutil
import subprocess
import tempfile

import pytest

from pgharness import PGMOAT_BIN, Pgmoat, Postgres

APP = "orders-api"
APP_PASSWORD = "orders-pass-1234"
OTHER_APP = "analytics"
OTHER_PASSWORD = "analytics-pass-5678"


@pytest.fixture(scope="session")
def workdir():
    d = tempfile.mkdtemp(prefix="pgmoat-tests-")
    os.chmod(d, 0o755)  # the postgres user must reach its data directories below
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres(workdir):
    pg = Postgres(workdir).start()
    yield pg
    pg.stop()


@pytest.fixture(scope="module")
def pgmoat(workdir, postgres):
    # Relay tests exercise the protocol, not policies: the baseline runs in monitor
    # mode, so every statement is analyzed and judged but all are forwarded.
    m = Pgmoat(workdir,
               targets={"dev": {"port": postgres.port}, "prod": {"port": postgres.port}},
               apps={APP: (APP_PASSWORD, ["dev"]), OTHER_APP: (OTHER_PASSWORD, ["dev", "prod"])},
               monitor=True).start()
    yield m
    m.stop()
    assert m.proc.returncode == 0, m.log()


def row_cap_policy(app, rows):
    """A policy file: the baseline with max_rows for one app."""
    return f"""
[policy]
extends = "baseline"
[applies_to]
apps = ["{app}"]
[limits]
max_rows = {rows}
"""


def psql(pgmoat, sql=None, app=APP, password=APP_PASSWORD, target="dev", args=(), input=None, check=True, **extra):
    """Runs psql through pgmoat; returns the CompletedProcess."""
    cmd = ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-d", pgmoat.dsn(app, password, target, **extra), *args]
    if sql is not None:
        cmd += ["-c", sql]
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    r = subprocess.run(cmd, capture_output=True, text=True, input=input, env=env, timeout=120)
    if check and r.returncode != 0:
        raise AssertionError(f"psql failed ({r.returncode}): {r.stderr}\npgmoat log:\n{pgmoat.log()[-4000:]}")
    return r


@pytest.fixture
def tiny_fs(tmp_path):
    """A 256 kB filesystem for the audit log, to fill up on purpose."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mnt = tmp_path / "auditfs"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], check=True)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)])


def fill(directory):
    """Fills the filesystem of directory; returns the file that did it."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 1024)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


assert os.path.exists(PGMOAT_BIN), f"build pgmoat first: {PGMOAT_BIN} is missing"
