"""The one setting the suite itself rewrites: which volume holds the database, after a switch.

Files are rewritten atomically (a partial file, then a rename) and the previous file is kept
beside it, so the stack's own config always says which volume is live.
"""

import os
import re
import shutil
import tomllib
from datetime import datetime, timezone
from pathlib import Path

from ..errors import ConfigError

_HEADER = re.compile(r"^\s*\[")
_VOLUMES_HEADER = re.compile(r"^\s*\[volumes\]\s*(#.*)?$")
_DATABASE_KEY = re.compile(r"^(\s*database\s*=\s*)(\"[^\"]*\"|'[^']*')(.*)$")
_ENV_KEY = "PGDATA_VOLUME"


def _with_database_volume(text: str, name: str) -> str:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _VOLUMES_HEADER.match(line)), None)
    if start is None:
        return text.rstrip("\n") + f'\n\n[volumes]\ndatabase = "{name}"\n'
    end = next((i for i in range(start + 1, len(lines)) if _HEADER.match(lines[i])), len(lines))
    for i in range(start + 1, end):
        match = _DATABASE_KEY.match(lines[i])
        if match:
            lines[i] = f'{match[1]}"{name}"{match[3]}'
            break
    else:
        lines.insert(start + 1, f'database = "{name}"')
    return "\n".join(lines) + "\n"


def _replace_atomically(path: Path, text: str, stamp: str) -> Path:
    kept = path.with_name(f"{path.name}.{stamp}.before-volume-switch")
    shutil.copy2(path, kept)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    shutil.copymode(path, partial)
    os.replace(partial, path)
    return kept


def set_database_volume(config_path: Path, name: str) -> Path:
    """Point [volumes] database at name; returns the copy of the file as it was."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ConfigError(f"{name!r} is not a valid volume name")
    path = Path(config_path)
    text = _with_database_volume(path.read_text(), name)
    if tomllib.loads(text).get("volumes", {}).get("database") != name:
        raise ConfigError(f"could not rewrite [volumes] database in {path}; set it to {name!r} by hand")
    return _replace_atomically(path, text, datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"))


def set_env_database_volume(env_file: Path | None, name: str) -> Path | None:
    """Update PGDATA_VOLUME in the stack env file when it has one (manual compose commands read it)."""
    if env_file is None or not Path(env_file).is_file():
        return None
    lines = Path(env_file).read_text().splitlines()
    if not any(line.startswith(f"{_ENV_KEY}=") for line in lines):
        return None
    text = "\n".join(f"{_ENV_KEY}={name}" if line.startswith(f"{_ENV_KEY}=") else line for line in lines) + "\n"
    return _replace_atomically(Path(env_file), text, datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"))


def restore_file(kept: Path, path: Path) -> None:
    """Put back the file a switch replaced (used when the switch fails half-way)."""
    os.replace(kept, path)
