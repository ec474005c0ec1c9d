"""Copy evidence (HTML report and JSON record) to the offsite remote, beside the backups.

rclone and its config live in the backup service, so the files are mounted into a one-off
container of it, read-only. They go to <remote>/<env>/reports/<check>/, a folder that backup
retention never lists (it prunes only files at the top of <remote>/<env>/).
"""

from pathlib import Path

from ..commands import rclone as cmd
from ..context import OpsContext
from ..errors import CommandFailed, OpsError
from ..stack.serving import with_serving_tag
from ..stack.volumes import ensure_data_volumes

_MOUNT = "/evidence"


def remote_folder(ctx: OpsContext, check: str) -> str:
    return f"{ctx.config.offsite.path(ctx.config.stack.environment)}/reports/{check}"


def copy_offsite(ctx: OpsContext, files: list[Path], check: str) -> str:
    """Copy files (all in one folder) to the remote's reports folder; returns that folder."""
    ctx = with_serving_tag(ctx)
    folder = files[0].parent.resolve()
    names = [f.name for f in files]
    target = remote_folder(ctx, check)
    ensure_data_volumes(ctx)
    try:
        ctx.compose.run_once(ctx.config.services.backup, cmd.copy_files(_MOUNT, target, names),
                             volumes=[f"{folder}:{_MOUNT}:ro"], no_deps=True, limit="command")
    except CommandFailed as e:
        raise OpsError(f"copy of {', '.join(names)} to {target} failed: {e.stderr_tail}") from e
    return target
