"""The content-addressed uploads store: each distinct file once, at
uploads-store/<project>/<sha256[:2]>/<sha256>, locally and offsite; a set keeps only its file list.
A night with unchanged uploads adds no object.

One store per compose project: the operations lock is per project, so two stacks sharing a backups
folder or a remote never collect objects the other is writing.

Copying into the store runs inside the backup container (uploads_walk.py `store`); this module says
which objects a set references, pushes them offsite, and collects garbage after retention: objects
no kept set's list references are deleted, and nothing at all when any kept list cannot be read.
"""

import json
from dataclasses import dataclass
from typing import Callable, Iterable

from .. import progress
from ..commands import files as files_cmd
from ..commands import rclone as rclone_cmd
from ..errors import CommandFailed, OffsiteError, UnsafeOperation
from . import names, offsite, uploads_list
from .box import BackupBox
from .rclone_progress import Transfer

STORE_ROOT = "uploads-store"


def store_dir(project: str) -> str:
    """The store of one compose project, relative to the backups directory and to <remote>/<env>."""
    return f"{STORE_ROOT}/{project}"


def object_name(sha256: str) -> str:
    """An object's path relative to the store."""
    return f"{sha256[:2]}/{sha256}"


def referenced(listed: dict) -> set[str]:
    """The store objects a file list references."""
    return {object_name(e["sha256"]) for e in listed["files"]}


def unreferenced(present: Iterable[str], kept: Iterable[str]) -> list[str]:
    """What garbage collection deletes: every file in the store that no kept object name is (stale
    `.partial` files and anything else that is not a referenced object included)."""
    return sorted(set(present) - set(kept))


def lists_of(filenames: Iterable[str], set_names: Iterable[str]) -> list[str]:
    """The file lists among filenames that belong to the given sets."""
    wanted = set(set_names)
    return sorted(n for n in filenames if (p := names.parse_set_name(n)) is not None
                  and p.kind == "uploads_list" and p.name in wanted)


def project_lists(filenames: Iterable[str], project: str) -> list[str]:
    """The file lists of every set of the project among filenames (any environment or database)
    that keeps its uploads in the store: a set with a tar.gz references no object."""
    filenames = list(filenames)
    return lists_of(filenames, {n for n, kinds in names.group_files(filenames).items()
                                if names.parse_set_name(n).identity.project == project and "uploads" not in kinds})


def store(box: BackupBox, uploads_path: str, store_path: str) -> dict:
    """List the uploads tree and copy into the store every file it lacks; returns the list
    (files, skipped) plus new_objects and new_bytes."""
    box.run(files_cmd.make_dir(store_path), limit="command")
    found = json.loads(box.run(files_cmd.store_uploads(uploads_path, store_path), input_text=uploads_list.WALK_SOURCE,
                               limit="dump").stdout)
    uploads_list.parse(json.dumps(listed_part(found)))
    return found


def listed_part(found: dict) -> dict:
    """What a set's list keeps of the store step's answer (not the new objects it added)."""
    return {key: found[key] for key in ("files", "skipped", "directories")}


def objects_file(box: BackupBox, objects: Iterable[str], tag: str) -> str:
    """Write object names, one a line, to a file in the backup container's own /tmp (for rclone's
    --files-from-raw); the container and the file go at the end of the run."""
    path = f"/tmp/opsuite-objects-{tag}.txt"
    box.run(files_cmd.write_stdin_to(path), input_text="".join(f"{o}\n" for o in sorted(objects)), limit="command")
    return path


def push(box: BackupBox, local_store: str, status: offsite.RemoteStatus, store: str, objects: set[str],
         transfer: Transfer | None = None) -> None:
    """Copy the given objects the remote store lacks (rclone's stats shown live, its final ones kept in
    `transfer`), then check every one of them by size and hash."""
    if not objects:
        return
    transfer = transfer or Transfer("upload")
    remote_store = f"{status.path}/{store}"
    listed = objects_file(box, objects, "push")
    try:
        transfer.copy(box, "uploads store objects", rclone_cmd.copy_objects(local_store, remote_store, listed))
        progress.show(f"{transfer.step}: checking {len(objects)} uploads store objects on {remote_store} by hash")
        box.run(rclone_cmd.check_objects(local_store, remote_store, listed, crypt=status.crypt), limit="check")
    except CommandFailed as e:
        raise OffsiteError(f"copy of uploads store objects to {remote_store} failed or does not match: "
                           f"{e.stderr_tail}") from e


@dataclass(frozen=True)
class Collected:
    """One garbage collection: what the kept sets reference, what was deleted, what remains."""

    where: str
    kept_lists: list[str]
    referenced: int
    present_before: int
    deleted: list[str]
    present_after: list[str]
    missing_after: list[str]  # referenced objects absent from the store afterwards: should be none


def _referenced_by(read: Callable[[str], str], lists: list[str], where: str) -> set[str]:
    kept: set[str] = set()
    for name in lists:
        try:
            kept |= referenced(uploads_list.parse(read(name)))
        except (CommandFailed, ValueError, KeyError, TypeError) as e:
            raise UnsafeOperation(f"not collecting the uploads store in {where}: the kept set's list {name} "
                                  f"cannot be read ({e}); nothing was deleted") from e
    return kept


def _collected(where, lists, kept, before, deleted, after) -> Collected:
    return Collected(where, lists, len(kept), len(before), deleted, after,
                     sorted(kept - set(after)))


def collect_local(box: BackupBox, directory: str, store: str, lists: list[str]) -> Collected:
    """Delete local store objects no kept list references (lists: the kept sets' list files)."""
    store_path = f"{directory}/{store}"
    kept = _referenced_by(lambda n: box.run(files_cmd.read(f"{directory}/{n}"), limit="command").stdout, lists, directory)
    box.run(files_cmd.make_dir(store_path), limit="command")
    before = box.run(files_cmd.store_listing(store_path), limit="command").stdout.split()
    doomed = unreferenced(before, kept)
    if doomed:
        box.run(files_cmd.remove([f"{store_path}/{o}" for o in doomed]), limit="command")
    after = box.run(files_cmd.store_listing(store_path), limit="command").stdout.split()
    return _collected(store_path, lists, kept, before, doomed, after)


def collect_remote(box: BackupBox, status: offsite.RemoteStatus, store: str, lists: list[str], directory: str,
                   local_names: set[str]) -> Collected:
    """Delete remote store objects no kept remote list references. A list also on local disk is read
    there (it was uploaded from it and checked by hash); the others through rclone."""
    remote_store = f"{status.path}/{store}"

    def read(name: str) -> str:
        if name in local_names:
            return box.run(files_cmd.read(f"{directory}/{name}"), limit="command").stdout
        return box.run(rclone_cmd.cat(f"{status.path}/{name}"), limit="command").stdout

    kept = _referenced_by(read, lists, status.path)
    box.run(rclone_cmd.mkdir(remote_store), limit="command")
    before = box.run(rclone_cmd.list_objects(remote_store), limit="command").stdout.split()
    doomed = unreferenced(before, kept)
    if doomed:
        box.run(rclone_cmd.delete_objects(remote_store, objects_file(box, doomed, "collect")), limit="copy")
    after = box.run(rclone_cmd.list_objects(remote_store), limit="command").stdout.split()
    return _collected(remote_store, lists, kept, before, doomed, after)
