"""The settings the suite itself rewrites: which volumes hold the database and the uploads, after a
switch.

Files are rewritten atomically (a partial file, then a rename) and the previous file is kept
beside it, so the stack's own config always says which volumes are live.
"""

import os
import re
import tomllib
from pathlib import Path
from typing import Callable

from ..config import VOLUME_VARIABLES
from ..errors import ConfigError
from ..file_edit import replace_keeping_copy

KEPT_SUFFIX = "before-volume-switch"

_HEADER = re.compile(r"^\s*\[")
_VOLUMES_HEADER = re.compile(r"^\s*\[volumes\]\s*(#.*)?$")
_VOLUME_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _key_line(key: str) -> re.Pattern:
    return re.compile(rf"^(\s*{re.escape(key)}\s*=\s*)(\"[^\"]*\"|'[^']*')(.*)$")


def _with_volume_setting(text: str, key: str, name: str) -> str:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _VOLUMES_HEADER.match(line)), None)
    if start is None:
        return text.rstrip("\n") + f'\n\n[volumes]\n{key} = "{name}"\n'
    end = next((i for i in range(start + 1, len(lines)) if _HEADER.match(lines[i])), len(lines))
    pattern = _key_line(key)
    for i in range(start + 1, end):
        match = pattern.match(lines[i])
        if match:
            lines[i] = f'{match[1]}"{name}"{match[3]}'
            break
    else:
        lines.insert(start + 1, f'{key} = "{name}"')
    return "\n".join(lines) + "\n"


def set_volumes(config_path: Path, settings: dict[str, str], kept_as: Callable[[Path], None] | None = None) -> Path:
    """Set [volumes] keys (database, uploads_volume) to volume names in one rewrite; returns the copy of
    the file as it was (also given to kept_as before the file changes)."""
    for key, name in settings.items():
        if key not in VOLUME_VARIABLES:
            raise ConfigError(f"[volumes] {key} is not a setting a switch rewrites ({sorted(VOLUME_VARIABLES)})")
        if not _VOLUME_NAME.fullmatch(name):
            raise ConfigError(f"{name!r} is not a valid volume name")
    path = Path(config_path)
    text = path.read_text()
    for key, name in settings.items():
        text = _with_volume_setting(text, key, name)
    written = tomllib.loads(text).get("volumes", {})
    if any(written.get(key) != name for key, name in settings.items()):
        raise ConfigError(f"could not rewrite [volumes] in {path}; set {settings} by hand")
    return replace_keeping_copy(path, text, KEPT_SUFFIX, kept_as)



def set_env_volumes(env_file: Path | None, settings: dict[str, str],
                    kept_as: Callable[[Path], None] | None = None) -> Path | None:
    """Update the variables of the given [volumes] settings (PGDATA_VOLUME, UPLOADS_VOLUME) that the
    stack env file has a line for; None when it has none of them (or there is no env file)."""
    if env_file is None or not Path(env_file).is_file():
        return None
    wanted = {VOLUME_VARIABLES[key]: name for key, name in settings.items()}
    lines = Path(env_file).read_text().splitlines()
    if not any(line.split("=", 1)[0] in wanted for line in lines if "=" in line):
        return None
    text = "\n".join(f"{line.split('=', 1)[0]}={wanted[line.split('=', 1)[0]]}"
                     if "=" in line and line.split("=", 1)[0] in wanted else line for line in lines) + "\n"
    return replace_keeping_copy(Path(env_file), text, KEPT_SUFFIX, kept_as)



def set_env_value(env_file: Path, variable: str, value: str, kept_as: Callable[[Path], None] | None = None) -> Path:
    """Rewrite the one line that sets variable in env_file (a database URL after a disaster restore);
    returns the copy of the file as it was. Refuses a file with no such line, or with several."""
    path = Path(env_file)
    lines = path.read_text().splitlines()
    setting = re.compile(rf"^\s*(export\s+)?{re.escape(variable)}\s*=")
    found = [i for i, line in enumerate(lines) if setting.match(line)]
    if len(found) != 1:
        raise ConfigError(f"{path} has {len(found)} lines setting {variable}; a switch rewrites exactly one. Set it by hand")
    if "\n" in value or "'" in value:
        raise ConfigError(f"the new value of {variable} cannot be written on one line as it is")
    prefix = setting.match(lines[found[0]]).group(0)
    lines[found[0]] = f"{prefix}{value}"
    return replace_keeping_copy(path, "\n".join(lines) + "\n", KEPT_SUFFIX, kept_as)


def restore_file(kept: Path, path: Path) -> None:
    """Put back the file a switch replaced (used when the switch fails half-way)."""
    os.replace(kept, path)
