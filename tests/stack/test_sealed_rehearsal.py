"""The rollback check's rehearsal is sealed, on a stack whose files name its default network
(`shop_network`-style), join an external network and fix a volume's name, a container name, a host
name, an alias and a bind mount (tests/fixtures/stacks/sealed/), and whose app image declares a
VOLUME the files do not mount. While the rehearsal of each of three deploys runs (back and forth
between two tags), no live container resolves a rehearsal service to a rehearsal container, the
rehearsal can neither connect to a listener on the host nor resolve a public name the host resolves,
and it mounts no anonymous volume; nothing it made is left after the three deploys, an
interrupted rehearsal and a restore interrupted while the rehearsal seals beside it."""

import json
import os
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from procedures.backup import pipeline
from procedures.load import load_config
from procedures.context import OpsContext, prepared_context
from procedures.release import deploy
from procedures.release import rollback_check, seal, switch_plan
from procedures.sets.chosen import Chosen

from example import offsite_standin
from testkit import disposable

pytestmark = [pytest.mark.stack, pytest.mark.destructive]
LIVE_NAMES = Path(__file__).resolve().parents[1] / "fixtures" / "stacks" / "sealed" / "docker-compose.live-names.yml"
NAMES = ["db", "api", "email-worker", "shop-api", seal.PROBE_SERVICE]
RELEASES = Path(__file__).resolve().parents[2] / "example" / "api" / "releases.json"
IMAGE_VOLUME = "/var/lib/shop-image-declared"
# The fixture's api images: each TAG -> the example api release it serves. 1.1.1 is 1.1.0 under another
# version (same migrations), so deploys can go back and forth between 1.1.0 and 1.1.1.
API_TAGS = {"1.0.0": "1.0.0", "1.1.0": "1.1.0", "1.1.1": "1.1.0"}
# Three: there and back and there again, enough to show nothing accumulates from one to the next.
DEPLOYS = ["1.1.0", "1.1.1", "1.1.0"]
# Public names a host resolver may answer here; the first the host resolves (not from /etc/hosts) is used.
PUBLIC_NAMES = ["pypi.org", "deb.debian.org", "registry.npmjs.org", "github.com", "example.com"]
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


def docker(*argv: str, stdin: str | None = None) -> str:
    return subprocess.run(["docker", *argv], check=True, capture_output=True, text=True, input=stdin).stdout


def public_name() -> str | None:
    """A public name the host's resolver answers (not one of /etc/hosts' names), or None if none does."""
    listed = Path("/etc/hosts").read_text().split()
    for name in PUBLIC_NAMES:
        try:
            if name not in listed and socket.getaddrinfo(name, 443):
                return name
        except OSError:
            continue
    return None


def build_api_images(base: str, repo: str, marker: str, folder: Path) -> None:
    """The example api's releases as repo:TAG, each declaring VOLUME IMAGE_VOLUME (with a marker file
    in it, which the engine copies into every volume made there)."""
    releases = json.loads(RELEASES.read_text())
    for tag, release in API_TAGS.items():
        context = folder / f"api-{tag}"
        context.mkdir()
        (context / "release.json").write_text(json.dumps({"version": tag, **releases[release]}))
        (context / marker).write_text("made by tests/stack/test_sealed_rehearsal.py\n")
        (context / "Dockerfile").write_text(f"FROM {base}:{release}\nCOPY release.json /app/app/release.json\n"
                                            f"COPY {marker} {IMAGE_VOLUME}/{marker}\nVOLUME {IMAGE_VOLUME}\n")
        subprocess.run(["docker", "build", "--quiet", "--tag", f"{repo}:{tag}", str(context)], check=True,
                       capture_output=True, env={**os.environ, "DOCKER_BUILDKIT": "0"})


def remove_marked_volumes(marker: str) -> None:
    """The live stack's anonymous volumes at IMAGE_VOLUME (this module's own: they hold its marker)."""
    for name in docker("volume", "ls", "--quiet", "--filter", "dangling=true").split():
        # The engine is shared: a volume listed a moment ago may be gone (another session removed it).
        found = subprocess.run(["docker", "volume", "inspect", "--format", "{{.Mountpoint}}", name],
                               capture_output=True, text=True)
        if found.returncode == 0 and (Path(found.stdout.strip()) / marker).exists():
            subprocess.run(["docker", "volume", "rm", name], check=False, capture_output=True)


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
    marker, repo = f"marker-{project}", f"{project}-api"
    build_api_images(offsite_standin.env_value(env, "API_IMAGE"), repo, marker, workdir)
    env.write_text(env.read_text().replace("\nAPI_IMAGE=", f"\nAPI_IMAGE={repo}\n#API_IMAGE=") + "\n".join([
        f"HOST_DATA_DIR={hostdata}", f"WORKER_CONTAINER={project}-worker", f"SHOP_NETWORK={project}_shop_network",
        f"SHARED_NETWORK={shared}", f"CACHE_VOLUME={project}_cache", ""]))
    example = f'"{disposable.EXAMPLE / "docker-compose.yml"}"'
    # No offsite copy: each deploy's backup only has to be there for its rehearsal (kept cheap: three deploys).
    stack.config_path.write_text(stack.config_path.read_text().replace(example, f'{example}, "{LIVE_NAMES}"')
                                 .replace("[offsite]\nenabled = true", "[offsite]\nenabled = false")
                                 + '\n[deploy.rehearsal]\nenvironment = { JOBS_ENABLED = "false" }\n')
    stack.ctx = prepared_context(load_config(stack.config_path), "1.0.0")

    def clean_up():
        disposable.destroy(stack)  # also removes the shared network (it carries the project's label)
        remove_marked_volumes(marker)
        subprocess.run(["docker", "image", "rm", *(f"{repo}:{tag}" for tag in API_TAGS)], check=False,
                       capture_output=True)

    try:
        disposable.bring_up(stack)
        stack.backup = pipeline.backup(stack.ctx)
    except Exception:
        print(stack.ctx.compose.logs(tail=80))
        clean_up()
        raise
    stack.hostdata, stack.shared, stack.marker = hostdata, shared, marker
    yield stack
    clean_up()


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
    # Docker's embedded DNS on the internal network: does it forward a public name to the host's resolver?
    public = public_name()
    names = [public] if public else ["opsuite-not-a-rehearsal-service.invalid"]
    dns = {"inside": json.loads(docker("exec", rehearsal_api, "python3", "-c", RESOLVE, *names)),
           "live": json.loads(docker("exec", live_container(stack, "api"), "python3", "-c", RESOLVE, *names)),
           "public": public}
    ids = docker("ps", "--all", "--quiet", "--filter", f"label=com.docker.compose.project={project}").split()
    mounts = {facts["Name"]: facts["Mounts"] for facts in json.loads(docker("inspect", *ids))}
    live_mounts = json.loads(docker("inspect", live_container(stack, "api")))[0]["Mounts"]
    return {"ours": ours, "resolved": resolved, "inside": inside, "control": control, "live_networks": live_networks,
            "environment": docker("exec", rehearsal_api, "printenv", "JOBS_ENABLED").strip(), "dns": dns,
            "mounts": mounts, "live_mounts": live_mounts, "project": project}


# First: it rehearses on the module's own backup, which the deploys' retention may prune.
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


@pytest.mark.fault("interrupt (KeyboardInterrupt) in the restore before the sealing beside it makes its volumes")
def test_a_restore_interrupted_while_the_rehearsal_seals_leaves_nothing(shop, monkeypatch):
    ctx = shop.ctx.with_tag("1.1.0")
    taken = Chosen(shop.backup.set_name, shop.backup.manifest)
    _, proxy = switch_plan.plan(shop.ctx)
    interrupted, sealed = threading.Event(), []
    seal_files = rollback_check._seal_files

    def seals_after_the_interrupt(*args):
        interrupted.wait(timeout=600)  # the restore has stopped before the sealing makes any volume
        sealed.append(seal_files(*args))
        return sealed[-1]

    def interrupted_restore(self, server, dump_in_backups, jobs, tables=0):
        interrupted.set()
        raise KeyboardInterrupt

    monkeypatch.setattr(rollback_check, "_seal_files", seals_after_the_interrupt)
    monkeypatch.setattr(type(ctx.engine), "restore_dump", interrupted_restore)
    with pytest.raises(KeyboardInterrupt):
        rollback_check.check(ctx, taken, "1.0.0", proxy)
    assert sealed and sealed[0].volumes, "the sealing made its throwaway volumes after the restore stopped"
    assert not rehearsal_projects(shop)


@pytest.fixture(scope="module")
def looked_at(shop):
    """Each rehearsal of the module's deploys, looked at while its previous release serves."""
    listener, seen = Listener(), []
    serves = rollback_check._previous_serves

    def serves_and_is_looked_at(old, port):
        verdict = serves(old, port)
        seen.append(look_inside(shop, old, listener))
        return verdict

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rollback_check, "_previous_serves", serves_and_is_looked_at)
        yield listener, seen
    listener.close()


def assert_sealed(look: dict) -> None:
    __tracebackhide__ = True
    assert look["ours"], "the rehearsal's containers have addresses on their own network"
    for service, names in look["resolved"].items():
        assert not {a for found in names.values() for a in found} & look["ours"], (service, names, look["ours"])
    assert "reached" not in look["inside"], look["inside"]
    assert "reached" in look["control"], ("the listener is reachable from a live container", look["control"])
    for network, attached in look["live_networks"].items():
        assert all(not c["Name"].startswith("opsuite-restore-") for c in attached.values()), (network, attached)
    assert look["environment"] == "false", "[deploy.rehearsal] environment reached the rehearsal's app"
    name = look["dns"]["public"] or "opsuite-not-a-rehearsal-service.invalid"
    assert look["dns"]["inside"][name] == [], ("the rehearsal resolved a name outside it", look["dns"])
    if look["dns"]["public"]:  # the control: the host's resolver answers it for a live container
        assert look["dns"]["live"][name], look["dns"]
    # The image's VOLUME: anonymous on the live api (the control), a throwaway of the rehearsal's inside.
    assert [m for m in look["live_mounts"] if m["Destination"] == IMAGE_VOLUME and len(m["Name"]) == 64]
    for container, mounts in look["mounts"].items():
        volumes = [m["Name"] for m in mounts if m["Type"] == "volume"]
        assert all(v.startswith(look["project"]) for v in volumes), (container, mounts)
    assert any(m["Destination"] == IMAGE_VOLUME for c, ms in look["mounts"].items() if "-api-" in c for m in ms)


# One test per deploy, each under its own time limit: a deploy takes minutes on a busy machine.
@pytest.mark.fault("deploys back and forth on a stack with a fixed-name default network and an external network")
@pytest.mark.parametrize("number", range(len(DEPLOYS)))
def test_a_deploy_rehearses_sealed_and_leaves_nothing(shop, looked_at, number):
    _, seen = looked_at
    tag = DEPLOYS[number]
    run = deploy.deploy(shop.ctx, tag)
    print(f"deploy {number + 1} ({run.previous_tag} -> {tag}) timings: {run.timings}")
    assert run.outcome == "deployed" and run.previous_tag != tag, (tag, run.entry)
    verdict = run.rollback_check
    assert verdict["rollback"] == rollback_check.SAFE, verdict  # asked from the probe inside
    assert verdict["sealed"]["environment"] == ["JOBS_ENABLED"]
    assert verdict["sealed"]["dropped"] == []  # nothing in this stack loosens isolation
    assert len(seen) == number + 1
    image_volume = seal.volume_name(seen[-1]["project"], seal.image_volume_key("api", 0))
    assert image_volume in verdict["sealed"]["throwaway_volumes"], verdict["sealed"]
    assert_sealed(seen[-1])
    assert not rehearsal_projects(shop), "everything the rehearsal made is gone"


def test_after_three_deploys_no_rehearsal_volume_or_network_is_left(shop, looked_at):
    listener, seen = looked_at
    assert len(seen) == len(DEPLOYS) == 3
    assert not rehearsal_projects(shop)
    assert listener.peers and not set(listener.peers) & {a for look in seen for a in look["ours"]}, listener.peers
    assert (shop.hostdata / "settings.txt").read_text() == "live\n" and sorted(shop.hostdata.iterdir()) == [
        shop.hostdata / "settings.txt"]
    assert docker("volume", "ls", "--quiet", "--filter", f"name={shop.project}_cache").split() == [f"{shop.project}_cache"]
