"""What a fault must not cost, noted before it and checked after: the sentinel row, the release
serving, every backup set (local and offsite), every uploads store object those sets reference
(local and offsite) and every volume of the stack."""

from dataclasses import dataclass
from uuid import uuid4

import httpx

from procedures.box import backup_box
from procedures.commands import files as files_cmd
from procedures.commands import rclone as rclone_cmd
from procedures.remote import uploads_store
from procedures.sets import names, uploads_list
from procedures.stack.readiness import served_release

from .backup_helpers import a_box, in_box, local_files, remote_files
from .disposable import list_project_volumes


@dataclass(frozen=True)
class Witness:
    sentinel: str
    serving: dict
    local_sets: frozenset
    remote_sets: frozenset
    volumes: frozenset
    local_objects: frozenset  # store objects the local sets' lists reference
    remote_objects: frozenset  # ... and the offsite sets' (their lists read from local disk)


def store_paths(ctx) -> tuple[str, str]:
    store = uploads_store.store_dir(ctx.config.stack.project)
    return f"{ctx.config.backup.directory}/{store}", f"{ctx.config.offsite.path(ctx.config.stack.environment)}/{store}"


def present_objects(ctx, box=None) -> tuple[set[str], set[str]]:
    """The objects in the local and the offsite uploads store of the stack's project."""
    local, remote = store_paths(ctx)
    with a_box(ctx, box) as box:
        in_box(ctx, files_cmd.make_dir(local), box)  # a stack whose sets keep tar.gz archives has no store yet
        in_box(ctx, rclone_cmd.mkdir(remote), box)
        return (set(in_box(ctx, files_cmd.store_listing(local), box).stdout.split()),
                set(in_box(ctx, rclone_cmd.list_objects(remote), box).stdout.split()))


def referenced_objects(ctx, filenames, set_names, box) -> frozenset:
    """The store objects the lists of the given sets reference (sets keeping a tar.gz reference none)."""
    lists = [n for n in uploads_store.project_lists(filenames, ctx.config.stack.project)
             if names.parse_set_name(n).name in set_names]
    found: set[str] = set()
    for name in lists:
        found |= uploads_store.referenced(uploads_list.parse(
            in_box(ctx, files_cmd.read(f"{ctx.config.backup.directory}/{name}"), box).stdout))
    return frozenset(found)


def take(stack) -> Witness:
    """Write a sentinel note through the app, then note what serves and what exists (every read of the
    backups volume and the remote in one backup container)."""
    ctx = stack.ctx
    sentinel = f"sentinel {uuid4().hex[:8]}"
    assert httpx.post(f"{ctx.config.http.base_url}/notes", json={"body": sentinel}).status_code == 201
    with backup_box(ctx) as box:
        local = local_files(ctx, box)
        local_sets, remote_sets = frozenset(names.group_files(local)), frozenset(names.group_files(remote_files(ctx, box=box)))
        return Witness(sentinel, served_release(ctx), local_sets, remote_sets, frozenset(list_project_volumes(stack)),
                       referenced_objects(ctx, local, local_sets, box), referenced_objects(ctx, local, remote_sets, box))


def assert_intact(stack, before: Witness) -> None:
    """The previous release serves, the sentinel is there, no set and no volume is gone."""
    ctx = stack.ctx
    assert served_release(ctx) == before.serving, "the previous release keeps serving"
    assert ctx.database.query(f"SELECT count(*) FROM notes WHERE body = '{before.sentinel}'") == "1"
    assert before.volumes <= set(list_project_volumes(stack)), "no volume lost"
    with backup_box(ctx) as box:
        assert before.local_sets <= set(names.group_files(local_files(ctx, box))), "no local backup set lost"
        assert before.remote_sets <= set(names.group_files(remote_files(ctx, box=box))), "no offsite backup set lost"
        local_objects, remote_objects = present_objects(ctx, box)
    assert before.local_objects <= local_objects, "no uploads store object a local set references is lost"
    assert before.remote_objects <= remote_objects, "no uploads store object an offsite set references is lost"
