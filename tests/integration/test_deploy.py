"""The deployment files in deploy/ are checked against pgmoat itself: the systemd
unit passes systemd-analyze, the container file installs what the binary links
and exposes what the config serves, and the Kubernetes manifests carry a config
that `pgmoat check` accepts, with ports, paths, probes and drain timing that
match it. (No container engine runs on this machine: the container file is
linted here, not built.)"""
import os
import re
import shutil
import subprocess
import tomllib

import pytest
import yaml

from pgharness import PGMOAT_BIN, ROOT

DEPLOY = os.path.join(ROOT, "deploy")


def duration_seconds(text):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", text)
    assert m, text
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


# ---- systemd ------------------------------------------------------------------


@pytest.fixture(scope="module")
def unit(tmp_path_factory):
    """The unit with the built binary in place of /usr/local/bin/pgmoat."""
    text = open(os.path.join(DEPLOY, "systemd", "pgmoat.service")).read()
    path = tmp_path_factory.mktemp("unit") / "pgmoat.service"
    path.write_text(text.replace("/usr/local/bin/pgmoat", PGMOAT_BIN))
    return path, text


def unit_values(text, key):
    return [line.split("=", 1)[1] for line in text.splitlines() if line.startswith(key + "=")]


def test_the_systemd_unit_verifies_and_is_hardened(unit):
    path, text = unit
    r = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert r.returncode == 0 and "pgmoat.service" not in r.stderr, r.stderr
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(path)], capture_output=True, text=True)
    m = re.search(r"Overall exposure level for pgmoat\.service: ([\d.]+)", r.stdout)
    assert m, r.stdout[-2000:] + r.stderr
    assert float(m.group(1)) <= 2.0, r.stdout[-3000:]
    # Reload is SIGHUP, stop is SIGTERM with time for pgmoat's own drain.
    assert unit_values(text, "ExecReload") == ["/bin/kill -HUP $MAINPID"]
    assert unit_values(text, "KillSignal") == ["SIGTERM"]
    assert duration_seconds(unit_values(text, "TimeoutStopSec")[0]) > 30  # shutdown_timeout's default
    assert unit_values(text, "User") == ["pgmoat"]


def test_the_units_start_check_rejects_a_broken_policy(unit, tmp_path):
    """ExecStartPre runs `pgmoat check`: a broken policy keeps the service from starting."""
    _, text = unit
    check = unit_values(text, "ExecStartPre")[0].replace("/usr/local/bin/pgmoat", PGMOAT_BIN).split()
    assert check[1] == "check"
    shutil.copytree(os.path.join(ROOT, "policies"), tmp_path / "policies")
    (tmp_path / "pgmoat.toml").write_text('[server]\ncredentials = "c.toml"\n[targets.t]\nhost = "h"\nuser = "u"\n')
    config = str(tmp_path / "pgmoat.toml")
    assert subprocess.run([*check[:2], "-c", config], capture_output=True).returncode == 0
    (tmp_path / "policies" / "broken.toml").write_text("[policy]\nmode = \"sometimes\"\n")
    r = subprocess.run([*check[:2], "-c", config], capture_output=True, text=True)
    assert r.returncode == 1 and "broken.toml:2" in r.stderr


# ---- container ----------------------------------------------------------------


def containerfile():
    text = open(os.path.join(DEPLOY, "container", "Containerfile")).read()
    text = re.sub(r"\\\n", " ", text)  # join continued lines
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def stages():
    out, current = [], None
    for line in containerfile():
        word, _, rest = line.partition(" ")
        if word == "FROM":
            current = {"from": rest, "lines": []}
            out.append(current)
        current["lines"].append((word, rest))
    return out


def test_the_container_file_runs_the_binary_with_what_it_links_as_a_user_on_the_served_ports():
    build, runtime = stages()
    assert build["from"].startswith("debian:bookworm") and runtime["from"].startswith("debian:bookworm")
    # Every file the build copies exists in the repository.
    for word, rest in build["lines"] + runtime["lines"]:
        if word == "COPY" and not rest.startswith("--from"):
            assert os.path.exists(os.path.join(ROOT, rest.split()[0])), rest
    # The run-time stage installs every shared library the binary links (the base
    # image brings libc, libstdc++ and libgcc).
    installed = " ".join(rest for word, rest in runtime["lines"] if word == "RUN")
    # apt installs what a listed package depends on (libpq5 brings Kerberos and LDAP):
    # those count as installed, as dpkg on this machine records the dependencies.
    seen, todo = set(), re.findall(r"\blib[\w.+-]+", installed)
    while todo:
        package = todo.pop()
        if package in seen:
            continue
        seen.add(package)
        depends = subprocess.run(["dpkg-query", "-W", "-f=${Depends}", package], capture_output=True, text=True).stdout
        todo += [d.strip().split()[0].split(":")[0] for alt in depends.split(",") for d in alt.split("|")[:1] if d.strip()]
    installed += " " + " ".join(sorted(seen))
    ldd = subprocess.run(["ldd", PGMOAT_BIN], capture_output=True, text=True, check=True).stdout
    for line in ldd.splitlines():
        m = re.search(r"=> (/\S+)", line)
        if not m:
            continue
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(m.group(1))], capture_output=True, text=True)
        package = owner.stdout.split(":")[0] if owner.returncode == 0 else None
        # The sanitizer build links ASan's and UBSan's run-time too: not part of a release image.
        if package and package not in ("libc6", "libstdc++6", "libgcc-s1") and not re.match(r"lib(asan|ubsan)\d", package):
            assert re.search(rf"\b{re.escape(package)}\b", installed), f"{package} ({m.group(1)}) is not installed"
    directives = {word: rest for word, rest in runtime["lines"]}
    assert directives["USER"] not in ("root", "0")
    assert set(directives["EXPOSE"].split()) == {"6432", "9187"}
    assert directives["STOPSIGNAL"] == "SIGTERM"
    assert "http://127.0.0.1:9187/healthz" in directives["HEALTHCHECK"]


# ---- Kubernetes ---------------------------------------------------------------


@pytest.fixture(scope="module")
def manifests():
    docs = list(yaml.safe_load_all(open(os.path.join(DEPLOY, "kubernetes", "pgmoat.yaml"))))
    by_kind = {d["kind"]: d for d in docs}
    assert set(by_kind) == {"ConfigMap", "Secret", "Deployment", "Service", "PodDisruptionBudget"}
    return by_kind


def test_the_kubernetes_config_passes_pgmoat_check_with_the_mounted_files(manifests, tmp_path):
    """Lay the files out as the pod mounts them and run pgmoat check on them."""
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    mounts = {m["name"]: m for m in pod["containers"][0]["volumeMounts"]}
    root = tmp_path / "root"

    def place(mount_path):
        return root / mount_path.lstrip("/")

    config_path = place(mounts["config"]["mountPath"])
    config_path.parent.mkdir(parents=True)
    config_path.write_text(manifests["ConfigMap"]["data"][mounts["config"]["subPath"]])
    shutil.copytree(os.path.join(ROOT, "policies"), place(mounts["policies"]["mountPath"]))
    secrets = place(mounts["secrets"]["mountPath"])
    secrets.mkdir(parents=True)
    for name, value in manifests["Secret"]["stringData"].items():
        (secrets / name).write_text(value)
        os.chmod(secrets / name, 0o400)  # as defaultMode says
    r = subprocess.run([PGMOAT_BIN, "check", "-c", str(config_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    shipped = [n for n in os.listdir(os.path.join(ROOT, "policies")) if n.endswith(".toml")]
    assert f"{len(shipped)} policy files OK" in r.stdout

    config = tomllib.loads(config_path.read_text())
    # Every file the config names is one the pod mounts.
    for path in (config["server"]["credentials"], config["targets"]["prod"]["password_file"],
                 config["targets"]["prod"]["sslrootcert"], config["policies"]["dir"]):
        assert (config_path.parent / path).exists(), path
    # The audit log is written under a writable volume (the root file system is read-only).
    audit_dir = os.path.dirname(config["audit"]["path"])
    assert any(m["mountPath"] == audit_dir and not m.get("readOnly") for m in mounts.values())
    assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True


def test_the_kubernetes_ports_probes_and_drain_match_the_config(manifests):
    config = tomllib.loads(manifests["ConfigMap"]["data"]["pgmoat.toml"])
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["postgres"] == int(config["server"]["listen"].rsplit(":", 1)[1])
    assert ports["metrics"] == int(config["metrics"]["listen"].rsplit(":", 1)[1])
    assert not config["metrics"]["listen"].startswith("127."), "probes and Prometheus come from outside the pod"
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert container["args"] == ["serve", "-c", "/etc/pgmoat/pgmoat.toml"]
    # preStop, then SIGTERM and pgmoat's drain, all within the grace period.
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    drain = int(pre_stop[1]) + duration_seconds(config["server"]["shutdown_timeout"])
    assert pod["terminationGracePeriodSeconds"] > drain
    # The Service routes to the pods' client port; the budget keeps instances up.
    service = manifests["Service"]["spec"]
    assert service["selector"] == manifests["Deployment"]["spec"]["selector"]["matchLabels"]
    assert service["ports"][0]["targetPort"] == "postgres"
    pdb = manifests["PodDisruptionBudget"]["spec"]
    assert pdb["selector"]["matchLabels"] == service["selector"]
    assert pdb["maxUnavailable"] < manifests["Deployment"]["spec"]["replicas"]
    # Secrets are never in the ConfigMap.
    assert "password =" not in manifests["ConfigMap"]["data"]["pgmoat.toml"]
