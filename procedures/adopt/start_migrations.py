"""Migrations an app service runs when it starts, and how to start it without them.

An image that migrates on start (DJANGO_PERFORM_MIGRATIONS=True, RUN_MIGRATIONS=1, or a command such as
`sh -c "alembic upgrade head && uvicorn app:app"`) migrates the live database on every `up`, before the
suite's verified backup and outside its one-off step. Pure logic over the rendered model.
"""

import re
import shlex
from dataclasses import dataclass

_SWITCH_NAME = re.compile(r"MIGRAT", re.I)
_ON = {"true": "false", "True": "False", "TRUE": "FALSE", "1": "0", "yes": "no", "Yes": "No", "on": "off"}
MIGRATION_STEP = re.compile(r"alembic\s+upgrade|\bmigrat|db:migrate|prisma\s+migrate|drizzle-kit\s+(migrate|push)",
                             re.I)
_SHELLS = ("sh", "bash", "/bin/sh", "/bin/bash", "ash", "/bin/ash")


@dataclass(frozen=True)
class Switch:
    service: str
    variable: str
    value: str
    off: str  # the same spelling, switched off


@dataclass(frozen=True)
class StartCommand:
    service: str
    command: tuple[str, ...]  # as the model has it
    without: tuple[str, ...] | None  # the command with its migration step taken out; None when it cannot be


def _environment(services: dict, name: str, images: dict | None) -> dict:
    """The service's environment as its container sees it: the image's own, under the compose file's."""
    declared = (services.get(name) or {}).get("environment") or {}
    return {**((images or {}).get(name) or {}).get("env", {}), **(declared if isinstance(declared, dict) else {})}


def switches(services: dict, names: list[str], images: dict | None = None) -> list[Switch]:
    """Every environment variable of `names` (the compose file's, or the image's own) named for
    migrations and set on (true, 1, yes, on)."""
    found = []
    for name in names:
        environment = _environment(services, name, images)
        for variable, value in sorted(environment.items()):
            text = str(value if value is not None else "").strip()
            if _SWITCH_NAME.search(variable) and text in _ON:
                found.append(Switch(name, variable, text, _ON[text]))
    return found


def _without_migration(command: list[str]) -> tuple[str, ...] | None:
    """`sh -c "A && B"` without the steps that migrate; None when the command is not that shape or is
    only a migration."""
    if len(command) != 3 or command[0] not in _SHELLS or command[1] != "-c":
        return None
    steps = [s.strip() for s in re.split(r"&&|;", command[2]) if s.strip()]
    kept = [s for s in steps if not MIGRATION_STEP.search(s)]
    if not kept or len(kept) == len(steps):
        return None
    return (command[0], "-c", " && ".join(kept))


def start_commands(services: dict, names: list[str]) -> list[StartCommand]:
    """The app services whose command (or entrypoint) runs a migration step on start."""
    found = []
    for name in names:
        service = services.get(name) or {}
        for key in ("command", "entrypoint"):
            value = service.get(key) or []
            try:
                argv = value if isinstance(value, list) else shlex.split(str(value))
            except ValueError:  # unbalanced quotes: compose would refuse it; judge the text as it is
                argv = [str(value)]
            if argv and MIGRATION_STEP.search(" ".join(argv)):
                found.append(StartCommand(name, tuple(argv), _without_migration(argv) if key == "command" else None))
    return found


@dataclass(frozen=True)
class EntrypointMigration:
    service: str
    script: str
    steps: tuple[str, ...]  # the script's lines that migrate
    variables: tuple[str, ...]  # variables named for migrations the script reads (its likely switch)


def entrypoint_migrations(names: list[str], images: dict) -> list[EntrypointMigration]:
    """App services whose image's entrypoint script migrates (image_facts.py read it)."""
    found = []
    for name in names:
        entry = (images.get(name) or {}).get("entrypoint")
        if entry:
            found.append(EntrypointMigration(name, entry["script"], tuple(entry["migrates"]), tuple(entry["variables"])))
    return found


def switch_offs(services: dict, names: list[str], images: dict | None = None) -> tuple[dict[str, str], list[str]]:
    """The variables to set in every app service so none migrates on start, and the ones that are a
    guess (an entrypoint script's variable that no environment sets on: "false" is assumed to be off)."""
    offs = {s.variable: s.off for s in switches(services, names, images)}
    guessed = []
    for entry in entrypoint_migrations(names, images or {}):
        for variable in entry.variables:
            if variable not in offs:
                offs[variable] = "false"
                guessed.append(variable)
    return dict(sorted(offs.items())), guessed
