"""Backup set names: <env>_<database>_<UTC YYYYmmddTHHMMSSZ>, with one file per kind beside it.

Files still being written carry a `.partial` suffix and are never taken for backups.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

from ..errors import ConfigError

# '_' separates the parts of a set name, so it may not appear inside one.
_PART = re.compile(r"[A-Za-z0-9-]+")
_STAMP = "%Y%m%dT%H%M%SZ"
SUFFIXES = {".dump": "dump", ".manifest.json": "manifest", ".uploads.tar.gz": "uploads"}
# [0-9] rather than \d: strptime would accept other scripts' digits and the name would not round-trip.
_SET = re.compile(r"(?P<env>[A-Za-z0-9-]+)_(?P<db>[A-Za-z0-9-]+)_(?P<stamp>[0-9]{8}T[0-9]{6}Z)")


@dataclass(frozen=True)
class BackupSetName:
    """A parsed set name (or one of its files): env, database, UTC time and the file kind if any."""

    name: str
    env: str
    database: str
    taken_at: datetime
    kind: str | None  # None for a bare set name


def set_name(env: str, database: str, taken_at: datetime) -> str:
    """Name a backup set in UTC; refuses naive times (ValueError) and parts other than letters, digits and '-'."""
    if taken_at.tzinfo is None or taken_at.utcoffset() is None:
        raise ValueError("taken_at must be timezone-aware (use datetime.now(timezone.utc))")
    for setting, value in (("[stack] environment", env), ("database name (POSTGRES_DB)", database)):
        if not _PART.fullmatch(value):
            raise ConfigError(
                f"{setting} = {value!r} can't name a backup: use letters, digits and '-' only "
                "('_' separates the parts of a set name)"
            )
    return f"{env}_{database}_{taken_at.astimezone(timezone.utc).strftime(_STAMP)}"


def parse_set_name(name: str) -> BackupSetName | None:
    """Parse a bare set name or one of its three files; None for `.partial`, foreign or malformed names."""
    kind = None
    stem = name
    for suffix, suffix_kind in SUFFIXES.items():
        if name.endswith(suffix):
            stem, kind = name[: -len(suffix)], suffix_kind
            break
    match = _SET.fullmatch(stem)
    if not match:
        return None
    try:
        taken = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=timezone.utc)
    except ValueError:  # shaped like a stamp but not a real time, e.g. month 13
        return None
    return BackupSetName(stem, match["env"], match["db"], taken, kind)


def group_files(filenames: Iterable[str]) -> dict[str, set[str]]:
    """Map set name to the kinds of file present for it (dump, manifest, uploads); ignores everything else."""
    groups: dict[str, set[str]] = {}
    for filename in filenames:
        parsed = parse_set_name(filename)
        if parsed is not None and parsed.kind is not None:
            groups.setdefault(parsed.name, set()).add(parsed.kind)
    return groups
