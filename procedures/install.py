"""First install (or restart) of a stack at TAG; migrates only a database it has just created.

An existing database is never migrated here: deploy owns that, because it backs up first.
"""

from dataclasses import dataclass

from . import health, http_checks, volumes
from .context import OpsContext
from .tags import validate_tag


@dataclass(frozen=True)
class VolumeStep:
    facts: volumes.VolumeFacts
    created: bool


@dataclass(frozen=True)
class MigrateStep:
    ran: bool
    reason: str
    seconds: float = 0.0


def ensure_database_volume(ctx: OpsContext) -> VolumeStep:
    name = ctx.config.volumes.database
    facts = volumes.inspect_volume(name)
    if facts is not None:
        return VolumeStep(facts, created=False)
    return VolumeStep(volumes.create_database_volume(name), created=True)


def start_database(ctx: OpsContext) -> health.ServiceState:
    validate_tag(ctx.tag)
    db = ctx.config.services.database
    ctx.compose.up([db])
    return health.wait_healthy(ctx.compose, [db])[db]


def migrate_new_database(ctx: OpsContext, volume: VolumeStep) -> MigrateStep:
    """Run the one-off migrate task on a database this install created; refuse an existing one."""
    if not volume.created:
        return MigrateStep(False, "existing database: migrations belong to deploy, which backs up first")
    done = ctx.compose.run_once(ctx.config.services.migrate)
    return MigrateStep(True, "new database migrated to head", done.seconds)


def start_app(ctx: OpsContext) -> dict[str, health.ServiceState]:
    services = [*ctx.config.services.app, ctx.config.services.proxy]
    ctx.compose.up(services)
    return health.wait_healthy(ctx.compose, services)


def check_ready(ctx: OpsContext) -> http_checks.HttpResult:
    return http_checks.wait_until_ready(ctx.config.http)
