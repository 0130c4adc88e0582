"""The README's first command: scripts/demo.py starts PostgreSQL with the shop
schema and pgmoat with the audit log and metrics on; its tour shows each step
doing what it says; every command it prints works pasted into a shell as
printed (also as the user who ran sudo); Ctrl-C leaves nothing behind."""
import json
import os
import pwd
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from pgharness import PGMOAT_BIN, ROOT

DEMO = os.path.join(ROOT, "scripts", "demo.py")
COMMAND = re.compile(r"^    (\S.*)$")
OUTPUT = re.compile(r"^      (.*)$")


class RunningDemo:
    """scripts/demo.py in the background, its output read until it waits for Ctrl-C."""

    def __init__(self, *args, env=None):
        self.proc = subprocess.Popen(["/usr/bin/python3", DEMO, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, cwd=tempfile.gettempdir(),
                                     env=dict(os.environ, PGMOAT_BIN=PGMOAT_BIN, **(env or {})))
        self.lines = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(180) or self.proc.poll() is not None:
            self.proc.kill()
            raise AssertionError("the demo did not come up:\n" + self.text)
        self.text_at_ready = self.text

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # A failed test must not leave a demo running.
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                self.ready.set()
        self.ready.set()

    @property
    def text(self):
        return "\n".join(self.lines)

    def field(self, name):
        return re.search(rf"^{name}:\s+(\S+)$", self.text, re.M).group(1)

    def commands(self):
        """(command, its output as the tour printed it) in order."""
        out = []
        for line in self.lines:
            if m := COMMAND.match(line):
                out.append((m.group(1), []))
            elif (m := OUTPUT.match(line)) and out:
                out[-1][1].append(m.group(1))
        return [(c, "\n".join(o)) for c, o in out]

    def interrupt(self):
        """Ctrl-C: the demo stops pgmoat and PostgreSQL and removes its files."""
        work = os.path.dirname(os.path.dirname(self.field("Config")))
        self.proc.send_signal(signal.SIGINT)
        assert self.proc.wait(60) == 0, self.text
        assert not os.path.exists(work), f"{work} is left behind"
        return work


def listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def find(commands, fragment):
    matches = [(c, o) for c, o in commands if fragment in c]
    assert matches, f"no command with {fragment!r} among {[c for c, _ in commands]}"
    return matches


def statement_records(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def metric(text, name, **labels):
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    m = re.search(rf"^{name}\{{{re.escape(want)}\}} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def check_tour_outputs(out):
    """What each step of the tour must show, given {command fragment: output}."""
    (_, passed), = find(out, " orders 42")
    assert passed.startswith("5 row(s)") and "41 | paid" in passed

    (_, spliced), = find(out, "orders-spliced 42")
    assert spliced.startswith("psycopg.errors.InsufficientPrivilege: pgmoat: integer literal compared in WHERE: "
                              "values must be sent as bind parameters")
    assert 'DETAIL: Rejected by rule "parameters" of policy "baseline"' in spliced
    assert "SQLSTATE: 42501" in spliced and "WHERE customer_id = $1" in spliced

    (_, injected), = find(out, "customer \"x' OR '1'='1\"")
    assert injected.startswith("psycopg.errors.InsufficientPrivilege: pgmoat: condition that is always the same")
    assert 'Rejected by rule "tautology"' in injected

    (_, explained), = find(out, " explain ")
    assert explained.startswith('decision: reject (policy "baseline")')
    assert re.search(r"^rule:\s+tautology\s+\(.*baseline\.toml:\d+\)$", explained, re.M)
    assert "normalized:  SELECT id, name FROM customers WHERE email = $1 OR $2=$3" in explained

    (_, records), = find(out, "grep '\"event\":\"statement\"'")
    recs = statement_records(records)
    assert [(r["app"], r["decision"], r.get("rule")) for r in recs] == [
        ("shop-api", "allow", None), ("shop-api", "reject", "parameters"), ("shop-api", "reject", "tautology")]
    assert recs[0]["statement"] == "SELECT id, status, created_at FROM orders WHERE customer_id = $1 ORDER BY id"
    assert recs[0]["rows"] == 5 and all("x'" not in json.dumps(r) for r in recs)  # values are never kept

    (_, verified), = find(out, " audit verify ")
    assert verified.startswith("ok: ") and "SHA-256" in verified

    (_, metrics), = find(out, "pgmoat_(statements|rejections)_total")
    assert metric(metrics, "pgmoat_statements_total", app="shop-api", target="dev", kind="select",
                  decision="allow") == 1
    assert metric(metrics, "pgmoat_statements_total", app="shop-api", target="dev", kind="select",
                  decision="reject") == 2
    for rule in ("parameters", "tautology"):
        assert metric(metrics, "pgmoat_rejections_total", app="shop-api", target="dev", rule=rule) == 1

    (_, tables), = find(out, "-c '\\dt'")
    assert "List of relations" in tables and "| customers   | table |" in tables and "(4 rows)" in tables
    (_, delete), = find(out, "DELETE FROM orders")
    assert delete.startswith("ERROR:  pgmoat: DELETE statements are not allowed")
    assert 'Rejected by rule "statement_kind" of policy "people"' in delete

    (_, refused), = find(out, "SHOW REJECTIONS")
    # The statements refused above, newest first, by rule; values never shown.
    rules = re.findall(r"\| (person-alice|shop-api) +\| dev +\| (\w+) +\| 42501 ", refused)
    assert rules[:3] == [("person-alice", "statement_kind"), ("shop-api", "tautology"), ("shop-api", "parameters")], \
        refused
    assert "x' OR" not in refused and "= 42" not in refused and "= $1" in refused
    (_, checked), = find(out, " check -c ")
    assert re.match(r"\d+ policy files OK, version [0-9a-f]{12}", checked) and "people " in checked
    (_, reloads), = find(out, "pgmoat_policy_reloads_total")
    assert metric(reloads, "pgmoat_policy_reloads_total", outcome="success") == 1


def test_the_tour_runs_and_each_step_shows_what_it_says():
    with RunningDemo("--tour") as demo:
        check_the_tour(demo)


def check_the_tour(demo):
    text = demo.text
    assert re.search(r"^pgmoat is running on 127\.0\.0\.1:\d+ in front of a throwaway PostgreSQL 15", text, re.M)
    started = float(re.search(r"The tour \(started in ([\d.]+) s\)", text).group(1))
    assert started < 30, text
    steps = re.findall(r"^(\d+)\. ", text, re.M)
    assert steps == [str(n) for n in range(1, len(steps) + 1)] and len(steps) == 9
    check_tour_outputs(demo.commands())
    port = int(re.search(r"127\.0\.0\.1:(\d+)/dev", text).group(1))
    metrics_port = int(re.search(r"^Metrics:\s+http://127\.0\.0\.1:(\d+)/metrics$", text, re.M).group(1))
    demo.interrupt()
    assert not listening(port) and not listening(metrics_port)


def run_as_printed(command, user=None, input=None):
    """The command pasted into a shell (bash), from an unrelated directory."""
    cmd = ["bash", "-c", command]
    if user:
        cmd = ["runuser", "-u", user, "--"] + cmd
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return subprocess.run(cmd, capture_output=True, text=True, input=input, cwd=tempfile.gettempdir(), env=env,
                          timeout=60)


def run_every_printed_command(demo, user=None):
    """Runs the tour's commands in order, then the two connection commands; checks them."""
    for name in ("Config", "Policies", "Audit", "Log"):
        assert os.path.exists(demo.field(name)), name  # the files it names are there
    assert "--tour" in demo.text
    commands = [c for c, _ in demo.commands()]
    connect, tour = commands[:2], commands[2:]
    assert all(c.startswith("psql ") and " -c " not in c for c in connect)
    outputs = []
    for command in tour:
        r = run_as_printed(command, user)
        deadline = time.time() + 10
        while "pgmoat_policy_reloads_total" in command and time.time() < deadline and \
                metric(r.stdout, "pgmoat_policy_reloads_total", outcome="success") != 1:
            time.sleep(0.2)  # a slow machine: the reload kill -HUP asked for is not done yet; look again
            r = run_as_printed(command, user)
        outputs.append((command, (r.stdout + r.stderr).rstrip("\n")))
        expected = 0
        if "orders-spliced" in command or " customer " in command or "DELETE" in command:
            expected = 1
        elif " explain " in command:
            expected = 3  # pgmoat explain: exit 3 for a rejected statement
        assert r.returncode == expected, f"{command}\n{r.stdout}{r.stderr}"
        time.sleep(0.3)  # as a person pasting the next line: the audit records have landed
    check_tour_outputs(outputs)
    # psql reads the session from stdin when it is not a terminal.
    app = run_as_printed(connect[0], user, input="SELECT count(*) FROM customers;\n")
    assert app.returncode == 0 and "1000" in app.stdout, app.stderr
    person = run_as_printed(connect[1], user, input="\\d+ orders\n")
    assert person.returncode == 0 and 'Table "public.orders"' in person.stdout, person.stderr


def test_every_command_it_prints_works_as_printed():
    with RunningDemo() as demo:
        assert demo.commands() and all(not o for _, o in demo.commands())  # without --tour nothing is run
        run_every_printed_command(demo)
        demo.interrupt()


def readable_by_others(path):
    while path != "/":
        if not os.stat(path).st_mode & 0o005:
            return False
        path = os.path.dirname(path)
    return True


def test_after_sudo_the_user_owns_the_demo_and_its_commands_work_for_them():
    if os.geteuid() != 0:
        pytest.skip("needs root, as `sudo bash scripts/demo.sh` has")
    if not (readable_by_others(os.path.join(ROOT, "demo", "shop.py")) and readable_by_others(PGMOAT_BIN)):
        pytest.skip("the checkout is not readable by other users")
    user = "nobody"
    with RunningDemo(env={"SUDO_USER": user}) as demo:
        check_the_demo_after_sudo(demo, user)


def check_the_demo_after_sudo(demo, user):
    uid = pwd.getpwnam(user).pw_uid
    pid = int(re.search(r"^    kill -HUP (\d+)$", demo.text, re.M).group(1))
    assert os.stat(f"/proc/{pid}").st_uid == uid  # pgmoat runs as the user, not as root
    policies = demo.field("Policies")
    assert os.stat(os.path.join(policies, "baseline.toml")).st_uid == uid
    run_every_printed_command(demo, user)
    # The policy file to edit is theirs: a saved change is reloaded by the watcher.
    r = run_as_printed(f"echo '# edited by {user}' >> {policies}/baseline.toml", user)
    assert r.returncode == 0, r.stderr
    metrics_cmd = find(demo.commands(), "pgmoat_policy_reloads_total")[0][0]
    deadline = time.time() + 10
    while metric(run_as_printed(metrics_cmd, user).stdout, "pgmoat_policy_reloads_total", outcome="success") != 2:
        assert time.time() < deadline, "the edited policy was not reloaded"
        time.sleep(0.2)
    demo.interrupt()


def test_demo_sh_passes_its_arguments_to_the_demo():
    r = subprocess.run(["bash", os.path.join(ROOT, "scripts", "demo.sh"), "--help"], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    assert "--tour" in r.stdout and "run the tour" in r.stdout
