"""Backup sets as groups of files: which sets a listing holds and which of them are complete."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from . import names
from .files import file_name

# A set stamped later than this after now was written while the clock ran ahead: it would look
# newest for as long as the clock stays wrong, so nothing treats it as the newest by itself.
FUTURE_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class BackupSet:
    """One backup set as retention sees it: its name, when it was taken and whether it verified."""

    name: str
    taken_at: datetime
    verified: bool


def to_sets(filenames: list[str], identity: names.Identity) -> tuple[list[BackupSet], dict[str, set[str]]]:
    """identity's backup sets among file names; a set counts as verified only when its dump and manifest exist."""
    found = names.parsed_sets(filenames, identity)
    sets = [BackupSet(set_name, parsed.taken_at, "manifest" in kinds and "dump" in kinds)
            for set_name, (parsed, kinds) in found.items()]
    return sets, {set_name: kinds for set_name, (_, kinds) in found.items()}


def trusted_sets(filenames: list[str], identity: names.Identity,
                 now: datetime) -> tuple[list[BackupSet], list[BackupSet]]:
    """identity's verified sets not stamped in the future, newest first; and those stamped in the future."""
    sets, _ = to_sets(filenames, identity)
    latest = now + FUTURE_MARGIN
    future = sorted((s for s in sets if s.taken_at > latest), key=lambda s: s.name)
    trusted = sorted((s for s in sets if s.verified and s.taken_at <= latest), key=lambda s: s.taken_at, reverse=True)
    return trusted, future


def complete_files(filenames: list[str], identity: names.Identity) -> list[str]:
    """Files of identity's sets that have a manifest (complete and verified), oldest set first."""
    sets, groups = to_sets(filenames, identity)
    return [file_name(s.name, kind) for s in sorted(sets, key=lambda s: s.taken_at) if s.verified
            for kind in ("dump", "uploads", "uploads_list", "paths", "manifest") if kind in groups[s.name]]


def identity_of(ctx) -> names.Identity:
    """This stack's identity in backup names and manifests."""
    return names.Identity(ctx.config.stack.project, ctx.config.stack.environment, ctx.database.database_name())


def files_of(set_name: str, filenames: list[str]) -> list[str]:
    """The files of one set among filenames (its dump, manifest, uploads archive and list)."""
    return [n for n in filenames if names.parse_set_name(n) is not None and n.startswith(set_name + ".")]
