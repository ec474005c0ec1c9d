"""argv builders for `docker compose` against one configured stack."""

from pathlib import Path
from typing import Sequence

from ..config import StackConfig


def compose(stack: StackConfig, *args: str) -> list[str]:
    argv = ["docker", "compose", "--project-name", stack.project]
    if stack.env_file is not None:
        argv += ["--env-file", str(stack.env_file)]
    for path in stack.compose_files:
        argv += ["--file", str(path)]
    return argv + list(args)


def as_operator(files: Sequence[Path], *args: str, project: str | None = None) -> list[str]:
    """`docker compose` as an operator's plain command in the app's directory runs it: no --project-name
    unless one is given (compose then takes COMPOSE_PROJECT_NAME, `.env`, top-level `name:` or the
    folder), no --file when files is empty (COMPOSE_FILE or compose's default files)."""
    argv = ["docker", "compose", *(["--project-name", project] if project else [])]
    for path in files:
        argv += ["--file", str(path)]
    return argv + list(args)


def environment(files: Sequence[Path] = ()) -> list[str]:
    """The variables compose interpolates with (the process's, then `.env`'s), COMPOSE_* included."""
    return as_operator(files, "config", "--environment")


def config_json(stack: StackConfig) -> list[str]:
    return compose(stack, "config", "--format", "json")


def config_json_every_profile(stack: StackConfig) -> list[str]:
    """The model with every profile's services (an app's backup and cron services often sit in one)."""
    return compose(stack, "--profile", "*", "config", "--format", "json")


def ps_json(stack: StackConfig) -> list[str]:
    return compose(stack, "ps", "--all", "--format", "json")


def pull_missing(stack: StackConfig, services: list[str]) -> list[str]:
    """Pull only the images that are not here yet (a TAG's images never change once pushed)."""
    return compose(stack, "pull", "--policy", "missing", *services)


def up(stack: StackConfig, services: list[str], *, no_deps: bool = False,
       force_recreate: bool = False) -> list[str]:
    """Start or update services in the background; never builds (images come by TAG)."""
    flags = ["up", "--detach", "--no-build"]
    if no_deps:
        flags.append("--no-deps")
    if force_recreate:
        # An external volume's new name is not part of the service's config hash: without this
        # compose would keep the container, and the database, on the old volume.
        flags.append("--force-recreate")
    return compose(stack, *flags, *services)


def scale_beside(stack: StackConfig, service: str, count: int) -> list[str]:
    """Start new containers of a service beside the running ones, up to count in all: the running
    ones are kept as they are (`--no-recreate`), the new ones get the current config (the new TAG)."""
    return compose(stack, "up", "--detach", "--no-build", "--no-deps", "--no-recreate",
                   "--scale", f"{service}={count}", service)


def config_hash(stack: StackConfig, service: str) -> list[str]:
    """The config hash compose would label a new container of the service with ("<service> <hash>")."""
    return compose(stack, "config", f"--hash={service}")


def run_once(stack: StackConfig, service: str, command: list[str] | None = None,
             *, volumes: list[str] | None = None, env_names: list[str] | None = None,
             detach: bool = False, name: str | None = None, no_deps: bool = False) -> list[str]:
    """A one-off container removed on exit (migrate, backup); env values come from the caller's env."""
    argv = ["run", "--rm", "--no-TTY"]
    if no_deps:
        argv.append("--no-deps")
    if detach:
        argv.append("--detach")
    if name:
        argv += ["--name", name]
    for mount in volumes or []:
        argv += ["--volume", mount]
    for name in env_names or []:
        argv += ["--env", name]  # name only: the value is inherited, never placed in argv
    argv.append(service)
    return compose(stack, *argv, *(command or []))


def stop(stack: StackConfig, services: list[str]) -> list[str]:
    """Stop the named services; never none named, which compose reads as every service of the stack."""
    if not services:
        raise ValueError("compose stop needs the services to stop: an empty list would stop the whole stack")
    return compose(stack, "stop", *services)


def down(stack: StackConfig, stop_seconds: int | None = None) -> list[str]:
    """Remove containers and networks; volumes are never removed (no -v, by design). stop_seconds
    replaces each container's stop grace period (0: killed at once, for a stack nothing is kept of)."""
    grace = ["--timeout", str(stop_seconds)] if stop_seconds is not None else []
    return compose(stack, "down", "--remove-orphans", *grace)


def logs(stack: StackConfig, services: list[str] | None = None, tail: int = 200) -> list[str]:
    return compose(stack, "logs", "--no-color", "--tail", str(tail), *(services or []))


def build(stack: StackConfig, services: list[str]) -> list[str]:
    """Build the services' images from their `build:` sections, tagged with their `image:` names."""
    return compose(stack, "build", *services)
