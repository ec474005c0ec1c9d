"""Small helpers for backup tests: look inside the backups volume and the remote with real tools."""

import contextlib
import dataclasses
import json
from typing import Iterator

import docker
import pytest

from procedures.backup import pipeline
from procedures.box import backup_box
from procedures.commands import files as files_cmd
from procedures.context import OpsContext, prepare, prepared_context
from procedures.errors import BackupError
from procedures.remote import offsite
from procedures.sets import files as backup_files

# rclone's one-line stats at the end of a copy, as the terminal shows them after '<step> <what>: '
RCLONE_STATS = r"[\d.]+ \S*B / [\d.]+ \S*B, 100%, [\d.]+ \S*B/s, ETA \S+"


def with_offsite(ctx: OpsContext, **changes) -> OpsContext:
    config = dataclasses.replace(ctx.config, offsite=dataclasses.replace(ctx.config.offsite, **changes))
    return prepared_context(config, ctx.tag)


def impatient(ctx: OpsContext) -> OpsContext:
    """ctx whose rclone tries an unreachable remote once, for tests that take the remote away."""
    return with_offsite(ctx, retries=1, low_level_retries=1)


def with_config(ctx: OpsContext, **sections: dict) -> OpsContext:
    """ctx with some settings of some sections changed, e.g. backup={"min_free_bytes": 1}."""
    config = dataclasses.replace(ctx.config, **{name: dataclasses.replace(getattr(ctx.config, name), **changes)
                                                for name, changes in sections.items()})
    return prepared_context(config, ctx.tag)


def a_box(ctx: OpsContext, box=None):
    """The backup container given (several reads in one container), else a new one for this read alone:
    each new container is a compose run and a removal, seconds on a busy machine."""
    return contextlib.nullcontext(box) if box is not None else backup_box(ctx)


def local_files(ctx: OpsContext, box=None) -> dict[str, int]:
    with a_box(ctx, box) as box:
        return {f.name: f.size for f in backup_files.list_files(box, ctx.config.backup.directory)}


def remote_files(ctx: OpsContext, path: str | None = None, box=None) -> dict[str, offsite.RemoteFile]:
    path = path or ctx.config.offsite.path(ctx.config.stack.environment)
    with a_box(ctx, box) as box:
        return {f.name: f for f in offsite.list_remote(box, path)}


def in_box(ctx: OpsContext, argv: list[str], box=None, **kwargs):
    """Run argv in a backup container of the stack; a test's short command (`limit` may say otherwise)."""
    with a_box(ctx, box) as box:
        return box.run(argv, **{"limit": "command", **kwargs})


def plant_aged_copy(ctx: OpsContext, source_set: str, aged_set: str, *, local: bool, remote: bool) -> None:
    """Copy a real set under an older name (retention reads the time from the name), its uploads list
    too when it has one (a kept set whose list is missing refuses the store's collection)."""
    directory = ctx.config.backup.directory
    remote_path = ctx.config.offsite.path(ctx.config.stack.environment)
    with backup_box(ctx) as box:
        present = {f.name for f in backup_files.list_files(box, directory)}
        for kind in ("dump", "manifest", "uploads_list"):
            src = f"{directory}/{backup_files.file_name(source_set, kind)}"
            if kind == "uploads_list" and src.rsplit("/", 1)[-1] not in present:
                continue
            dst_name = backup_files.file_name(aged_set, kind)
            if local:
                box.run(["cp", src, f"{directory}/{dst_name}"], limit="command")
            if remote:
                box.run(["rclone", "copyto", src, f"{remote_path}/{dst_name}"], limit="command")


def manifest_of(ctx: OpsContext, set_name: str) -> dict:
    path = f"{ctx.config.backup.directory}/{backup_files.file_name(set_name, 'manifest')}"
    return json.loads(in_box(ctx, files_cmd.read(path)).stdout)


FULL_BACKUPS_KEY = "opsuite_full_backups"


FILLER = "disk-filler"
_FILL = ("import os, sys; found = os.statvfs('/to'); "
         "open('/to/" + FILLER + "', 'wb').write(bytes(found.f_bavail * found.f_frsize - int(sys.argv[1])))")


@contextlib.contextmanager
def backups_on_a_nearly_full_disk(ctx: OpsContext, spare_bytes: int) -> Iterator[OpsContext]:
    """ctx whose backups volume is a tmpfs holding a copy of every local file, filled (a file named
    disk-filler) until spare_bytes are free: the next dump runs out of space while it is written (a
    real ENOSPC, not the free-space check's refusal before writing)."""
    assert ctx.config.stack.overlay, "the backups volume is swapped through the generated overlay (an adopted stack's)"
    size = sum(local_files(ctx).values()) + 4 * 1024 * 1024
    project, client = ctx.config.stack.project, docker.from_env()
    source, full = f"{project}_{ctx.config.volumes.backups}", f"{project}_{FULL_BACKUPS_KEY}"
    client.volumes.create(full, driver="local", driver_opts={"type": "tmpfs", "device": "tmpfs", "o": f"size={size}"},
                          labels={"io.opsuite.project": project})
    # Docker mounts a tmpfs volume anew for the first container using it and drops its contents when the
    # last one stops: a holder keeps it mounted, with its files, while the backup containers come and go.
    holder = client.containers.run(ctx.config.backup.image, ["sleep", "infinity"], detach=True, network_mode="none",
                                   volumes={source: {"bind": "/from", "mode": "ro"}, full: {"bind": "/to", "mode": "rw"}})
    try:
        filled = holder.exec_run(["sh", "-c", 'cp -a /from/. /to/ && python3 -c "$0" "$1"', _FILL, str(spare_bytes)])
        assert filled.exit_code == 0, filled.output
        # The free-space check would refuse before writing; this disk fills while the dump is written.
        yield with_config(ctx, volumes={"backups": FULL_BACKUPS_KEY}, backup={"min_free_bytes": 0,
                                                                           "free_space_factor": 0})
    finally:
        prepare(OpsContext(ctx.config, ctx.tag))  # the stack's overlay names its own backups volume again
        holder.remove(force=True)
        client.volumes.get(full).remove(force=True)


def check_a_full_disk_loses_nothing(ctx: OpsContext, spare_bytes: int, said: str) -> None:
    """A backup on a disk that fills while the dump is written fails saying `said` (a regex); no file
    takes a final name and every earlier file is still there, whole."""
    with backups_on_a_nearly_full_disk(ctx, spare_bytes) as full:
        before = local_files(full)
        assert any(name.endswith(".dump") for name in before), "the earlier sets are on the full disk"
        with pytest.raises(BackupError, match=said):
            pipeline.backup(full)
        after = local_files(full)
    assert {name: after[name] for name in before} == before, "every earlier file kept as it was"
    assert all(name.endswith(".partial") for name in set(after) - set(before)), after
