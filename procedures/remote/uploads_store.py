"""The content-addressed uploads store: each distinct file once, at
uploads-store/<project>/<sha256[:2]>/<sha256>, locally and offsite; a set keeps only its file list.
A night with unchanged uploads adds no object.

One store per compose project: the operations lock is per project, so two stacks sharing a backups
folder or a remote never collect objects the other is writing.

Copying into the store runs inside the backup container (uploads_walk.py `store`); this module says
which objects a set references, pushes them offsite, and collects garbage after retention: the
objects kept are those the lists of the sets retention KEEPS reference (its decision, not a listing
taken afterwards), plus every object younger than [retention] store_grace_hours; nothing at all is
deleted when a kept set's list is missing or cannot be read.
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterable

from .. import progress
from ..box import BackupBox
from ..commands import files as files_cmd
from ..commands import rclone as rclone_cmd
from ..errors import CommandFailed, OffsiteError, UnsafeOperation
from ..sets import names, uploads_list
from . import offsite
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
    return lists_of(filenames, {n for n, (parsed, kinds) in names.parsed_sets(filenames).items()
                                if parsed.identity.project == project and "uploads" not in kinds})


def kept_lists(kept_sets: Iterable[str], filenames: Iterable[str], identity: names.Identity,
               read_manifest: Callable[[str], dict], where: str) -> list[str]:
    """The lists the store must keep objects for: those of the sets retention keeps (kept_sets, this
    stack's) and of every other set of the project in the listing (never pruned here). A kept set with
    no list must say in its manifest that it references no object (a tar.gz, or no uploads): otherwise
    the list is missing and collecting would delete what the set needs."""
    filenames = list(filenames)
    groups = names.group_files(filenames)
    ours = set(kept_sets)
    pruned_here = set(names.group_files(filenames, identity)) - ours
    lists = [n for n in project_lists(filenames, identity.project) if names.parse_set_name(n).name not in pruned_here]
    for set_name in sorted(ours):
        kinds = groups.get(set_name, set())
        if "uploads_list" in kinds or "uploads" in kinds:
            continue
        try:
            uploads = read_manifest(set_name).get("uploads")
        except (CommandFailed, ValueError) as e:
            raise UnsafeOperation(f"not collecting the uploads store in {where}: the kept set {set_name} has no "
                                  f"file list and its manifest cannot be read ({e}); nothing was deleted") from e
        if uploads and "file" not in uploads:
            raise UnsafeOperation(f"not collecting the uploads store in {where}: the kept set {set_name} keeps its "
                                  "uploads in the store but its file list is not in the listing (a partial listing, "
                                  "or the list was lost); nothing was deleted")
    return sorted(set(lists) | {n for n in lists_of(filenames, ours)})


def young(aged: dict[str, float], now: datetime, grace: timedelta) -> set[str]:
    """The objects (path -> modification time in unix seconds) stored less than `grace` before now."""
    cutoff = (now - grace).timestamp()
    return {path for path, mtime in aged.items() if mtime > cutoff}


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
    young: int = 0  # unreferenced objects left for the grace period


def _referenced_by(read: Callable[[str], str], lists: list[str], where: str) -> set[str]:
    kept: set[str] = set()
    for name in lists:
        try:
            kept |= referenced(uploads_list.parse(read(name)))
        except (CommandFailed, ValueError, KeyError, TypeError) as e:
            raise UnsafeOperation(f"not collecting the uploads store in {where}: the kept set's list {name} "
                                  f"cannot be read ({e}); nothing was deleted") from e
    return kept


def _collected(where, lists, kept, before, deleted, after, spared=0) -> Collected:
    return Collected(where, lists, len(kept), len(before), deleted, after,
                     sorted(kept - set(after)), spared)


def _local_aged(box: BackupBox, store_path: str) -> dict[str, float]:
    aged = {}
    for line in box.run(files_cmd.store_listing_aged(store_path), limit="command").stdout.splitlines():
        mtime, _, path = line.partition(" ")
        aged[path] = float(mtime)
    return aged


def collect_local(box: BackupBox, directory: str, store: str, lists: list[str], now: datetime,
                  grace: timedelta, read_local: Callable[[str], str]) -> Collected:
    """Delete local store objects no kept list references and older than grace (lists: the kept sets' list
    files, read by read_local: the run's reader, which reads each once)."""
    store_path = f"{directory}/{store}"
    kept = _referenced_by(read_local, lists, directory)
    box.run(files_cmd.make_dir(store_path), limit="command")
    aged = _local_aged(box, store_path)
    before = sorted(aged)
    spared = young(aged, now, grace)
    doomed = unreferenced(before, kept | spared)
    if doomed:
        box.run(files_cmd.remove([f"{store_path}/{o}" for o in doomed]), limit="command")
    # Nothing deleted: the listing just taken is the proof (the run wrote nothing there since).
    after = box.run(files_cmd.store_listing(store_path), limit="command").stdout.split() if doomed else before
    return _collected(store_path, lists, kept, before, doomed, after, len(spared - kept))


def _unix(rclone_time: str) -> float:
    """rclone's ModTime (RFC 3339, up to nanoseconds) as unix seconds."""
    whole, _, rest = rclone_time.partition(".")
    if rest:
        digits = re.match(r"\d*", rest).group()
        whole, zone = f"{whole}.{digits[:6]}", rest[len(digits):]
    else:
        whole, zone = rclone_time[:19], rclone_time[19:]
    return datetime.fromisoformat(whole + ("+00:00" if zone in ("Z", "") else zone)).timestamp()


def _remote_aged(box: BackupBox, remote_store: str) -> dict[str, float]:
    rows = json.loads(box.run(rclone_cmd.list_objects_aged(remote_store), limit="command").stdout or "[]")
    return {r["Path"]: _unix(r["ModTime"]) for r in rows}


def collect_remote(box: BackupBox, status: offsite.RemoteStatus, store: str, lists: list[str], directory: str,
                   local_names: set[str], now: datetime, grace: timedelta,
                   read_local: Callable[[str], str]) -> Collected:
    """Delete remote store objects no kept list references and older than grace. A list also on local
    disk is read there (it was uploaded from it and checked by hash); the others through rclone."""
    remote_store = f"{status.path}/{store}"

    def read(name: str) -> str:
        if name in local_names:
            return read_local(name)
        return box.run(rclone_cmd.cat(f"{status.path}/{name}"), limit="command").stdout

    kept = _referenced_by(read, lists, status.path)
    box.run(rclone_cmd.mkdir(remote_store), limit="command")
    aged = _remote_aged(box, remote_store)
    before = sorted(aged)
    spared = young(aged, now, grace)
    doomed = unreferenced(before, kept | spared)
    if doomed:
        box.run(rclone_cmd.delete_objects(remote_store, objects_file(box, doomed, "collect")), limit="copy")
    after = box.run(rclone_cmd.list_objects(remote_store), limit="command").stdout.split() if doomed else before
    return _collected(remote_store, lists, kept, before, doomed, after, len(spared - kept))
