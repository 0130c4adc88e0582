"""Monitoring with real Prometheus tooling: pgmoat's /metrics after real traffic
passes `promtool check metrics`, a real Prometheus scraping pgmoat sees the
counters move, /healthz and /readyz follow a target going away and coming back,
and the dashboard and alert rules in dashboards/ only use metrics pgmoat exports."""
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import psycopg
import pytest

from conftest import APP, APP_PASSWORD
from pgharness import ROOT, Pgmoat, Postgres, free_port, wait_for_port

PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"
DASHBOARD = os.path.join(ROOT, "dashboards", "pgmoat.json")
ALERTS = os.path.join(ROOT, "dashboards", "alerts.yml")
README = os.path.join(ROOT, "README.md")

WATCHER, WATCHER_PASSWORD = "watched-app", "watched-pass-123"   # a monitor-mode policy
BATCH, BATCH_PASSWORD = "batch-job", "batch-pass-1234"           # a policy with max_rows and a rate limit

# Statements whose text must never surface in a label value.
REJECTED_SQL = "SELECT x FROM (VALUES (1)) v(x) WHERE x::text = 'zebra_quokka_7741'"
UNPARSEABLE_SQL = "SELEKT quokka_zebra_9913 FROM nowhere_land"
WOULD_REJECT_SQL = "SELECT x FROM (VALUES (1)) v(x) WHERE x::text = 'monitor_marmot_5521'"
SQL_MARKERS = ["zebra_quokka_7741", "quokka_zebra_9913", "nowhere_land", "monitor_marmot_5521", "pg_class",
               "relname", "SELEKT", "SELECT ", "generate_series", "::int", "$1"]


# ---- helpers ----

def http_get(port, path, timeout=5):
    """(status, body, content type) of GET http://127.0.0.1:port/path."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read().decode(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), e.headers.get("Content-Type", "")


def wait_until(what, fn, timeout=15.0, interval=0.1):
    """Polls fn until it returns something truthy; returns it."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text):
    """(samples, families): samples as (name, {label: value}, value), families as {name: type}."""
    samples, families = [], {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            families[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$", line)
        assert m, f"unparseable exposition line: {line!r}"
        labels = {k: bytes(v, "utf-8").decode("unicode_escape") for k, v in LABEL.findall(m.group(3) or "")}
        samples.append((m.group(1), labels, float(m.group(4))))
    return samples, families


def value(samples, name, **labels):
    """The value of the one sample `name` with exactly these labels, or 0 when absent."""
    for n, l, v in samples:
        if n == name and l == labels:
            return v
    return 0.0


def scrape(pgmoat):
    status, body, _ = http_get(pgmoat.metrics_port, "/metrics")
    assert status == 200, body
    return parse_exposition(body)[0]


def run_sql(dsn, *statements):
    """Runs each (sql, params) in autocommit; returns the exceptions raised, in order (None for success)."""
    errors = []
    with psycopg.connect(dsn, autocommit=True) as c:
        for sql, params in statements:
            try:
                c.execute(sql, params)
                errors.append(None)
            except psycopg.Error as e:
                errors.append(e)
    return errors


# ---- PromQL metric names ----

PROMQL_FUNCTIONS = {
    "abs", "absent", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh", "avg_over_time",
    "ceil", "changes", "clamp", "clamp_max", "clamp_min", "cos", "cosh", "count_over_time", "days_in_month",
    "day_of_month", "day_of_week", "day_of_year", "deg", "delta", "deriv", "exp", "floor", "histogram_count",
    "histogram_fraction", "histogram_quantile", "histogram_sum", "holt_winters", "hour", "idelta", "increase",
    "irate", "label_join", "label_replace", "last_over_time", "ln", "log10", "log2", "max_over_time",
    "min_over_time", "minute", "month", "pi", "predict_linear", "present_over_time", "quantile_over_time", "rad",
    "rate", "resets", "round", "scalar", "sgn", "sin", "sinh", "sort", "sort_desc", "sqrt", "stddev_over_time",
    "stdvar_over_time", "sum_over_time", "tan", "tanh", "time", "timestamp", "vector", "year",
    # aggregations
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile",
}
PROMQL_KEYWORDS = {"and", "or", "unless", "atan2", "bool", "offset", "by", "without", "on", "ignoring",
                   "group_left", "group_right", "inf", "nan"}
# Series Prometheus makes itself rather than scraping them from pgmoat.
SYNTHETIC_SERIES = {"up"}


def metric_names(expr):
    """Metric names an expression selects: identifiers that are not functions,
    keywords, label names (in matchers and grouping clauses) or durations."""
    m = re.fullmatch(r"\s*label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*", expr, re.S)
    if m:  # a Grafana variable query: label_values(selector, label)
        expr = m.group(1)
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)   # string literals
    s = re.sub(r"\{[^{}]*\}", " ", s)                                                # label matchers
    s = re.sub(r"\[[^\[\]]*\]", " ", s)                                              # ranges, subqueries
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", " ", s)  # grouping labels
    s = re.sub(r"\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?", " ", s)                            # Grafana variables
    names = set()
    for m in re.finditer(r"(?<![a-zA-Z0-9_:.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", s):
        word, call = m.group(1), m.group(2)
        if word in PROMQL_KEYWORDS:
            continue
        if call:
            assert word in PROMQL_FUNCTIONS, f"unknown PromQL function {word!r} in {expr!r}"
        elif word not in PROMQL_FUNCTIONS:
            names.add(word)
    return names


def test_metric_names_are_read_from_promql_as_prometheus_would():
    assert metric_names('sum by (le, target) (rate(a_bucket{target=~"$target",x="y{z}"}[$__rate_interval]))') == {"a_bucket"}
    assert metric_names("histogram_quantile(0.99, sum without (app) (rate(b_seconds_bucket[5m] offset 1h)))") == {"b_seconds_bucket"}
    assert metric_names("c_total / on (instance) group_left (version) d_info > bool 0 unless e") == {"c_total", "d_info", "e"}
    assert metric_names('label_values(f_total{job="$job"}, app)') == {"f_total"}
    assert metric_names("time() - g_seconds or absent(up)") == {"g_seconds", "up"}
    assert metric_names("i_total > 0 or (j_total unless k_total offset 15m)") == {"i_total", "j_total", "k_total"}
    with pytest.raises(AssertionError):
        metric_names("rat(h_total[5m])")


def dashboard_expressions(dashboard):
    """Every PromQL expression of the dashboard: panel targets, annotations, variable queries."""
    out = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "expr" and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(dashboard)
    for var in dashboard["templating"]["list"]:
        if var["type"] == "query":
            q = var["query"]
            out.append(q if isinstance(q, str) else q["query"])
    return out


# ---- fixtures ----

@pytest.fixture(scope="module")
def monitored(workdir, postgres):
    """pgmoat with its metrics endpoint, a real target and one nothing listens on."""
    metrics_port = free_port()
    m = Pgmoat(workdir,
               targets={"dev": {"port": postgres.port}, "offline": {"port": free_port(), "connect_timeout": "1s"}},
               apps={APP: (APP_PASSWORD, ["dev", "offline"]), WATCHER: (WATCHER_PASSWORD, ["dev"]),
                     BATCH: (BATCH_PASSWORD, ["dev"])},
               policies={
                   "watched.toml": f'[policy]\nextends = "baseline"\nmode = "monitor"\n'
                                   f'[applies_to]\napps = ["{WATCHER}"]\n',
                   "batch.toml": f'[policy]\nextends = "baseline"\n[applies_to]\napps = ["{BATCH}"]\n'
                                 f'[limits]\nmax_rows = 3\nstatements_per_second = 5\n',
               },
               extra=f'[policies]\nwatch_interval = "0s"\n'
                     f'[metrics]\nlisten = "127.0.0.1:{metrics_port}"\nreadiness_interval = "200ms"\n').start()
    m.metrics_port = metrics_port
    wait_for_port(metrics_port, proc=m.proc)
    yield m
    m.stop()
    assert m.proc.returncode == 0, m.log()[-4000:]


def reload_and_wait(pgmoat, outcome):
    before = value(scrape(pgmoat), "pgmoat_policy_reloads_total", outcome=outcome)
    pgmoat.proc.send_signal(signal.SIGHUP)
    wait_until(f"a reload with outcome {outcome}",
               lambda: value(scrape(pgmoat), "pgmoat_policy_reloads_total", outcome=outcome) > before)


@pytest.fixture(scope="module")
def traffic(monitored, prometheus):
    """Drives every kind of event pgmoat counts through it once; returns what the
    metrics must not reveal. Prometheus starts first: it takes a few seconds to
    begin scraping, which the tests before the Prometheus ones hide."""
    dsn = monitored.dsn(APP, APP_PASSWORD)
    allowed = [("SELECT %s::int", (i,)) for i in range(3)]
    errors = run_sql(dsn, *allowed, (REJECTED_SQL, None), (UNPARSEABLE_SQL, None))
    assert errors[:3] == [None] * 3
    assert isinstance(errors[3], psycopg.errors.InsufficientPrivilege), errors[3]
    assert isinstance(errors[4], psycopg.errors.SyntaxError), errors[4]
    # A monitor-mode policy forwards what it would reject.
    assert run_sql(monitored.dsn(WATCHER, WATCHER_PASSWORD), (WOULD_REJECT_SQL, None)) == [None]
    # A row cap and a rate limit.
    errors = run_sql(monitored.dsn(BATCH, BATCH_PASSWORD), ("SELECT generate_series(%s::int, %s::int)", (1, 10)),
                     *[("SELECT %s::int", (i,)) for i in range(40)])
    assert errors[0] is not None and errors[0].sqlstate == "54000", errors[0]
    assert any(e is not None and e.sqlstate == "53400" for e in errors[1:]), errors
    # A failed login, and a login to a target nothing listens on.
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(monitored.dsn(APP, "not-the-password"))
    with pytest.raises(psycopg.OperationalError, match="cannot connect to target"):
        psycopg.connect(monitored.dsn(APP, APP_PASSWORD, target="offline"))
    # Reloads: a good one, a broken policy file, and good again.
    reload_and_wait(monitored, "success")
    monitored.write_policy("broken.toml", "[policy\nthis is not TOML\n")
    try:
        reload_and_wait(monitored, "failure")
    finally:
        os.remove(os.path.join(monitored.policies_dir, "broken.toml"))
    reload_and_wait(monitored, "success")
    wait_until("the offline target probed down",
               lambda: value(scrape(monitored), "pgmoat_target_up", target="offline") == 0 and
               value(scrape(monitored), "pgmoat_target_up", target="dev") == 1)
    wait_until("every session closed",
               lambda: all(v == 0 for n, _, v in scrape(monitored) if n == "pgmoat_client_sessions"))
    records = monitored.audit_records()
    return {
        "fingerprints": {r["fingerprint"] for r in records if r.get("fingerprint")},
        "client_ports": {str(r["client_port"]) for r in records if r.get("client_port")},
        "client_addrs": {r["client_addr"] for r in records if r.get("client_addr")},
    }


class Prometheus:
    def __init__(self, port, proc, logfile):
        self.port, self.proc, self.logfile = port, proc, logfile

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                body = json.load(r)
        except urllib.error.HTTPError as e:
            body = json.load(e)
        assert body["status"] == "success", f"{path} {params}: {body}"
        return body["data"]

    def query(self, expr):
        """Instant query: {frozenset(labels): value}."""
        data = self.api("query", query=expr)
        assert data["resultType"] == "vector", data
        return {frozenset(r["metric"].items()): float(r["value"][1]) for r in data["result"]}

    def scalar(self, expr):
        """The value of an expression that selects at most one series (None when none)."""
        result = self.query(expr)
        assert len(result) <= 1, result
        return next(iter(result.values()), None)

    def wait_for(self, expr, predicate, what, timeout=15.0):
        return wait_until(what, lambda: (lambda v: (v,) if predicate(v) else None)(self.scalar(expr)), timeout)[0]

    def log(self):
        with open(self.logfile, errors="replace") as f:
            return f.read()


@pytest.fixture(scope="module")
def prometheus(workdir, monitored):
    """A real Prometheus on loopback scraping pgmoat every second, with the alert rules loaded."""
    d = tempfile.mkdtemp(prefix="prometheus-", dir=workdir)
    config = os.path.join(d, "prometheus.yml")
    with open(config, "w") as f:
        f.write(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - {json.dumps(ALERTS)}
scrape_configs:
  - job_name: pgmoat
    static_configs:
      - targets: ["127.0.0.1:{monitored.metrics_port}"]
""")
    port = free_port()
    logfile = os.path.join(d, "prometheus.log")
    log = open(logfile, "ab")
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={d}/data",
                             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                            stdout=log, stderr=log, cwd=d)
    p = Prometheus(port, proc, logfile)
    try:
        try:
            wait_until("Prometheus ready", lambda: proc.poll() is None and
                       _quiet(lambda: http_get(port, "/-/ready", timeout=1)[0] == 200), timeout=30)
        except AssertionError as e:
            raise AssertionError(f"{e}\nPrometheus log:\n{p.log()[-4000:]}") from None
        yield p
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _quiet(fn):
    try:
        return fn()
    except OSError:
        return None


# ---- alert rules ----

def test_alert_rules_pass_promtool_check_rules():
    r = subprocess.run([PROMTOOL, "check", "rules", ALERTS], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout


def without_annotations(rules_yaml):
    """The rule file without its (block-style) annotations, which promtool's unit
    tests would otherwise have to repeat word for word."""
    out, skip_deeper_than = [], None
    for line in rules_yaml.splitlines():
        indent = len(line) - len(line.lstrip())
        if skip_deeper_than is not None and (not line.strip() or indent > skip_deeper_than):
            continue
        skip_deeper_than = None
        if line.strip() == "annotations:":
            skip_deeper_than = indent
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def test_alert_rules_fire_when_they_should(tmp_path):
    """promtool's rule unit tests on synthetic series: each alert fires on its
    condition and stays quiet on normal traffic."""
    rules = tmp_path / "alerts.yml"
    with open(ALERTS) as f:
        rules.write_text(without_annotations(f.read()))
    assert "annotations" not in rules.read_text()
    tests = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [
            {   # a target down for a minute; pgmoat itself unreachable
                "interval": "1m",
                "input_series": [
                    {"series": 'pgmoat_target_up{job="pgmoat",instance="a",target="prod"}', "values": "1 1 0 0 0"},
                    {"series": 'up{job="pgmoat",instance="a"}', "values": "1 1 0 0 0"},
                ],
                "alert_rule_test": [
                    {"eval_time": "2m", "alertname": "PgmoatUpstreamDown", "exp_alerts": []},
                    {"eval_time": "3m", "alertname": "PgmoatUpstreamDown", "exp_alerts": [
                        {"exp_labels": {"severity": "critical", "job": "pgmoat", "instance": "a", "target": "prod"}}]},
                    {"eval_time": "3m", "alertname": "PgmoatDown", "exp_alerts": [
                        {"exp_labels": {"severity": "critical", "job": "pgmoat", "instance": "a"}}]},
                ],
            },
            {   # the first failed reload of a pgmoat creates the failure series at 1
                "interval": "1m",
                "input_series": [
                    {"series": 'pgmoat_policy_reloads_total{job="pgmoat",instance="a",outcome="success"}',
                     "values": "0+1x60"},
                    {"series": 'pgmoat_policy_reloads_total{job="pgmoat",instance="a",outcome="failure"}',
                     "values": "_x10 1x50"},
                    {"series": 'pgmoat_policy_reloads_total{job="pgmoat",instance="b",outcome="failure"}',
                     "values": "0x30 1x30"},
                ],
                "alert_rule_test": [
                    {"eval_time": "9m", "alertname": "PgmoatPolicyReloadFailed", "exp_alerts": []},
                    {"eval_time": "12m", "alertname": "PgmoatPolicyReloadFailed", "exp_alerts": [
                        {"exp_labels": {"severity": "warning", "job": "pgmoat", "instance": "a", "outcome": "failure"}}]},
                    {"eval_time": "33m", "alertname": "PgmoatPolicyReloadFailed", "exp_alerts": [
                        {"exp_labels": {"severity": "warning", "job": "pgmoat", "instance": "b", "outcome": "failure"}}]},
                    {"eval_time": "50m", "alertname": "PgmoatPolicyReloadFailed", "exp_alerts": []},
                ],
            },
            {   # one app's rejections jump from its hour-long baseline; another's are steadily high
                "interval": "1m",
                "input_series": [
                    {"series": 'pgmoat_rejections_total{job="pgmoat",instance="a",app="orders-api",rule="parameters"}',
                     "values": "0+6x90 546+600x20"},
                    {"series": 'pgmoat_rejections_total{job="pgmoat",instance="a",app="legacy",rule="parameters"}',
                     "values": "0+600x110"},
                ],
                "alert_rule_test": [
                    {"eval_time": "90m", "alertname": "PgmoatRejectionSpike", "exp_alerts": []},
                    {"eval_time": "101m", "alertname": "PgmoatRejectionSpike", "exp_alerts": [
                        {"exp_labels": {"severity": "warning", "instance": "a", "app": "orders-api"}}]},
                ],
            },
            {   # audit trouble, login bursts, refusals for limits
                "interval": "1m",
                "input_series": [
                    {"series": 'pgmoat_audit_write_errors_total{job="pgmoat",instance="a"}', "values": "0 0 3 3"},
                    {"series": 'pgmoat_audit_failing{job="pgmoat",instance="a"}', "values": "0 0 1 1 1"},
                    {"series": 'pgmoat_audit_records_dropped_total{job="pgmoat",instance="a"}', "values": "0 0 0 7"},
                    {"series": 'pgmoat_login_failures_total{job="pgmoat",instance="a",reason="password"}',
                     "values": "0 0 50 100 150 200"},
                    {"series": 'pgmoat_login_failures_total{job="pgmoat",instance="a",reason="upstream"}',
                     "values": "0 0 500 1000 1500 2000"},
                    {"series": 'pgmoat_client_connections_refused_total{job="pgmoat",instance="a"}', "values": "0 0 0 2"},
                ],
                "alert_rule_test": [
                    {"eval_time": "1m", "alertname": "PgmoatAuditWriteErrors", "exp_alerts": []},
                    {"eval_time": "2m", "alertname": "PgmoatAuditWriteErrors", "exp_alerts": [
                        {"exp_labels": {"severity": "warning", "job": "pgmoat", "instance": "a"}}]},
                    {"eval_time": "2m", "alertname": "PgmoatAuditFailing", "exp_alerts": []},
                    {"eval_time": "3m", "alertname": "PgmoatAuditFailing", "exp_alerts": [
                        {"exp_labels": {"severity": "critical", "job": "pgmoat", "instance": "a"}}]},
                    {"eval_time": "3m", "alertname": "PgmoatAuditRecordsDropped", "exp_alerts": [
                        {"exp_labels": {"severity": "critical", "job": "pgmoat", "instance": "a"}}]},
                    {"eval_time": "4m", "alertname": "PgmoatLoginFailureBurst", "exp_alerts": [
                        {"exp_labels": {"severity": "warning", "instance": "a"}}]},
                    {"eval_time": "3m", "alertname": "PgmoatConnectionsRefusedForLimits", "exp_alerts": [
                        {"exp_labels": {"severity": "warning", "job": "pgmoat", "instance": "a"}}]},
                ],
            },
        ],
    }
    path = tmp_path / "alerts_test.yml"
    path.write_text(json.dumps(tests, indent=1))  # JSON is YAML
    r = subprocess.run([PROMTOOL, "test", "rules", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


# ---- the live endpoint ----

def test_live_metrics_pass_promtool_check_metrics(monitored, traffic):
    status, body, content_type = http_get(monitored.metrics_port, "/metrics")
    assert status == 200
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stdout + r.stderr


def test_metrics_count_what_the_traffic_did(monitored, traffic):
    s = scrape(monitored)
    assert value(s, "pgmoat_statements_total", app=APP, target="dev", kind="select", decision="allow") >= 3
    assert value(s, "pgmoat_statements_total", app=APP, target="dev", kind="select", decision="reject") >= 1
    assert value(s, "pgmoat_rejections_total", app=APP, target="dev", rule="parameters") >= 1
    assert value(s, "pgmoat_rejections_total", app=APP, target="dev", rule="unparseable") >= 1
    assert value(s, "pgmoat_unparseable_statements_total", app=APP) >= 1
    assert value(s, "pgmoat_monitor_would_reject_total", app=WATCHER, target="dev", rule="parameters") >= 1
    assert value(s, "pgmoat_statements_total", app=WATCHER, target="dev", kind="select", decision="would_reject") >= 1
    assert value(s, "pgmoat_row_cap_exceeded_total", app=BATCH) >= 1
    assert value(s, "pgmoat_rate_limited_statements_total", app=BATCH) >= 1
    assert value(s, "pgmoat_login_failures_total", reason="password") >= 1
    assert value(s, "pgmoat_login_failures_total", reason="upstream") >= 1
    assert value(s, "pgmoat_upstream_connect_errors_total", target="offline") >= 1
    assert value(s, "pgmoat_policy_reloads_total", outcome="failure") >= 1
    assert value(s, "pgmoat_policy_reloads_total", outcome="success") >= 2
    assert value(s, "pgmoat_audit_records_written_total") > 0
    assert value(s, "pgmoat_upstream_first_byte_seconds_count", target="dev") >= 3
    assert value(s, "pgmoat_upstream_statement_duration_seconds_count", target="dev") >= 3
    assert value(s, "process_resident_memory_bytes") > 0
    assert abs(value(s, "process_start_time_seconds") - time.time()) < 3600
    assert [l["version"] for n, l, _ in s if n == "pgmoat_policy_info"] != []


def test_no_label_value_carries_sql_fingerprints_or_client_addresses(monitored, traffic):
    samples = scrape(monitored)
    allowed_labels = {"app", "target", "kind", "decision", "rule", "reason", "outcome", "version", "le"}
    for name, labels, _ in samples:
        assert set(labels) <= allowed_labels, (name, labels)
        assert labels.get("app", APP) in (APP, WATCHER, BATCH), (name, labels)
        assert labels.get("target", "dev") in ("dev", "offline"), (name, labels)
        for v in labels.values():
            assert not any(marker in v for marker in SQL_MARKERS), (name, labels)
            assert not any(fp in v for fp in traffic["fingerprints"]), (name, labels)
            assert not any(addr in v for addr in traffic["client_addrs"]), (name, labels)
            assert v not in traffic["client_ports"], (name, labels)
            assert len(v) <= 64 and re.fullmatch(r"[A-Za-z0-9_.+\-]*", v), (name, labels)
    assert traffic["fingerprints"] and traffic["client_ports"]  # the audit log saw what the labels must not


def test_healthz_and_readyz_follow_a_target_going_away_and_back(workdir):
    pg = Postgres(workdir).start()
    port = free_port()
    m = Pgmoat(workdir, targets={"solo": {"port": pg.port, "connect_timeout": "1s"}},
               apps={APP: (APP_PASSWORD, ["solo"])},
               extra=f'[metrics]\nlisten = "127.0.0.1:{port}"\nreadiness_interval = "200ms"\n').start()
    try:
        wait_for_port(port, proc=m.proc)
        assert http_get(port, "/healthz")[:2] == (200, "ok\n")
        status, body, _ = wait_until("/readyz 200", lambda: (lambda r: r if r[0] == 200 else None)(http_get(port, "/readyz")))
        assert body == "ready\n"

        pg.stop()
        status, body, content_type = wait_until(
            "/readyz 503", lambda: (lambda r: r if r[0] == 503 else None)(http_get(port, "/readyz")), timeout=10)
        assert content_type.startswith("text/plain")
        assert 'target "solo"' in body and str(pg.port) in body, body
        assert http_get(port, "/healthz")[:2] == (200, "ok\n")  # alive, just not ready
        assert value(scrape_port(port), "pgmoat_target_up", target="solo") == 0

        pg.restart_in_background()
        wait_until("/readyz 200 again", lambda: http_get(port, "/readyz")[:2] == (200, "ready\n"), timeout=30)
        assert value(scrape_port(port), "pgmoat_target_up", target="solo") == 1
        assert run_sql(m.dsn(APP, APP_PASSWORD, target="solo"), ("SELECT %s::int", (1,))) == [None]
    finally:
        m.stop()
        pg.stop()


def test_a_target_removed_by_reload_no_longer_counts_for_readiness(workdir):
    pg = Postgres(workdir).start()
    port = free_port()
    m = Pgmoat(workdir, targets={"solo": {"port": pg.port}, "gone": {"port": free_port(), "connect_timeout": "1s"}},
               apps={APP: (APP_PASSWORD, ["solo"])},
               extra=f'[metrics]\nlisten = "127.0.0.1:{port}"\nreadiness_interval = "200ms"\n').start()
    try:
        wait_for_port(port, proc=m.proc)
        _, body, _ = wait_until("/readyz 503", lambda: (lambda r: r if r[0] == 503 and "gone" in r[1] else None)(
            http_get(port, "/readyz")))
        assert 'target "gone"' in body
        with open(m.config) as f:
            text = f.read()
        start = text.index("[targets.gone]")
        end = text.index("[", start + 1)
        with open(m.config, "w") as f:
            f.write(text[:start] + text[end:])
        m.proc.send_signal(signal.SIGHUP)
        wait_until("/readyz 200", lambda: http_get(port, "/readyz")[:2] == (200, "ready\n"), timeout=10)
        assert not [s for s in scrape_port(port) if s[0] == "pgmoat_target_up" and s[1].get("target") == "gone"]
    finally:
        m.stop()
        pg.stop()


def scrape_port(port):
    status, body, _ = http_get(port, "/metrics")
    assert status == 200, body
    return parse_exposition(body)[0]


# ---- Prometheus ----

def test_prometheus_sees_counters_move(monitored, traffic, prometheus):
    started = time.time()
    rejected = f'pgmoat_rejections_total{{job="pgmoat",app="{APP}",target="dev",rule="parameters"}}'
    by_decision = f'sum by (decision) (pgmoat_statements_total{{job="pgmoat",app="{APP}"}})'
    sessions = f'pgmoat_client_sessions{{job="pgmoat",app="{APP}",target="dev"}}'

    wait_until("a successful scrape", lambda: prometheus.scalar('up{job="pgmoat"}') == 1)
    target = prometheus.api("targets")["activeTargets"][0]
    assert target["health"] == "up" and target["lastError"] == "", target

    # Prometheus has caught up with pgmoat's current values.
    samples = scrape(monitored)
    now = value(samples, "pgmoat_rejections_total", app=APP, target="dev", rule="parameters")
    assert now >= 1
    before = {}
    for name, labels, v in samples:
        if name == "pgmoat_statements_total" and labels["app"] == APP:
            before[labels["decision"]] = before.get(labels["decision"], 0) + v
    decisions = lambda: {dict(k)["decision"]: v for k, v in prometheus.query(by_decision).items()}
    prometheus.wait_for(rejected, lambda v: v == now, "Prometheus to scrape the current rejection count")
    wait_until("Prometheus to scrape the current statement counts", lambda: decisions() == before)

    with psycopg.connect(monitored.dsn(APP, APP_PASSWORD), autocommit=True) as c:
        prometheus.wait_for(sessions, lambda v: v == 1, "the open session in Prometheus")
        c.execute("SELECT %s::int", (1,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("SELECT x FROM (VALUES (1)) v(x) WHERE x::text = 'one_more_rejection'")
        c.execute("SELECT %s::int", (2,))
        after = prometheus.wait_for(rejected, lambda v: v is not None and v != now, "Prometheus to see the rejection")
        assert after == now + 1
        wait_until("the allowed statements in Prometheus", lambda: decisions().get("allow", 0) >= before["allow"] + 2)
        # A few scrapes later it is still exactly one more.
        scraped = prometheus.scalar('timestamp(up{job="pgmoat"})')
        wait_until("two more scrapes", lambda: prometheus.scalar('timestamp(up{job="pgmoat"})') >= scraped + 2)
        assert prometheus.scalar(rejected) == now + 1
        assert decisions()["reject"] == before["reject"] + 1
    prometheus.wait_for(sessions, lambda v: v == 0, "the closed session in Prometheus")

    assert prometheus.scalar('pgmoat_target_up{job="pgmoat",target="dev"}') == 1
    assert prometheus.scalar('pgmoat_target_up{job="pgmoat",target="offline"}') == 0
    assert time.time() - started < 30


def test_alert_rules_evaluate_against_live_pgmoat_data(monitored, traffic, prometheus):
    def evaluated():
        groups = prometheus.api("rules")["groups"]
        rules = [r for g in groups for r in g["rules"]]
        return rules if rules and all(r.get("lastEvaluation", "").startswith("20") and
                                      not r["lastEvaluation"].startswith("0001") for r in rules) else None

    rules = wait_until("every rule evaluated", evaluated)
    assert {r["name"] for r in rules} >= {"PgmoatDown", "PgmoatUpstreamDown", "PgmoatRejectionSpike",
                                          "PgmoatAuditWriteErrors", "PgmoatAuditFailing", "PgmoatAuditRecordsDropped",
                                          "PgmoatPolicyReloadFailed", "PgmoatLoginFailureBurst",
                                          "PgmoatConnectionsRefusedForLimits"}
    for r in rules:
        assert r["health"] == "ok" and not r.get("lastError"), r
        assert r["labels"].get("severity") in ("warning", "critical"), r
        assert r["annotations"].get("summary") and r["annotations"].get("description"), r
    # The target nothing listens on is down, and its alert is on its way.
    wait_until("PgmoatUpstreamDown pending for the offline target", lambda: any(
        a["labels"].get("alertname") == "PgmoatUpstreamDown" and a["labels"].get("target") == "offline"
        for a in prometheus.api("alerts")["alerts"]))


# ---- dashboard ----

def load_dashboard():
    with open(DASHBOARD) as f:
        return json.load(f)


def test_dashboard_is_an_importable_grafana_dashboard():
    d = load_dashboard()
    assert d["schemaVersion"] >= 36 and d["title"] and d["uid"]
    variables = {v["name"]: v for v in d["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource" and variables["DS_PROMETHEUS"]["query"] == "prometheus"
    for name in ("app", "target"):
        assert variables[name]["type"] == "query"
        assert variables[name]["query"].startswith("label_values(") and variables[name]["includeAll"]
    datasource = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
    ids, cells = set(), set()
    for p in d["panels"]:
        assert p["id"] not in ids, p["title"]
        ids.add(p["id"])
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24, p["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"panel {p['title']!r} overlaps another"
                cells.add((x, y))
        if p["type"] == "row":
            continue
        assert p["type"] in ("timeseries", "stat"), p["type"]
        assert p["datasource"] == datasource and p["targets"] and p.get("description"), p["title"]
        for t in p["targets"]:
            assert t["datasource"] == datasource and t["expr"] and t["refId"], p["title"]
        assert len({t["refId"] for t in p["targets"]}) == len(p["targets"]), p["title"]
    used = set().union(*(metric_names(e) for e in dashboard_expressions(d)))
    wanted = {
        "pgmoat_statements_total", "pgmoat_rejections_total", "pgmoat_monitor_would_reject_total",
        "pgmoat_unparseable_statements_total", "pgmoat_analysis_duration_seconds_bucket",
        "pgmoat_decision_duration_seconds_bucket", "pgmoat_upstream_first_byte_seconds_bucket",
        "pgmoat_upstream_statement_duration_seconds_bucket", "pgmoat_client_sessions", "pgmoat_login_failures_total",
        "pgmoat_client_connections_refused_total", "pgmoat_upstream_connect_errors_total",
        "pgmoat_upstream_connections", "pgmoat_target_up", "pgmoat_policy_reloads_total", "pgmoat_policy_info",
        "pgmoat_decision_cache_hits_total", "pgmoat_decision_cache_misses_total", "pgmoat_decision_cache_bytes",
        "pgmoat_audit_records_written_total", "pgmoat_audit_queue_depth", "pgmoat_audit_write_errors_total",
        "pgmoat_audit_records_dropped_total", "pgmoat_audit_failing", "process_resident_memory_bytes",
        "process_open_fds", "process_cpu_seconds_total",
    }
    assert wanted <= used, wanted - used


def test_every_metric_the_dashboard_and_alerts_use_is_exported(monitored, traffic, prometheus):
    status, body, _ = http_get(monitored.metrics_port, "/metrics")
    exported = {name for name, _, _ in parse_exposition(body)[0]}
    dashboard = dashboard_expressions(load_dashboard())
    alerts = [r["query"] for g in prometheus.api("rules")["groups"] for r in g["rules"]]
    assert len(alerts) >= 9
    for expr in dashboard + alerts:
        names = metric_names(expr)
        assert names, f"no metric in {expr!r}"
        missing = names - exported - SYNTHETIC_SERIES
        assert not missing, f"{expr!r} uses {sorted(missing)}, which pgmoat does not export"


def test_every_dashboard_query_runs_in_prometheus_and_finds_series(monitored, traffic, prometheus):
    d = load_dashboard()
    substitutions = {"$__rate_interval": "15s", "$job": "pgmoat", "$instance": ".*", "$app": ".*", "$target": ".*"}
    wait_until("two scrapes of the traffic",
               lambda: prometheus.query('count_over_time(pgmoat_policy_info{job="pgmoat"}[15s]) >= 3'))
    for p in d["panels"]:
        for t in p.get("targets", []):
            expr = t["expr"]
            for k, v in substitutions.items():
                expr = expr.replace(k, v)
            assert "$" not in expr, expr
            wait_until(f"series for panel {p['title']!r}: {expr}", lambda: prometheus.query(expr), timeout=10)
    for a in d["annotations"]["list"]:
        if "expr" in a:
            expr = a["expr"]
            for k, v in substitutions.items():
                expr = expr.replace(k, v)
            prometheus.query(expr)  # parses and runs; empty when nothing reloaded lately


def test_readme_documents_every_metric(monitored, traffic):
    with open(README) as f:
        readme = f.read()
    section = readme.split("\n## Monitoring\n", 1)[1].split("\n## ", 1)[0]
    _, families = parse_exposition(http_get(monitored.metrics_port, "/metrics")[1])
    undocumented = [name for name in families if f"`{name}`" not in section]
    assert not undocumented, f"README's Monitoring section lacks {undocumented}"
