"""Choose the backup set to restore (the newest verified one, or the one asked for) and re-verify it."""

from dataclasses import dataclass
from datetime import datetime, timezone

from ..backup import files, names, verify
from ..backup.box import BackupBox
from ..backup.sets import to_sets
from ..context import OpsContext
from ..errors import BackupError, CommandFailed, RestoreError


@dataclass(frozen=True)
class Chosen:
    set_name: str
    manifest: dict
    folder: str = ""  # inside the backups volume: "" or where a set fetched from the remote lies

    @property
    def dump_file(self) -> str:
        return self.manifest["dump"]["file"]

    @property
    def dump_in_backups(self) -> str:
        """The dump's path relative to the backups volume."""
        return "/".join(part for part in (self.folder, self.dump_file) if part)

    @property
    def age_seconds(self) -> float:
        taken = names.parse_set_name(self.set_name).taken_at
        return (datetime.now(timezone.utc) - taken).total_seconds()


def pick_set(filenames: list[str], requested: str | None, where: str, how_to_list: str) -> str:
    """The requested set, else the newest verified one (dump and manifest present) among file names."""
    sets, groups = to_sets(filenames)
    if requested:
        wanted = names.parse_set_name(requested.rsplit("/", 1)[-1])
        if wanted is None or wanted.name not in groups:
            raise RestoreError(f"backup {requested!r} not found in {where}; list the sets there: {how_to_list}")
        if "manifest" not in groups[wanted.name]:
            raise RestoreError(f"backup {wanted.name} in {where} has no manifest: it never verified; choose another")
        return wanted.name
    newest = sorted((s for s in sets if s.verified), key=lambda s: s.taken_at, reverse=True)
    if not newest:
        raise RestoreError(f"no verified backup in {where}: run `pytest ops_checks/backup.py` first")
    return newest[0].name


def verify_chosen(engine, box: BackupBox, directory: str, name: str, folder: str = "") -> Chosen:
    """Re-check a set's archive and checksums against its manifest before anything restores it."""
    try:
        manifest = verify.verify_set(engine, box, "/".join(p for p in (directory, folder) if p), name)
    except (BackupError, CommandFailed) as e:
        raise RestoreError(f"backup {name} failed verification, not restoring it: {e}") from e
    return Chosen(name, manifest, folder)


def choose_backup(ctx: OpsContext, box: BackupBox, requested: str | None = None) -> Chosen:
    """The newest verified set in the backups volume (or the requested one), re-verified."""
    directory = ctx.config.backup.directory
    filenames = [f.name for f in files.list_files(box, directory)]
    listing = f"`{box.how_to_run(f'ls -l {directory}')}`"
    return verify_chosen(ctx.engine, box, directory, pick_set(filenames, requested, "the backups volume", listing))
