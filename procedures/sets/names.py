"""Backup set names: <project>.<env>_<database>_<UTC YYYYmmddTHHMMSSZ>, one file per kind beside it.

The name carries the stack's identity (compose project, environment, database), so stacks that
share a folder or a remote never prune or restore each other's sets. Names written before the
project joined them (<env>_<database>_<stamp>) still parse, with no project: they belong to no
stack and are left alone. Files still being written carry a `.partial` suffix and are never backups.
"""

import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Iterable

from ..errors import ConfigError

# '_' separates the parts of a set name, so it may not appear inside one.
_PART = re.compile(r"[A-Za-z0-9-]+")
_PROJECT = r"[a-z0-9][a-z0-9_-]*"  # a compose project name
_STAMP = "%Y%m%dT%H%M%SZ"
SUFFIXES = {".dump": "dump", ".manifest.json": "manifest", ".uploads.tar.gz": "uploads",
            ".uploads.list.json": "uploads_list", ".paths.tar.gz": "paths"}
# [0-9] rather than \d: strptime would accept other scripts' digits and the name would not round-trip.
# A compose project name never holds '.', so the first '.' ends it.
_SET = re.compile(rf"(?:(?P<project>{_PROJECT})\.)?"
                  r"(?P<env>[A-Za-z0-9-]+)_(?P<db>[A-Za-z0-9-]+)_(?P<stamp>[0-9]{8}T[0-9]{6}Z)")


@dataclass(frozen=True)
class Identity:
    """Whose backups: the compose project, the environment and the database (project None: an old name)."""

    project: str | None
    environment: str
    database: str

    def describe(self) -> str:
        return (f"project {self.project or '(none: named before sets carried it)'}, "
                f"environment {self.environment}, database {self.database}")


@dataclass(frozen=True)
class BackupSetName:
    """A parsed set name (or one of its files): whose it is, its UTC time and the file kind if any."""

    name: str
    identity: Identity
    taken_at: datetime
    kind: str | None  # None for a bare set name

    @property
    def env(self) -> str:
        return self.identity.environment

    @property
    def database(self) -> str:
        return self.identity.database


def set_name(identity: Identity, taken_at: datetime) -> str:
    """Name a backup set in UTC; refuses naive times (ValueError) and parts other than letters, digits and '-'."""
    if taken_at.tzinfo is None or taken_at.utcoffset() is None:
        raise ValueError("taken_at must be timezone-aware (use datetime.now(timezone.utc))")
    env, database = identity.environment, identity.database
    if identity.project is None or not re.fullmatch(_PROJECT, identity.project):
        raise ConfigError(f"[stack] project = {identity.project!r} can't name a backup: use a compose project name")
    for setting, value in (("[stack] environment", env), ("database name", database)):
        if not _PART.fullmatch(value):
            raise ConfigError(
                f"{setting} = {value!r} can't name a backup: use letters, digits and '-' only "
                "('_' separates the parts of a set name)"
            )
    return f"{identity.project}.{env}_{database}_{taken_at.astimezone(timezone.utc).strftime(_STAMP)}"


def parse_set_name(name: str) -> BackupSetName | None:
    """Parse a bare set name or one of its files; None for `.partial`, foreign or malformed names."""
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
    return BackupSetName(stem, Identity(match["project"], match["env"], match["db"]), taken, kind)


def parsed_sets(filenames: Iterable[str],
                identity: Identity | None = None) -> dict[str, tuple[BackupSetName, set[str]]]:
    """Map set name to the set's parsed name (kind None) and the kinds of file present for it, only
    identity's sets when one is given; each file name is parsed once, everything else ignored."""
    found: dict[str, tuple[BackupSetName, set[str]]] = {}
    for filename in filenames:
        parsed = parse_set_name(filename)
        if parsed is not None and parsed.kind is not None and identity in (None, parsed.identity):
            found.setdefault(parsed.name, (replace(parsed, kind=None), set()))[1].add(parsed.kind)
    return found


def group_files(filenames: Iterable[str], identity: Identity | None = None) -> dict[str, set[str]]:
    """Map set name to the kinds of file present for it (dump, manifest, uploads, uploads_list), only identity's
    sets when one is given; ignores everything else."""
    return {name: kinds for name, (_, kinds) in parsed_sets(filenames, identity).items()}


def others(filenames: Iterable[str], identity: Identity) -> list[str]:
    """Set names in a listing that are not identity's (another stack's, or named before sets carried one)."""
    return sorted(set(group_files(filenames)) - set(group_files(filenames, identity)))
