"""Backup sets as groups of files: which sets a listing holds and which of them are complete."""

from . import names
from .files import file_name
from .retention import BackupSet


def to_sets(filenames: list[str], identity: names.Identity) -> tuple[list[BackupSet], dict[str, set[str]]]:
    """identity's backup sets among file names; a set counts as verified only when its dump and manifest exist."""
    groups = names.group_files(filenames, identity)
    sets = []
    for set_name, kinds in groups.items():
        parsed = names.parse_set_name(set_name)
        sets.append(BackupSet(set_name, parsed.taken_at, "manifest" in kinds and "dump" in kinds))
    return sets, groups


def complete_files(filenames: list[str], identity: names.Identity) -> list[str]:
    """Files of identity's sets that have a manifest (complete and verified), oldest set first."""
    sets, groups = to_sets(filenames, identity)
    return [file_name(s.name, kind) for s in sorted(sets, key=lambda s: s.taken_at) if s.verified
            for kind in ("dump", "uploads", "uploads_list", "manifest") if kind in groups[s.name]]


def identity_of(ctx) -> names.Identity:
    """This stack's identity in backup names and manifests."""
    return names.Identity(ctx.config.stack.project, ctx.config.stack.environment, ctx.database.database_name())


def files_of(set_name: str, filenames: list[str]) -> list[str]:
    """The files of one set among filenames (its dump, manifest, uploads archive and list)."""
    return [n for n in filenames if names.parse_set_name(n) is not None and n.startswith(set_name + ".")]
