"""A stack's own folder under [deploy] state_dir, and the small JSON files the suite keeps there
(the backup clock's last trusted time, the remote catalog): 0600 files in a 0700 folder."""

import json
from pathlib import Path

from .private_files import private_dir, write_private


def directory(state_dir: str, project: str) -> Path:
    """<state_dir>/<project>, 0700; a state_dir that already exists keeps its mode (it may be shared)."""
    private_dir(state_dir, tighten=False)
    return private_dir(Path(state_dir) / project)


def read_json(state_dir: str, project: str, name: str) -> dict:
    """The file's content, {} while it was never written (reading creates nothing)."""
    try:
        return json.loads((Path(state_dir) / project / name).read_text())
    except FileNotFoundError:
        return {}


def write_json(state_dir: str, project: str, name: str, content: dict) -> None:
    write_private(directory(state_dir, project) / name, json.dumps(content, indent=2, sort_keys=True) + "\n")
