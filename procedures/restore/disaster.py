"""Disaster restore: a verified backup into a NEW database volume, then the stack switched to it.

Every function here that changes the live stack refuses without CONFIRM=YES in the environment,
whichever step called it (a deselected confirmation step confirms nothing). The live volume is never a restore target and is never removed:
the restore runs in an isolated server (or, for a database file, an idle container) on the new
volume, and the switch (`procedures/volume_switch.py`) only changes which volume the db container
(or the app holding the file) mounts.
"""

import contextlib
import os
import secrets
from datetime import datetime, timezone
from typing import Mapping

from .. import guards, restored_names, runner
from ..box import BackupBox
from ..commands import docker as cmd
from ..context import OpsContext
from ..engines.targets import DISASTER, VOLUME, RestoreTarget, TargetPlan
from ..errors import RestoreError
from ..stack import volumes

RESTORED_LABEL = "io.opsuite.restored-from"
PROJECT_LABEL = "io.opsuite.project"


def container_labels(ctx: OpsContext) -> dict[str, str]:
    """The labels of a disaster restore's containers (database server, uploads writer): how a test
    or an operator finds one left behind."""
    return {"io.opsuite.role": "disaster-restore", PROJECT_LABEL: ctx.config.stack.project}


def require_confirmation(environ: Mapping[str, str] = os.environ) -> None:
    """Refuse a disaster restore, before anything changes, unless CONFIRM=YES is in the environment."""
    guards.require_confirmation(
        environ, "disaster mode stops the app and switches the stack to a restored copy of the database "
        "(the current volume is kept)",
        "CONFIRM=YES pytest ops_checks/restore_drill.py --mode=disaster [--backup=SET | --from-remote]")


def stop_writers(ctx: OpsContext, undo: contextlib.ExitStack) -> list[str]:
    """Stop the app services so nothing writes to the database that is about to be replaced; their
    restart is registered on undo first, so any exit before the switch serves the old volume again."""
    require_confirmation()
    services = list(ctx.config.services.app)
    undo.callback(resume_writers, ctx)
    ctx.compose.stop(services)
    return services


def resume_writers(ctx: OpsContext) -> None:
    """Start the stopped app services again on the volume the stack still uses."""
    ctx.compose.up(list(ctx.config.services.app), no_deps=True)


def remove_restore_container(name: str) -> None:
    """Remove a disaster restore's server container, never its volume (no -v)."""
    runner.run(cmd.remove_container(name), limit="command", check=False)


def require_volume_engine(ctx: OpsContext) -> None:
    """Disaster mode restores into a new volume and recreates the service holding the database on it,
    or into a new database on the live server and switches the app's URL; only the first carries a new
    uploads volume with it: refuse what it cannot do (nothing has changed yet)."""
    if not ctx.config.volumes.uploads or ctx.engine.data_place == VOLUME:
        return
    raise RestoreError(f"disaster mode does not restore uploads with [database] engine = {ctx.engine.name!r} yet: "
                       "restore the set into a new database on the server, switch the URL and the uploads volume "
                       "by hand (docs/RESTORE_RUNBOOK.md section 8). Nothing was changed")


def restore_target_for_disaster(ctx: OpsContext, box: BackupBox, set_name: str, database: str,
                                cleanup: contextlib.ExitStack, server_version_num: int = 0) -> RestoreTarget:
    """Where the set goes, beside the live data: a NEW database volume (named after the one in use,
    labelled with the set) with an isolated server or container on it as the app expects it, or a NEW
    database on the live server. The container's removal is registered on cleanup before it is started.
    Refused without CONFIRM=YES."""
    require_confirmation()
    now = datetime.now(timezone.utc)
    container = f"opsuite-disaster-{ctx.config.stack.project}-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"

    def new_volume() -> str:
        volume = restored_names.new_name(volumes.mounted_database_volume(ctx) or ctx.config.volumes.database, now)
        labels = {RESTORED_LABEL: set_name, PROJECT_LABEL: ctx.config.stack.project}
        return volumes.create_database_volume(volume, ctx.config.stack.project, labels).name

    cleanup.callback(remove_restore_container, container)
    plan = TargetPlan(DISASTER, container, container_labels(ctx), new_volume, database, server_version_num)
    return ctx.engine.restore_target(ctx, box, plan)


def retire_restore_target(target: RestoreTarget) -> None:
    """Shut the restore server down cleanly and remove its container (not its volume); refuse to go on
    while any container still mounts the new volume. Refused without CONFIRM=YES."""
    require_confirmation()
    target.retire()
    users = volumes.containers_using(target.volume) if target.volume else []
    if users:
        raise RestoreError(f"the restore server's volume {target.volume} is still mounted by {', '.join(users)}; "
                           "not switching the stack to it")
