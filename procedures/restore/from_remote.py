"""Fetch a backup set from the offsite remote (through crypt where configured) for a restore.

The set lands in its own folder of the backups volume, under a partial name until every file is
there and its checksums equal its manifest's; local backups are never overwritten or pruned.
"""

from ..box import BackupBox
from ..commands import files as files_cmd
from ..commands import rclone as rclone_cmd
from ..context import OpsContext
from ..errors import CommandFailed, RestoreError
from ..remote import offsite, uploads_store
from ..remote.rclone_progress import Transfer
from ..sets import files as backup_files
from ..sets import uploads_list
from ..sets.chosen import Chosen
from ..sets.sets import identity_of
from .choose import pick_set, verify_chosen

FOLDER_PREFIX = "from-remote-"


def _crypt_hint(status: offsite.RemoteStatus) -> str:
    if not status.crypt:
        return ""
    return (f" {status.path} is a crypt remote: a wrong password or salt hides every file name and fails "
            "every download; rebuild the remote from the password and salt kept outside rclone.conf "
            "(docs/BACKUPS.md, encryption)")


def fetch_set(ctx: OpsContext, box: BackupBox, requested: str | None = None) -> Chosen:
    """Download the requested set (else the newest verified one) from the remote, rclone's stats shown
    live and its final figures kept in the result (`downloaded`), and verify it."""
    cfg = ctx.config
    if not cfg.offsite.enabled:
        raise RestoreError("--from-remote needs an offsite remote: set [offsite] enabled = true and remote")
    status, listed = offsite.reach(box, cfg.offsite.path(cfg.stack.environment))
    names = [f.name for f in listed]
    identity = identity_of(ctx)
    try:
        name = pick_set(names, requested, status.path,
                        f"`{box.how_to_run(f'rclone lsl {status.path}')}`", identity)
    except RestoreError as e:
        raise RestoreError(f"{e}.{_crypt_hint(status)}") from e
    folder = FOLDER_PREFIX + name
    final = f"{cfg.backup.directory}/{folder}"
    staging = final + backup_files.PARTIAL
    box.run(files_cmd.remove_tree(staging), limit="command")
    box.run(files_cmd.make_dir(staging), limit="command")
    transfer = Transfer("download")
    try:
        transfer.copy(box, "set files", rclone_cmd.copy_set_to_local(status.path, name, staging))
    except CommandFailed as e:
        box.run(files_cmd.remove_tree(staging), limit="command")
        raise RestoreError(f"download of {name} from {status.path} failed: {e.stderr_tail}{_crypt_hint(status)}") from e
    try:
        staged = verify_chosen(ctx.engine, box, cfg.backup.directory, name, folder + backup_files.PARTIAL, identity)
    except RestoreError as e:
        box.run(files_cmd.remove_tree(staging), limit="command")
        raise RestoreError(f"the copy of {name} on {status.path} is not usable: {e}") from e
    try:
        fetch_objects(box, status, staged.manifest, f"{cfg.backup.directory}/{folder}{backup_files.PARTIAL}", transfer)
    except (CommandFailed, RestoreError) as e:
        box.run(files_cmd.remove_tree(staging), limit="command")
        raise RestoreError(f"the uploads store objects of {name} on {status.path} could not be fetched: {e}") from e
    box.run(files_cmd.remove_tree(final), limit="command")  # an earlier fetch of the same set: a copy, never a backup of record
    box.run(files_cmd.rename(staging, final), limit="command")
    return Chosen(name, staged.manifest, folder, status.path if status.crypt else "", transfer.copies)


def fetch_objects(box: BackupBox, status: offsite.RemoteStatus, recorded: dict, staging: str,
                  transfer: Transfer | None = None) -> None:
    """Download the store objects a fetched set's list references into the set's own folder
    (`<folder>/<store>`), rclone's stats shown live; the local store of record is never written by a restore."""
    uploads = recorded.get("uploads") or {}
    if "store" not in uploads:
        return
    listed = uploads_list.read(box, f"{staging}/{uploads['list']['file']}", uploads["list"]["sha256"])
    objects = uploads_store.referenced(listed)
    if not objects:
        return
    transfer = transfer or Transfer("download")
    transfer.copy(box, "uploads store objects",
                  rclone_cmd.copy_objects_to_local(f"{status.path}/{uploads['store']}",
                                                   uploads_store.objects_file(box, objects, "fetch"),
                                                   f"{staging}/{uploads['store']}"))


def remove_fetched(ctx: OpsContext, box: BackupBox, chosen: Chosen) -> None:
    """Remove the folder a fetched set was downloaded into (local backups are never touched)."""
    if chosen.folder.startswith(FOLDER_PREFIX):
        box.run(files_cmd.remove_tree(f"{ctx.config.backup.directory}/{chosen.folder}"), limit="command")
