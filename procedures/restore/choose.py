"""Choose the backup set to restore (the newest verified one, or the one asked for) and re-verify it."""

from datetime import datetime, timezone

from ..box import BackupBox
from ..context import OpsContext
from ..errors import BackupError, CommandFailed, RestoreError
from ..sets import files, manifest, names, verify
from ..sets.chosen import Chosen
from ..sets.sets import identity_of, trusted_sets


def _may_restore(wanted: names.Identity, ours: names.Identity) -> bool:
    """Our own sets; one named before sets carried a project only if environment and database match."""
    return wanted == ours or (wanted.project is None and (wanted.environment, wanted.database)
                              == (ours.environment, ours.database))


def pick_set(filenames: list[str], requested: str | None, where: str, how_to_list: str,
             identity: names.Identity, now: datetime | None = None) -> str:
    """The requested set, else identity's newest verified one (dump and manifest present) that is not
    stamped in the future; another stack's set is refused, naming both."""
    if requested:
        wanted = names.parse_set_name(requested.rsplit("/", 1)[-1])
        groups = names.group_files(filenames)
        if wanted is None or wanted.name not in groups:
            raise RestoreError(f"backup {requested!r} not found in {where}; list the sets there: {how_to_list}")
        if not _may_restore(wanted.identity, identity):
            raise RestoreError(f"backup {wanted.name} is not this stack's: it is {wanted.identity.describe()}; "
                               f"this stack is {identity.describe()}. Choose one of this stack's sets")
        if "manifest" not in groups[wanted.name]:
            raise RestoreError(f"backup {wanted.name} in {where} has no manifest: it never verified; choose another")
        return wanted.name
    newest, ahead = trusted_sets(filenames, identity, now or datetime.now(timezone.utc))
    future = [s.name for s in ahead]
    if not newest:
        others = names.others(filenames, identity)
        raise RestoreError(
            f"no verified backup of this stack ({identity.describe()}) in {where}: run `pytest ops_checks/backup.py` "
            "first" + (f"; sets stamped in the future (the clock ran ahead when they were written) are never "
                       f"chosen by themselves: {', '.join(future)} (pass --backup=SET to restore one)" if future else "")
            + (f"; {len(others)} other set(s) there are not this stack's" if others else ""))
    return newest[0].name


def verify_chosen(engine, box: BackupBox, directory: str, name: str, folder: str = "",
                  identity: names.Identity | None = None) -> Chosen:
    """Re-check a set's archive and checksums against its manifest, and that the manifest is this
    stack's, before anything restores it."""
    try:
        found = verify.verify_set(engine, box, "/".join(p for p in (directory, folder) if p), name)
    except (BackupError, CommandFailed) as e:
        raise RestoreError(f"backup {name} failed verification, not restoring it: {e}") from e
    recorded = manifest.identity(found)
    if identity is not None and not _may_restore(recorded, identity):
        raise RestoreError(f"backup {name}'s manifest is not this stack's: it records {recorded.describe()}; this "
                           f"stack is {identity.describe()}. Not restoring it")
    return Chosen(name, found, folder)


def choose_backup(ctx: OpsContext, box: BackupBox, requested: str | None = None) -> Chosen:
    """The newest verified set in the backups volume (or the requested one), re-verified."""
    directory = ctx.config.backup.directory
    filenames = [f.name for f in files.list_files(box, directory)]
    listing = f"`{box.how_to_run(f'ls -l {directory}')}`"
    identity = identity_of(ctx)
    return verify_chosen(ctx.engine, box, directory, pick_set(filenames, requested, "the backups volume", listing,
                                                              identity), identity=identity)
