"""Disaster restore: a verified backup into a NEW database volume, then the stack switched to it.

Refused without CONFIRM=YES. The live volume is never a restore target and is never removed:
the restore runs in an isolated server on the new volume, and the switch
(`procedures/volume_switch.py`) only changes which volume the db container mounts.
"""

import re
import secrets
from datetime import datetime, timezone
from typing import Mapping

from ..backup.box import BackupBox
from ..context import OpsContext
from .. import guards
from ..stack import volumes

RESTORED_LABEL = "io.opsuite.restored-from"
PROJECT_LABEL = "io.opsuite.project"
_RESTORED_SUFFIX = re.compile(r"_restored_[0-9]{8}T[0-9]{6}Z$")


def require_confirmation(environ: Mapping[str, str]) -> None:
    """Refuse a disaster restore, before anything changes, unless CONFIRM=YES is in the environment."""
    guards.require_confirmation(
        environ, "disaster mode stops the app and switches the stack to a restored copy of the database "
        "(the current volume is kept)",
        "CONFIRM=YES pytest ops_checks/restore_drill.py --mode=disaster [--backup=SET | --from-remote]")


def new_volume_name(current: str, now: datetime) -> str:
    """<volume>_restored_<UTC stamp>; a second disaster replaces the stamp instead of stacking it."""
    return f"{_RESTORED_SUFFIX.sub('', current)}_restored_{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"


def stop_writers(ctx: OpsContext) -> list[str]:
    """Stop the app services so nothing writes to the database that is about to be replaced."""
    services = list(ctx.config.services.app)
    ctx.compose.stop(services)
    return services


def resume_writers(ctx: OpsContext) -> None:
    """Start the stopped app services again on the volume the stack still uses."""
    ctx.compose.up(list(ctx.config.services.app), no_deps=True)


def restore_server_on_new_volume(ctx: OpsContext, box: BackupBox, set_name: str):
    """Create the new database volume and start an isolated server on it with the stack's credentials.

    With the stack's own user, password and database, the restored cluster is what the app expects.
    """
    now = datetime.now(timezone.utc)
    volume = new_volume_name(volumes.mounted_database_volume(ctx) or ctx.config.volumes.database, now)
    labels = {RESTORED_LABEL: set_name, PROJECT_LABEL: ctx.config.stack.project}
    volumes.create_database_volume(volume, labels)
    user, password, name = ctx.database.credentials()
    container = f"opsuite-disaster-{ctx.config.stack.project}-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    return ctx.engine.start_server(ctx, box, container, volume, name,
                                   {"io.opsuite.role": "disaster-restore", PROJECT_LABEL: ctx.config.stack.project},
                                   credentials=(user, password))
