"""Read-only questions to the Docker engine, through the docker SDK where it reaches the CLI's engine.

A `docker inspect` costs ~20 ms of CLI start-up; the same question over the engine's socket ~1 ms, and
a run asks dozens. Only reads live here (the source scan in tests/unit/test_docker_sdk_scan.py proves
it): anything that changes the engine stays an argv run by the runner, where the guards read it.
Each read answers a missing object as its CLI form did (None, False, "" or CommandFailed), and raises
CommandFailed naming the CLI command, so callers and their operator messages are the same either way.
"""

import functools
import json
import os
from typing import Callable, Mapping, TypeVar

import docker
import requests

from . import engine_client, runner
from .commands import docker as cmd
from .errors import CommandFailed

T = TypeVar("T")

# cli: every read through the CLI (to compare the two, or to rule the SDK out); sdk: force the SDK.
READS_VARIABLE = "OPSUITE_DOCKER_READS"


def sdk_reaches_engine(environ: Mapping[str, str]) -> bool:
    """Whether reads go over the socket: where the SDK reaches the CLI's engine (engine_client), unless
    OPSUITE_DOCKER_READS forces one path."""
    forced = environ.get(READS_VARIABLE, "")
    if forced in ("cli", "sdk"):
        return forced == "sdk"
    return engine_client.cli_only_reason(environ) is None


@functools.cache
def reads_through_sdk() -> bool:
    """The one decision, made once per process: SDK reads, or the CLI's argv as before."""
    return sdk_reaches_engine(os.environ)


def _client() -> docker.APIClient:
    return engine_client.client()


def _ask(argv: list[str], question: Callable[[docker.APIClient], T]) -> T:
    """question's answer over the socket; a failure raises CommandFailed as argv's would have."""
    try:
        return question(_client())
    except docker.errors.NotFound as e:
        raise CommandFailed(argv, 1, f"Error response from daemon: {e.explanation}") from e
    except (docker.errors.DockerException, requests.RequestException) as e:
        raise CommandFailed(argv, 1, str(e)) from e


def _cli(argv: list[str], *, check: bool = True) -> runner.Completed:
    return runner.run(argv, limit="command", check=check)


def _missing(error: CommandFailed) -> bool:
    return "no such" in error.stderr_tail.lower()


# Engine -------------------------------------------------------------------------------------------

def server_version() -> dict:
    """The engine's version facts (Version, ApiVersion, ...): the CLI's `Server` part."""
    argv = cmd.version_json()
    if reads_through_sdk():
        return _ask(argv, lambda api: api.version())
    return json.loads(_cli(argv).stdout).get("Server") or {}


def docker_root_dir() -> str:
    argv = cmd.docker_root_dir()
    if reads_through_sdk():
        return _ask(argv, lambda api: api.info().get("DockerRootDir") or "")
    return _cli(argv).stdout.strip()


# Containers ---------------------------------------------------------------------------------------

def _container(ref: str) -> dict | None:
    """The engine's inspect of one container, the same document on both paths (the CLI's `docker inspect`
    prints the API's JSON); None when it is gone."""
    argv = cmd.container_inspect(ref)
    try:
        if reads_through_sdk():
            return _ask(argv, lambda api: api.inspect_container(ref))
        return json.loads(_cli(argv).stdout)[0]
    except CommandFailed as e:
        if _missing(e):
            return None
        raise


def _answered(ref: str) -> dict:
    """The container, or {} on any failure: for the reads whose CLI form ran with check=False."""
    try:
        return _container(ref) or {}
    except CommandFailed:
        return {}


def _required(ref: str) -> dict:
    """The container, or CommandFailed as the CLI's inspect said it (No such object)."""
    found = _container(ref)
    if found is None:
        raise CommandFailed(cmd.container_inspect(ref), 1, f"Error: No such object: {ref}")
    return found


def container_running(ref: str) -> bool:
    """Whether it runs; False when it is gone (or the engine cannot say)."""
    return bool((_answered(ref).get("State") or {}).get("Running"))


def container_mounts(ref: str) -> list[dict]:
    """Its mounts (Name, Source, Destination, ...); CommandFailed when it is gone."""
    return _required(ref).get("Mounts") or []


def container_command(ref: str) -> list[str]:
    """The command it runs (its Cmd); CommandFailed when it is gone."""
    return (_required(ref).get("Config") or {}).get("Cmd") or []


def container_healthcheck(ref: str) -> dict:
    """Its healthcheck as the engine runs it (Test, Interval, Timeout), {} when none; CommandFailed when gone."""
    return (_required(ref).get("Config") or {}).get("Healthcheck") or {}


def health_status(ref: str) -> str:
    """starting, healthy or unhealthy; "" when it has no healthcheck or is gone (or the engine cannot say)."""
    return ((_answered(ref).get("State") or {}).get("Health") or {}).get("Status", "")


def image_references(refs: list[str]) -> list[str]:
    """The image reference each container was created from; CommandFailed when one is gone."""
    return [_required(ref)["Config"]["Image"] for ref in refs]


def container_image_ids(refs: list[str]) -> list[str]:
    """The id of the image each container runs; CommandFailed when one is gone."""
    return [_required(ref)["Image"] for ref in refs]


def _facts(found: dict) -> dict:
    networks = (found.get("NetworkSettings") or {}).get("Networks") or {}
    return {"id": found["Id"], "state": found["State"]["Status"],
            "config_hash": (found["Config"].get("Labels") or {}).get("com.docker.compose.config-hash"),
            "addresses": [n.get("IPAddress") for n in networks.values()] + [""]}


def container_facts(refs: list[str]) -> list[dict]:
    """id, state, compose config hash and network addresses of each container; one gone is left out."""
    return [_facts(found) for found in map(_answered, refs) if found]


def container_identities(refs: list[str]) -> list[dict]:
    """Each container's name (as the engine spells it, "/name"), image, whether it runs, and its compose
    project; CommandFailed when one is gone."""
    found = [_required(ref) for ref in refs]
    return [{"name": c["Name"], "image": c["Config"]["Image"], "running": c["State"]["Running"],
             "project": (c["Config"].get("Labels") or {}).get("com.docker.compose.project")} for c in found]


def _names(rows: list[dict]) -> list[str]:
    return [",".join(name.lstrip("/") for name in row.get("Names") or []) for row in rows]


def service_containers(project: str, service: str, *, stopped_too: bool = False) -> list[str]:
    """Short IDs (as `docker ps` prints them) of the running containers of one compose service (all of
    them with stopped_too)."""
    argv = cmd.service_containers(project, service, stopped_too=stopped_too)
    if reads_through_sdk():
        labels = [f"com.docker.compose.project={project}", f"com.docker.compose.service={service}",
                  "com.docker.compose.oneoff=False"]
        return [row["Id"][:12] for row in _ask(argv, lambda api: api.containers(all=stopped_too, filters={"label": labels}))]
    return _cli(argv).stdout.split()


def container_names(prefix: str) -> list[str]:
    """Names of every container, running or not, whose name starts with prefix."""
    argv = cmd.container_names(prefix)
    if reads_through_sdk():
        return _names(_ask(argv, lambda api: api.containers(all=True, filters={"name": f"^{prefix}"})))
    return _cli(argv).stdout.split()


def containers_using_volume(name: str, *, running_only: bool = False) -> list[str]:
    """Names of the containers (running or stopped, or only the running ones) that mount the volume."""
    argv = cmd.containers_using_volume(name, running_only=running_only)
    if reads_through_sdk():
        return _names(_ask(argv, lambda api: api.containers(all=not running_only, filters={"volume": name})))
    return _cli(argv).stdout.split()


def project_container_ids(project: str) -> list[str]:
    """Every container of a compose project, running or not; [] when the engine cannot say."""
    argv = cmd.project_containers(project)
    if reads_through_sdk():
        try:
            rows = _ask(argv, lambda api: api.containers(all=True, filters={"label": f"com.docker.compose.project={project}"}))
        except CommandFailed:
            return []
        return [row["Id"][:12] for row in rows]
    return [json.loads(row)["ID"] for row in _cli(argv, check=False).stdout.splitlines()]


# Volumes, networks, images ------------------------------------------------------------------------

def volume(name: str) -> dict | None:
    """`docker volume inspect` of one volume; None when there is none by that name."""
    argv = cmd.volume_inspect(name)
    try:
        if reads_through_sdk():
            return _ask(argv, lambda api: api.inspect_volume(name))
        return json.loads(_cli(argv).stdout)[0]
    except CommandFailed as e:
        if "no such volume" in e.stderr_tail.lower():
            return None
        raise


def project_network_names(project: str) -> list[str]:
    """The networks compose created for a project; [] when the engine cannot say."""
    argv = cmd.project_networks(project)
    if reads_through_sdk():
        try:
            rows = _ask(argv, lambda api: api.networks(filters={"label": f"com.docker.compose.project={project}"}))
        except CommandFailed:
            return []
        return [row["Name"] for row in rows]
    return [json.loads(row)["Name"] for row in _cli(argv, check=False).stdout.splitlines()]


def network_containers(network: str) -> dict | None:
    """The running containers joined to a network ({id: {"Name": ...}}); None when the network is missing
    or the engine cannot say."""
    argv = cmd.network_containers(network)
    if reads_through_sdk():
        try:
            return _ask(argv, lambda api: api.inspect_network(network)).get("Containers") or {}
        except CommandFailed:
            return None
    answer = _cli(argv, check=False)
    return json.loads(answer.stdout or "null") or {} if answer.returncode == 0 else None


def image(ref: str) -> dict | None:
    """`docker image inspect` of one image; None when it is not on this host (or the engine cannot say)."""
    argv = cmd.image_inspect(ref)
    if reads_through_sdk():
        try:
            return _ask(argv, lambda api: api.inspect_image(ref))
        except CommandFailed:
            return None
    answer = _cli(argv, check=False)
    return json.loads(answer.stdout)[0] if answer.returncode == 0 else None


def image_id(ref: str) -> str:
    """The image's id (sha256:...); CommandFailed when it is not on this host."""
    found = image(ref)
    if found is None:
        raise CommandFailed(cmd.image_inspect(ref), 1, f"Error: No such image: {ref}")
    return found["Id"]
