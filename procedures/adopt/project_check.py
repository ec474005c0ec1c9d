"""Does [stack] project name the compose project the app really runs as, and is there data under
another name? Asked before an adoption changes anything, and before it ever advises a first install.

Compose labels every container with its project and the directory it was started from, and every
volume it made with its project and compose key: those labels, not names guessed from the folder,
say which project holds the app's containers and its database volume.
"""

import json

from .. import runner
from ..commands import docker as docker_cmd
from ..errors import ConfigError, UnsafeOperation
from . import compose_rules

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"


def rows(argv: list[str]) -> list[dict]:
    """The JSON rows (one a line) that a `docker ps` / `docker volume ls --format json` prints."""
    return [json.loads(line) for line in runner.run(argv, limit="command").stdout.splitlines() if line.strip()]


def labels(row: dict) -> dict[str, str]:
    """The labels of a `docker ps` / `docker volume ls` JSON row ("k=v,k=v")."""
    return dict(item.split("=", 1) for item in (row.get("Labels") or "").split(",") if "=" in item)


def other_projects(rows: list[dict], project: str) -> dict[str, list[str]]:
    """The projects whose containers run from the app's directory (rows), project -> running containers'
    names, when none of project's does; empty when project runs there (one checkout may serve two
    projects, e.g. staging beside prod, and this stack's own containers settle which is meant)."""
    running = [(labels(row).get(PROJECT), row.get("Names") or "") for row in rows if row.get("State") == "running"]
    if any(name == project for name, _ in running):
        return {}
    found: dict[str, list[str]] = {}
    for name, container in running:
        if name:
            found.setdefault(name, []).append(container)
    return {name: sorted(containers) for name, containers in sorted(found.items())}


def refuse_other_project(config) -> None:
    """Refuse when containers started from the app's directory run under another compose project and none
    under [stack] project: every command would address a project without the app's containers or data."""
    directory = config.stack.app_files[0].parent
    containers = [row for path in sorted({str(directory), str(directory.resolve())})
                  for row in rows(docker_cmd.directory_containers(path))]
    others = other_projects(containers, config.stack.project)
    if others:
        name = next(iter(others))
        running = "; ".join(f"{p!r} ({', '.join(c)})" for p, c in others.items())
        raise UnsafeOperation(
            f"refused: the app in {directory} runs as compose project {running}, "
            f"but [stack] project = {config.stack.project!r} in {config.source or 'the config'}; the suite would "
            f"address another project, without the app's containers or its data. Set [stack] project = {name!r} "
            f"and [volumes] database to the volume its database mounts, or discover again: "
            f"pytest ops_checks/discover.py --compose-file={directory} --project={name}")


def volumes_of_key(rows: list[dict], key: str, projects: set[str]) -> list[str]:
    """The volumes in rows that compose made for the compose key under one of projects, with their project."""
    return sorted(f"{row.get('Name')} (project {labels(row).get(PROJECT)})" for row in rows
                  if labels(row).get("com.docker.compose.volume") == key and labels(row).get(PROJECT) in projects)


def refuse_install_over_data(config, key: str) -> None:
    """Refuse to advise a first install while a volume compose made for the database's compose key exists
    under [stack] project or the name compose itself gives the app (its `.env`, `name:` or folder):
    install would start an empty database beside the one that holds the data."""
    projects = {config.stack.project}
    try:
        projects.add(compose_rules.project_name(config.stack.app_files))
    except ConfigError:
        pass  # files that need the suite's variables (a required ${TAG}) to render: the config's name is all

    found = volumes_of_key(rows(docker_cmd.keyed_volumes(key)), key, projects)
    if found:
        raise UnsafeOperation(
            f"refused: the database does not run under this config, but compose made volume(s) {', '.join(found)} "
            f"for its key {key!r}: the data may be there. Never run install.py over it (it would start an empty "
            "database). Start the stack as it ran (`docker compose up -d` in its directory) and set [stack] project "
            "and [volumes] database to the project and volume its database mounts, then adopt")
