"""Disposable copies of the example stack for tests: unique project, volume, port and password.

Only this test helper removes volumes, and only ones whose names carry the test prefix.
"""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import docker

from example import offsite_standin
from procedures.release import install
from procedures.load import load_config
from procedures.context import OpsContext, prepared_context
from procedures.errors import OpsError

from . import ports

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "example"
TEST_PREFIX = "opstest-"


# Parallel xdist workers pick ports from ranges of their own: a port one worker found free is not
# handed to another before its stack binds it.
_PORTS_PER_WORKER = 2000
_next_port: dict[str, int] = {}


def free_port() -> int:
    """A port free on 127.0.0.1 and reserved for this process, from this worker's own range (gw0, gw1, ...;
    one range without xdist)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    first = 20000 + int(worker.removeprefix("gw") or 0) * _PORTS_PER_WORKER
    # Each session starts at a random place in the range: sessions of a suite without reservations (an
    # older checkout on the same engine) all start at its first port.
    start = _next_port.get(worker, first + secrets.randbelow(_PORTS_PER_WORKER))
    for port in [*range(start, first + _PORTS_PER_WORKER), *range(first, start)]:
        if not ports.reserve(port):  # held by another session on this machine, or in use
            continue
        _next_port[worker] = port + 1 if port + 1 < first + _PORTS_PER_WORKER else first
        return port
    raise RuntimeError(f"no free port in {first}-{first + _PORTS_PER_WORKER - 1}")


@dataclass
class DisposableStack:
    ctx: OpsContext
    config_path: Path
    password: str

    @property
    def project(self) -> str:
        return self.ctx.config.stack.project


def create(workdir: Path, tag: str = "1.0.0") -> DisposableStack:
    project = f"{TEST_PREFIX}{uuid4().hex[:8]}"
    password = secrets.token_urlsafe(18)
    port = free_port()
    env_lines = []
    for line in (EXAMPLE / ".env.example").read_text().splitlines():
        if line.startswith("POSTGRES_PASSWORD="):
            line = f"POSTGRES_PASSWORD={password}"
        elif line.startswith("OFFSITE_PASSWORD="):
            line = f"OFFSITE_PASSWORD={secrets.token_urlsafe(18)}"
        elif line.startswith("OFFSITE_CRYPT_PASSWORD="):
            line = f"OFFSITE_CRYPT_PASSWORD={secrets.token_urlsafe(18)}"
        elif line.startswith("PROXY_PORT="):
            continue
        env_lines.append(line)
    env_lines.append(f"PROXY_PORT={port}")
    env_file = workdir / f"{project}.env"
    env_file.write_text("\n".join(env_lines) + "\n")
    config_path = workdir / f"{project}.toml"
    config_path.write_text(
        (ROOT / "ops.toml").read_text()
        .replace('project = "zenops-example"', f'project = "{project}"')
        .replace('database = "zenops-example_pgdata"', f'database = "{project}_pgdata"')
        .replace('"example/docker-compose.yml"', f'"{EXAMPLE / "docker-compose.yml"}"')
        .replace('"docker-compose.prod.yml"', f'"{ROOT / "docker-compose.prod.yml"}"')
        .replace('"example/docker-compose.offsite-standin.yml"', f'"{EXAMPLE / "docker-compose.offsite-standin.yml"}"')
        .replace('env_file = "example/.env"', f'env_file = "{env_file}"')
        .replace('base_url = "http://127.0.0.1:8080"', f'base_url = "http://127.0.0.1:{port}"')
        .replace("ready_timeout_seconds = 120", "ready_timeout_seconds = 40")
    )
    config = load_config(config_path)
    assert config.stack.project == project and str(port) in config.http.base_url
    return DisposableStack(prepared_context(config, tag), config_path, password)


def bring_up(stack: DisposableStack) -> None:
    """Install the stack at its TAG on a new database volume and wait until it is ready."""
    volume = install.ensure_database_volume(stack.ctx)
    install.start_database(stack.ctx)
    migrated = install.migrate_new_database(stack.ctx, volume)
    install.start_app(stack.ctx)
    install.check_ready(stack.ctx)
    install.record(stack.ctx, migrated)


def configure_offsite(stack: DisposableStack, crypt_password: str | None = None) -> None:
    """Point the stack's `gdrive:` remote, and `gdrive-crypt:` over it, at its own SFTP stand-in (with the
    passwords it was made with, or the crypt password given)."""
    env_file = stack.ctx.config.stack.env_file
    offsite_standin.configure(stack.ctx, offsite_standin.env_value(env_file, "OFFSITE_PASSWORD"),
                              crypt_password or offsite_standin.env_value(env_file, "OFFSITE_CRYPT_PASSWORD"))


def destroy(stack: DisposableStack) -> None:
    """Remove the test project's containers, networks and volumes (test prefix enforced)."""
    assert stack.project.startswith(TEST_PREFIX), "refusing to destroy a non-test project"
    try:
        stack.ctx.compose.down()
    except OpsError:
        pass  # containers are removed below either way
    destroy_project(stack.project, stack.ctx.config.volumes.database)


def list_project_volumes(stack: DisposableStack) -> list[str]:
    """The stack's volumes: compose's, the suite's (by label) and the database's."""
    client = docker.from_env()
    names = {v.name for v in client.volumes.list(filters={"label": f"com.docker.compose.project={stack.project}"})}
    names |= {v.name for v in client.volumes.list(filters={"label": f"io.opsuite.project={stack.project}"})}
    names |= {v.name for v in client.volumes.list() if v.name == stack.ctx.config.volumes.database}
    return sorted(names)


def destroy_project(project: str, *volumes: str) -> None:
    """Remove a test project's containers, networks and volumes by label, and the named volumes."""
    assert project.startswith(TEST_PREFIX), "refusing to destroy a non-test project"
    client = docker.from_env()
    label = f"com.docker.compose.project={project}"
    for container in client.containers.list(all=True, filters={"label": label}):
        container.remove(force=True)
    # compose down keeps a network that profile-only containers (offsite) still used: leaked
    # networks exhaust Docker's address pools after a few dozen runs.
    for network in client.networks.list(filters={"label": label}):
        network.remove()
    names = {v.name for v in client.volumes.list(filters={"label": label})}
    names |= {v.name for v in client.volumes.list(filters={"label": f"io.opsuite.project={project}"})}
    names |= set(volumes)
    # Spare volumes a test made under the project's name but labelled as another's (a neighbour's).
    names |= {v.name for v in client.volumes.list() if v.name.startswith(f"{project}_")}
    for name in names:
        assert name.startswith(TEST_PREFIX), f"refusing to remove non-test volume {name}"
        try:
            client.volumes.get(name).remove(force=True)
        except docker.errors.NotFound:
            pass
