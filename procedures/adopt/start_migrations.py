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
_OFF = {off: on for on, off in _ON.items()}
# A name that says the opposite: its "true" turns migrations off.
_NEGATED = re.compile(r"(^|_)(DISABLE|DISABLED|SKIP|NO|NOT)(_|$)", re.I)
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


def _named_switches(services: dict, names: list[str], images: dict | None) -> list[Switch]:
    """Every environment variable of `names` (the compose file's, or the image's own) named for
    migrations and set to a switch's value, with the value that turns migrations off in its spelling:
    "false" for RUN_MIGRATIONS, "true" for a name that says the opposite (twenty's DISABLE_DB_MIGRATIONS)."""
    found = []
    for name in names:
        for variable, value in sorted(_environment(services, name, images).items()):
            text = str(value if value is not None else "").strip()
            if not _SWITCH_NAME.search(variable) or (text not in _ON and text not in _OFF):
                continue
            truthy = text in _ON
            if _NEGATED.search(variable):
                off = text if truthy else _OFF[text]
            else:
                off = _ON[text] if truthy else text
            found.append(Switch(name, variable, text, off))
    return found


def switches(services: dict, names: list[str], images: dict | None = None) -> list[Switch]:
    """The migration switches of `names` that are on, and a switch another app service turns off that
    one leaves unset (value ""), so its default runs (twenty's server beside its worker's
    DISABLE_DB_MIGRATIONS=true): each service that migrates on start, or likely does."""
    named = _named_switches(services, names, images)
    unset = [Switch(name, s.variable, "", s.off) for s in named if s.value == s.off for name in names
             if s.variable not in _environment(services, name, images)]
    return [s for s in named if s.value != s.off] + sorted(set(unset), key=lambda s: (s.service, s.variable))


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


_CONFIG_FILE = re.compile(r"\.(ini|conf)$")


def _config_copy_command(script: str, steps: tuple[str, ...], argv: list[str]) -> tuple[str, ...] | None:
    """argv started with a copy of the config file `script` made without the lines that migrate: the copy
    is written in /tmp when the container starts (so each release's own file is the one copied) and
    argv runs unchanged but for the file's path, a word of argv or of its `sh -c` string. None when the
    path is neither."""
    copy = f"/tmp/opsuite-{script.rsplit('/', 1)[-1]}"
    make_copy = f"grep -v -F {' '.join(f'-e {shlex.quote(step)}' for step in steps)} {shlex.quote(script)} > {copy}"
    if script in argv:
        return ("sh", "-c", f'{make_copy} && exec "$@"', "sh", *(copy if word == script else word for word in argv))
    as_word = re.compile(rf"(?<![\w/.-]){re.escape(script)}(?![\w/.-])")
    if len(argv) == 3 and argv[0] in _SHELLS and argv[1] == "-c" and as_word.search(argv[2]):
        return (argv[0], "-c", f"{make_copy} || exit 1; {as_word.sub(copy, argv[2])}")
    return None


def config_file_commands(services: dict, names: list[str], images: dict) -> list[StartCommand]:
    """App services whose start command loads a server config file that migrates (uwsgi's ini with
    `hook-pre-app = exec:./manage.py migrate`, healthchecks), and no variable switches it off: the same
    command over a copy of the file without those lines. Only when the file's path is in the command (the
    compose file's, else the image's own), so the copy can take its place."""
    found = []
    for entry in entrypoint_migrations(names, images):
        if entry.variables or not _CONFIG_FILE.search(entry.script):
            continue
        service = services.get(entry.service) or {}
        command = service.get("command") or images[entry.service].get("cmd") or []
        argv = command if isinstance(command, list) else shlex.split(str(command))
        without = _config_copy_command(entry.script, entry.steps, argv)
        if without:
            found.append(StartCommand(entry.service, tuple(argv), without))
    return found


def switch_offs(services: dict, names: list[str], images: dict | None = None) -> tuple[dict[str, str], list[str]]:
    """The variables to set in every app service so none migrates on start, and the ones that are a
    guess (an entrypoint script's variable that no environment sets on: "false" is assumed to be off)."""
    # Every switch seen, on or already off: set in every app service (twenty's worker has
    # DISABLE_DB_MIGRATIONS=true, its server has none and migrates).
    offs = {s.variable: s.off for s in _named_switches(services, names, images)}
    guessed = []
    for entry in entrypoint_migrations(names, images or {}):
        for variable in entry.variables:
            if variable not in offs:
                offs[variable] = "false"
                guessed.append(variable)
    return dict(sorted(offs.items())), guessed
