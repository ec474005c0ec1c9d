"""Backup set names: <env>_<database>_<UTC YYYYmmddTHHMMSSZ>, with one file per kind beside it.

Files still being written carry a `.partial` suffix and are never taken for backups.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

from .errors import ConfigError

_PART = re.compile(r"^[A-Za-z0-9-]+$")
_STAMP = "%Y%m%dT%H%M%SZ"
SUFFIXES = {".dump": "dump", ".manifest.json": "manifest", ".uploads.tar.gz": "uploads"}
_SET = re.compile(r"^(?P<env>[A-Za-z0-9-]+)_(?P<db>[A-Za-z0-9-]+)_(?P<stamp>\d{8}T\d{6}Z)$")


@dataclass(frozen=True)
class BackupSetName:
    name: str
    env: str
    database: str
    taken_at: datetime
    kind: str | None  # None for a bare set name


def set_name(env: str, database: str, taken_at: datetime) -> str:
    """Name a backup set; refuses naive times and parts that would break parsing."""
    if taken_at.tzinfo is None:
        raise ValueError("taken_at must be timezone-aware")
    for setting, value in (("[stack] environment", env), ("database name", database)):
        if not _PART.match(value):
            raise ConfigError(f"{setting} {value!r} can't name a backup: use letters, digits and '-' only")
    return f"{env}_{database}_{taken_at.astimezone(timezone.utc).strftime(_STAMP)}"


def parse_set_name(name: str) -> BackupSetName | None:
    """Parse a set name or one of its files; None for partial or foreign files."""
    kind = None
    stem = name
    for suffix, suffix_kind in SUFFIXES.items():
        if name.endswith(suffix):
            stem, kind = name[: -len(suffix)], suffix_kind
            break
    match = _SET.match(stem)
    if not match:
        return None
    try:
        taken = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return BackupSetName(stem, match["env"], match["db"], taken, kind)


def group_files(filenames: Iterable[str]) -> dict[str, set[str]]:
    """Set name -> the kinds of file present for it (dump, manifest, uploads)."""
    groups: dict[str, set[str]] = {}
    for filename in filenames:
        parsed = parse_set_name(filename)
        if parsed is not None and parsed.kind is not None:
            groups.setdefault(parsed.name, set()).add(parsed.kind)
    return groups
