"""The rollback check's rehearsal is sealed, on a stack whose files name its default network
(`shop_network`-style), join an external network and fix a volume's name, a container name, a host
name, an alias and a bind mount (tests/fixtures/stacks/sealed/). While each rehearsal runs, no live
container resolves a rehearsal service to a rehearsal container, the rehearsal cannot connect to a
listener on the host, and nothing it made is left after five rehearsals and an interrupted one."""

import json
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from procedures.backup import pipeline
from procedures.config import load_config
from procedures.context import OpsContext
from procedures.release import rollback_check, seal, switch_plan
from procedures.restore.choose import Chosen

from testkit import disposable

pytestmark = [pytest.mark.stack, pytest.mark.destructive]
LIVE_NAMES = Path(__file__).resolve().parents[1] / "fixtures" / "stacks" / "sealed" / "docker-compose.live-names.yml"
NAMES = ["db", "api", "email-worker", "shop-api", seal.PROBE_SERVICE]
RESOLVE = """import json, socket, sys
out = {}
for name in sys.argv[1:]:
    try:
        out[name] = sorted({a[4][0] for a in socket.getaddrinfo(name, 80)})
    except OSError:
        out[name] = []
print(json.dumps(out))
"""
CONNECT = """import socket, sys
for host in sys.argv[2:]:
    try:
        socket.create_connection((host, int(sys.argv[1])), timeout=2).close()
        print("reached", host)
    except OSError as e:
        print("blocked", host, e)
"""


def docker(*argv: str) -> str:
    return subprocess.run(["docker", *argv], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def shop(request, tmp_path_factory):
    """The example stack with the live names, installed at 1.0.0, its offsite configured, one backup taken."""
    workdir = tmp_path_factory.mktemp("shop")
    stack = disposable.create(workdir)
    project = stack.project
    hostdata = workdir / "hostdata"
    hostdata.mkdir()
    (hostdata / "settings.txt").write_text("live\n")
    shared = f"{project}-shared"
    docker("network", "create", "--label", f"com.docker.compose.project={project}", shared)
    env = stack.ctx.config.stack.env_file
    env.write_text(env.read_text() + "\n".join([
        f"HOST_DATA_DIR={hostdata}", f"WORKER_CONTAINER={project}-worker", f"SHOP_NETWORK={project}_shop_network",
        f"SHARED_NETWORK={shared}", f"CACHE_VOLUME={project}_cache", ""]))
    example = f'"{disposable.EXAMPLE / "docker-compose.yml"}"'
    stack.config_path.write_text(stack.config_path.read_text().replace(example, f'{example}, "{LIVE_NAMES}"')
                                 + '\n[deploy.rehearsal]\nenvironment = { JOBS_ENABLED = "false" }\n')
    stack.ctx = OpsContext(load_config(stack.config_path), "1.0.0")
    try:
        disposable.bring_up(stack)
        disposable.configure_offsite(stack)
        stack.backup = pipeline.backup(stack.ctx)
    except Exception:
        print(stack.ctx.compose.logs(tail=80))
        disposable.destroy(stack)
        raise
    stack.hostdata, stack.shared = hostdata, shared
    yield stack
    disposable.destroy(stack)  # also removes the shared network (it carries the project's label)


def rehearsal_projects(stack) -> set[str]:
    prefix = f"opsuite-restore-{stack.project}-rehearsal"
    found = set()
    for kind in ("container", "volume", "network"):
        listing = ["ps", "--all"] if kind == "container" else [kind, "ls"]
        for row in docker(*listing, "--format", "{{.Names}}" if kind == "container" else "{{.Name}}").split():
            if row.startswith(prefix):
                found.add(f"{kind} {row}")
        for row in docker(*listing, "--filter", "label=com.docker.compose.project", "--format",
                          '{{.Label "com.docker.compose.project"}} {{.Names}}' if kind == "container"
                          else '{{.Label "com.docker.compose.project"}} {{.Name}}').splitlines():
            if row.startswith(prefix):
                found.add(f"{kind} {row}")
    return found


def live_container(stack, service: str) -> str:
    return docker("ps", "--quiet", "--filter", f"label=com.docker.compose.project={stack.project}",
                  "--filter", f"label=com.docker.compose.service={service}").split()[0]


def rehearsal_addresses(project: str) -> set[str]:
    ids = docker("ps", "--quiet", "--filter", f"label=com.docker.compose.project={project}").split()
    found = set()
    for facts in json.loads(docker("inspect", *ids)):
        found |= {n["IPAddress"] for n in facts["NetworkSettings"]["Networks"].values() if n["IPAddress"]}
    return found


def host_addresses() -> list[str]:
    out = subprocess.run(["ip", "-4", "-o", "addr"], check=True, capture_output=True, text=True).stdout
    return [line.split()[3].split("/")[0] for line in out.splitlines() if " lo " not in line]


class Listener:
    """A TCP listener on every host address, counting who connected (bounded: closed by the test)."""

    def __init__(self):
        self.sock = socket.create_server(("0.0.0.0", 0))
        self.sock.settimeout(0.5)
        self.port, self.peers, self.open = self.sock.getsockname()[1], [], True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while self.open:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                continue
            self.peers.append(peer[0])
            conn.close()

    def close(self):
        self.open = False
        self.thread.join(timeout=5)
        self.sock.close()


def look_inside(stack, old: OpsContext, listener: Listener) -> dict:
    """While the rehearsal runs: what the live containers resolve, and what its app can connect to."""
    project = old.config.stack.project
    ours = rehearsal_addresses(project)
    resolved = {service: json.loads(docker("exec", live_container(stack, service), "python3", "-c", RESOLVE, *NAMES))
                for service in ("api", "email-worker")}
    rehearsal_api = docker("ps", "--quiet", "--filter", f"label=com.docker.compose.project={project}",
                           "--filter", "label=com.docker.compose.service=api").split()[0]
    gateways = [c.get("Gateway") for c in json.loads(docker("network", "inspect", seal.network_name(project)))[0]
                ["IPAM"]["Config"] if c.get("Gateway")]
    targets = host_addresses() + gateways
    inside = docker("exec", rehearsal_api, "python3", "-c", CONNECT, str(listener.port), *targets)
    # The control: a live container, on the stack's own network, does reach the listener.
    control = docker("exec", live_container(stack, "api"), "python3", "-c", CONNECT, str(listener.port), *host_addresses())
    live_networks = {name: json.loads(docker("network", "inspect", name))[0]["Containers"]
                     for name in (f"{stack.project}_shop_network", stack.shared)}
    return {"ours": ours, "resolved": resolved, "inside": inside, "control": control, "live_networks": live_networks,
            "environment": docker("exec", rehearsal_api, "printenv", "JOBS_ENABLED").strip()}


@pytest.mark.fault("rehearsal on a stack with a fixed-name default network and an external network")
def test_five_rehearsals_stay_sealed_and_leave_nothing(shop, monkeypatch):
    ctx = shop.ctx.with_tag("1.1.0")
    taken = Chosen(shop.backup.set_name, shop.backup.manifest)
    _, proxy = switch_plan.plan(shop.ctx)
    listener, seen = Listener(), []
    serves = rollback_check._previous_serves

    def serves_and_is_looked_at(old, port):
        verdict = serves(old, port)
        seen.append(look_inside(shop, old, listener))
        return verdict

    monkeypatch.setattr(rollback_check, "_previous_serves", serves_and_is_looked_at)
    try:
        for _ in range(5):
            verdict = rollback_check.check(ctx, taken, "1.0.0", proxy)
            assert verdict["rollback"] == rollback_check.SAFE, verdict  # asked from the probe inside
            assert verdict["sealed"]["environment"] == ["JOBS_ENABLED"]
            assert not rehearsal_projects(shop), "everything the rehearsal made is gone"
    finally:
        listener.close()
    assert len(seen) == 5
    for look in seen:
        assert look["ours"], "the rehearsal's containers have addresses on their own network"
        for service, names in look["resolved"].items():
            assert not {a for found in names.values() for a in found} & look["ours"], (service, names, look["ours"])
        assert "reached" not in look["inside"], look["inside"]
        assert "reached" in look["control"], ("the listener is reachable from a live container", look["control"])
        for network, attached in look["live_networks"].items():
            assert all(not c["Name"].startswith("opsuite-restore-") for c in attached.values()), (network, attached)
        assert look["environment"] == "false", "[deploy.rehearsal] environment reached the rehearsal's app"
    assert listener.peers and not set(listener.peers) & {a for look in seen for a in look["ours"]}, listener.peers
    assert (shop.hostdata / "settings.txt").read_text() == "live\n" and sorted(shop.hostdata.iterdir()) == [
        shop.hostdata / "settings.txt"]
    assert docker("volume", "ls", "--quiet", "--filter", f"name={shop.project}_cache").split() == [f"{shop.project}_cache"]


@pytest.mark.fault("interrupt (KeyboardInterrupt) while the rehearsal's app serves")
def test_an_interrupted_rehearsal_leaves_nothing(shop, monkeypatch):
    ctx = shop.ctx.with_tag("1.1.0")
    taken = Chosen(shop.backup.set_name, shop.backup.manifest)
    _, proxy = switch_plan.plan(shop.ctx)
    serves = rollback_check._previous_serves

    def interrupted(old, port):
        serves(old, port)
        assert rehearsal_projects(shop), "the rehearsal was up when interrupted"
        raise KeyboardInterrupt

    monkeypatch.setattr(rollback_check, "_previous_serves", interrupted)
    with pytest.raises(KeyboardInterrupt):
        rollback_check.check(ctx, taken, "1.0.0", proxy)
    assert not rehearsal_projects(shop)
