"""Small helpers for backup tests: look inside the backups volume and the remote with real tools."""

import dataclasses
import json

from procedures.backup import files as backup_files
from procedures.backup import offsite
from procedures.backup.box import backup_box
from procedures.commands import files as files_cmd
from procedures.context import OpsContext


def with_offsite(ctx: OpsContext, **changes) -> OpsContext:
    config = dataclasses.replace(ctx.config, offsite=dataclasses.replace(ctx.config.offsite, **changes))
    return OpsContext(config, ctx.tag)


def impatient(ctx: OpsContext) -> OpsContext:
    """ctx whose rclone tries an unreachable remote once, for tests that take the remote away."""
    return with_offsite(ctx, retries=1, low_level_retries=1)


def with_config(ctx: OpsContext, **sections: dict) -> OpsContext:
    """ctx with some settings of some sections changed, e.g. backup={"min_free_bytes": 1}."""
    config = dataclasses.replace(ctx.config, **{name: dataclasses.replace(getattr(ctx.config, name), **changes)
                                                for name, changes in sections.items()})
    return OpsContext(config, ctx.tag)


def local_files(ctx: OpsContext) -> dict[str, int]:
    with backup_box(ctx) as box:
        return {f.name: f.size for f in backup_files.list_files(box, ctx.config.backup.directory)}


def remote_files(ctx: OpsContext, path: str | None = None) -> dict[str, offsite.RemoteFile]:
    path = path or ctx.config.offsite.path(ctx.config.stack.environment)
    with backup_box(ctx) as box:
        return {f.name: f for f in offsite.list_remote(box, path)}


def in_box(ctx: OpsContext, argv: list[str], **kwargs):
    with backup_box(ctx) as box:
        return box.run(argv, **kwargs)


def plant_aged_copy(ctx: OpsContext, source_set: str, aged_set: str, *, local: bool, remote: bool) -> None:
    """Copy a real set under an older name (retention reads the time from the name)."""
    directory = ctx.config.backup.directory
    remote_path = ctx.config.offsite.path(ctx.config.stack.environment)
    with backup_box(ctx) as box:
        for kind in ("dump", "manifest"):
            src = f"{directory}/{backup_files.file_name(source_set, kind)}"
            dst_name = backup_files.file_name(aged_set, kind)
            if local:
                box.run(["cp", src, f"{directory}/{dst_name}"])
            if remote:
                box.run(["rclone", "copyto", src, f"{remote_path}/{dst_name}"])


def manifest_of(ctx: OpsContext, set_name: str) -> dict:
    path = f"{ctx.config.backup.directory}/{backup_files.file_name(set_name, 'manifest')}"
    return json.loads(in_box(ctx, files_cmd.read(path)).stdout)
