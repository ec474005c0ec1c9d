"""First install (or restart) of a stack at TAG; migrates only a database it has just created.

An existing database is never migrated here: deploy owns that, because it backs up first.
"""

from dataclasses import dataclass

from . import database, health, http_checks, ledger, release, volumes
from .context import OpsContext
from .errors import ConfigError, UnsafeOperation
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


def refuse_other_release_serving(ctx: OpsContext) -> str | None:
    """Install never switches releases: a stack serving another TAG is deploy's (backup first)."""
    validate_tag(ctx.tag)
    try:
        serving = release.running_tag(ctx)
    except ConfigError:
        return None
    if serving != ctx.tag:
        raise UnsafeOperation(
            f"refused: the stack already serves {serving}; change releases with "
            f"`pytest ops_checks/deploy.py --tag={ctx.tag}`, which backs up first"
        )
    return serving


def ensure_database_volume(ctx: OpsContext) -> VolumeStep:
    name = ctx.config.volumes.database
    facts = volumes.inspect_volume(name)
    if facts is not None:
        return VolumeStep(facts, created=False)
    return VolumeStep(volumes.create_database_volume(name), created=True)


def start_database(ctx: OpsContext) -> health.ServiceState:
    validate_tag(ctx.tag)
    db = ctx.config.services.database
    volumes.refuse_volume_drift(ctx)
    ctx.compose.up([db])
    return health.wait_healthy(ctx.compose, [db])[db]


def migrate_new_database(ctx: OpsContext, volume: VolumeStep) -> MigrateStep:
    """Run the one-off migrate task on an empty database only; one holding tables is deploy's job."""
    tables = database.user_table_count(ctx)
    if tables:
        return MigrateStep(False, f"existing database ({tables} tables): migrations belong to deploy, "
                                  "which takes a verified backup first")
    done = ctx.compose.run_once(ctx.config.services.migrate)
    why = "new database" if volume.created else "empty database (an earlier install stopped early)"
    return MigrateStep(True, f"{why} migrated to head", done.seconds)


def start_app(ctx: OpsContext) -> dict[str, health.ServiceState]:
    services = [*ctx.config.services.app, ctx.config.services.proxy]
    ctx.compose.up(services)
    return health.wait_healthy(ctx.compose, services)


def check_ready(ctx: OpsContext) -> http_checks.HttpResult:
    return http_checks.wait_until_ready(ctx.config.http)


def record(ctx: OpsContext, migrated: MigrateStep) -> dict:
    """Enter the installed release in the ledger, so later rollbacks can find it."""
    entry = ledger.append_release(ctx.config.deploy.state_dir, ctx.config.stack.project, {
        "action": "install", "tag": ctx.tag, "outcome": "deployed", "migrated": migrated.ran,
        "revision_after": database.alembic_revision(ctx)})
    ledger.audit(ctx.config.deploy.state_dir, ctx.config.stack.project, f"install {ctx.tag} deployed")
    return entry
