"""What plain `docker compose` in the app's directory uses: its files, its project name and the
services its active profiles start. Compose computes each; the suite asks it and reads the answer.

The project name is the rendered model's `name` (`-p`, else COMPOSE_PROJECT_NAME from the
environment or `.env`, else top-level `name:`, else the folder); the active services are
`config --services` (COMPOSE_PROFILES from the environment or `.env`); `include:` is part of the
render. Only the list of files compose prints nowhere: `config --environment` gives COMPOSE_FILE and
COMPOSE_PATH_SEPARATOR as compose resolved them, but not the default files it falls back to. Those
are looked up here by compose's own names and order, and the result must render exactly the model
plain compose renders in that directory, or discovery refuses.
"""

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .. import runner
from ..commands import compose as compose_cmd
from ..errors import CommandFailed, ConfigError

# compose-go's default file names, in its order of preference (its warning "Found multiple config
# files ... Using" names the first), and the override file it adds from the same directory.
DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
DEFAULT_OVERRIDES = ("compose.override.yml", "compose.override.yaml", "docker-compose.override.yml",
                     "docker-compose.override.yaml")
_COMPOSE_VARIABLE = re.compile(r"^(COMPOSE_[A-Z_]+)=(.*)$", re.M)


@dataclass(frozen=True)
class ComposeView:
    directory: Path  # the project directory: the first file's
    files: tuple[Path, ...]
    project: str
    model: dict  # rendered with every profile, under project
    active: frozenset[str]  # the services a plain `docker compose up` starts
    plain_files: tuple[Path, ...] | None  # what plain compose in the directory reads (None: it finds none)
    listed: bool = False  # plain_files come from COMPOSE_FILE (environment or .env), not compose's defaults

    @property
    def profile_only(self) -> list[str]:
        """Services of profiles that neither COMPOSE_PROFILES nor the environment turns on."""
        return sorted(set(self.model.get("services") or {}) - self.active)


def _compose(argv: list[str], directory: Path, files_hint: str) -> str:
    try:
        return runner.run(argv, cwd=str(directory), limit="command").stdout
    except CommandFailed as e:
        raise ConfigError(f"the compose files do not render; compose says:\n{e.stderr_tail}\n"
                          f"Fix the file it names (the same command by hand: cd {directory} && docker compose "
                          f"{files_hint} config)") from e


def compose_variables(directory: Path, files: tuple[Path, ...] = ()) -> dict[str, str]:
    """The COMPOSE_* variables compose resolved in directory (environment over `.env`); other
    variables, secrets among them, are not kept."""
    try:
        out = runner.run(compose_cmd.environment(files), cwd=str(directory), limit="command").stdout
    except CommandFailed:
        return {}  # no compose file to be found there: plain compose would refuse too
    return dict(_COMPOSE_VARIABLE.findall(out))


def _default_files(directory: Path) -> tuple[Path, ...]:
    # compose walks up from the working directory to the first folder holding one of its file names.
    for folder in (directory, *directory.parents):
        found = next((folder / n for n in DEFAULT_FILES if (folder / n).is_file()), None)
        if found:
            override = next((folder / n for n in DEFAULT_OVERRIDES if (folder / n).is_file()), None)
            return (found, *([override] if override else []))
    return ()


def plain_files(directory: Path) -> tuple[tuple[Path, ...], bool]:
    """The files a plain `docker compose` run in directory reads: COMPOSE_FILE (split at
    COMPOSE_PATH_SEPARATOR, relative to the directory), else compose's default file and override;
    and whether COMPOSE_FILE listed them."""
    variables = compose_variables(directory)
    listed = variables.get("COMPOSE_FILE")
    if listed:
        separator = variables.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
        return tuple((directory / f).resolve() for f in listed.split(separator) if f), True
    return _default_files(directory), False


def _hint(files) -> str:
    return " ".join(f"-f {f}" for f in files)


def project_name(files: tuple[Path, ...]) -> str:
    """The project name plain `docker compose -f files` gives the app (run in its directory)."""
    directory = files[0].parent
    return json.loads(_compose(compose_cmd.as_operator(files, "config", "--format", "json"), directory,
                               _hint(files)))["name"]


def view(given: list[Path], project: str | None = None) -> ComposeView:
    """What compose uses for the app: given is the operator's files (as `docker compose -f ...` reads
    them) or one directory (as a plain `docker compose` there reads it). Refuses a directory where
    no compose file is found, or whose files this module names differently from compose."""
    directory = given[0] if given[0].is_dir() else given[0].parent
    found, listed = plain_files(directory)
    files = found if given[0].is_dir() else tuple(given)
    if not files:
        raise ConfigError(f"no compose file in {directory} or above (looked for COMPOSE_FILE and "
                          f"{', '.join(DEFAULT_FILES)}); pass the files with --compose-file=FILE")
    directory = files[0].parent
    model = json.loads(_compose(compose_cmd.as_operator(files, "--profile", "*", "config", "--format", "json",
                                                        project=project), directory, _hint(files)))
    if given[0].is_dir():
        plain = json.loads(_compose(compose_cmd.as_operator((), "--profile", "*", "config", "--format", "json",
                                                            project=project), given[0], ""))
        if plain != model:
            raise ConfigError(f"plain `docker compose` in {given[0]} renders another model than the files "
                              f"{', '.join(map(str, files))}; pass the files it uses with --compose-file=FILE "
                              "(one option per file, in order)")
    active = _compose(compose_cmd.as_operator(files, "config", "--services", project=project), directory,
                      _hint(files))
    return ComposeView(directory, files, model["name"], model, frozenset(active.split()), found or None,
                       listed)
