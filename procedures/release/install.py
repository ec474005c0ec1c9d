"""First install (or restart) of a stack at TAG; migrates only a database it has just created.

An existing database is never migrated here: deploy owns that, because it backs up first.
`INSTALL` lists the steps once: `install(ctx)` runs them all, ops_checks/install.py one by one,
both under the stack's operations lock.
"""

import contextlib
from dataclasses import dataclass
from typing import Iterator

from .. import ledger, lock, plain_compose
from ..context import OpsContext
from ..engines.targets import DATABASE
from ..errors import UnsafeOperation
from ..runbook import Runbook, Step
from ..stack import readiness, services, volumes
from ..stack.serving import serving_or_none
from .migrations import run_migrations
from .build import Built, build_release
from .one_offs import run_one_offs
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


@dataclass
class InstallRun:
    ctx: OpsContext
    serving: str | None = None
    volume: VolumeStep | None = None
    migrated: MigrateStep | None = None
    one_offs: list[dict] | None = None
    entry: dict | None = None  # the ledger entry, once recorded
    build: Built | None = None  # with [build]: the release built from the app's checkout


def refuse_other_release_serving(ctx: OpsContext) -> str | None:
    """Install never switches releases: a stack serving another TAG is deploy's (backup first)."""
    validate_tag(ctx.tag)
    serving = serving_or_none(ctx)
    if serving is not None and serving != ctx.tag:
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
    return VolumeStep(volumes.create_database_volume(name, ctx.config.stack.project), created=True)


def start_database(ctx: OpsContext) -> services.ServiceState:
    """Start the stack's database server and wait until it is healthy."""
    validate_tag(ctx.tag)
    servers = list(ctx.engine.server_services(ctx.config))
    volumes.refuse_volume_drift(ctx)
    volumes.ensure_data_volumes(ctx)  # backups, rclone config and uploads: external, made once
    ctx.compose.up(servers)
    return services.wait_healthy(ctx.compose, servers)[servers[0]]


def database_answers(ctx: OpsContext) -> dict:
    """The database: started and healthy when its server is a service of the stack; outside it, it must
    answer at the app's URL (the suite never starts or creates it); a file of the app's is the app's to
    open (on a new install its migration creates it)."""
    if ctx.engine.server_services(ctx.config):
        return vars(start_database(ctx))
    validate_tag(ctx.tag)
    volumes.ensure_data_volumes(ctx)
    found = ctx.engine.where(ctx)
    if ctx.engine.data_place == DATABASE:
        found["version"] = ctx.engine.server_version(ctx.database)  # it answers
    return found


def migrate_new_database(ctx: OpsContext, volume: VolumeStep | None) -> MigrateStep:
    """Run the one-off migrate task on an empty database only; one holding tables is deploy's job."""
    tables = ctx.engine.user_table_count(ctx.database)
    if tables:
        return MigrateStep(False, f"existing database ({tables} tables): migrations belong to deploy, "
                                  "which takes a verified backup first")
    done = run_migrations(ctx)
    why = ("new database" if volume and volume.created else
           "empty database (an earlier install stopped early)" if volume else "empty database")
    return MigrateStep(True, f"{why} migrated to head", done.seconds)


def start_app(ctx: OpsContext) -> dict[str, services.ServiceState]:
    app = ctx.config.services.serving
    ctx.compose.up(app)
    return services.wait_healthy(ctx.compose, app)


def check_ready(ctx: OpsContext) -> readiness.HttpResult:
    return readiness.wait_until_ready(ctx.config.http)


def record(ctx: OpsContext, migrated: MigrateStep, built: Built | None = None) -> dict:
    """Enter the installed release in the ledger, so later rollbacks can find it."""
    entry = ledger.append_release(ctx.config.deploy.state_dir, ctx.config.stack.project, {
        "action": "install", "tag": ctx.tag, "outcome": "deployed", "migrated": migrated.ran,
        "revision_after": ctx.engine.schema_revision(ctx.database),
        **({"build": built.describe()} if built else {})})
    ledger.audit(ctx.config.deploy.state_dir, ctx.config.stack.project, f"install {ctx.tag} deployed")
    plain_compose.pin(ctx.config.stack, ctx.tag)  # plain compose in the app's directory: the suite's files
    return entry


def _build(run: InstallRun) -> dict:
    """With [build]: --tag's commit built from the app's checkout, as deploy builds it; the install goes on
    at the release tag (a git tag as is, a commit by its short hash)."""
    run.build = build_release(run.ctx, run.ctx.tag)
    run.ctx = run.ctx.with_tag(run.build.tag)
    return run.build.describe()


def _serving(run: InstallRun) -> str | None:
    run.serving = refuse_other_release_serving(run.ctx)
    return run.serving


def _volume(run: InstallRun) -> VolumeStep:
    run.volume = ensure_database_volume(run.ctx)
    return run.volume


def _migrate(run: InstallRun) -> MigrateStep:
    run.migrated = migrate_new_database(run.ctx, run.volume)
    return run.migrated


def _record(run: InstallRun) -> dict:
    run.entry = record(run.ctx, run.migrated, run.build)
    return run.entry


INSTALL = Runbook("install", (
    Step("build", _build, skip_reason=lambda run: None if run.ctx.config.build else
         "images come by TAG from their registry ([build] is not set)"),
    Step("no_other_release", _serving),
    Step("database_volume", _volume, skip_reason=lambda run: volumes.outside_the_stack(run.ctx)),
    Step("database_healthy", lambda run: database_answers(run.ctx)),
    Step("migrate_new_database", _migrate),
    Step("one_offs", lambda run: run_one_offs(run.ctx)),
    Step("app_healthy", lambda run: start_app(run.ctx)),
    Step("ready", lambda run: check_ready(run.ctx)),
    Step("record", _record),
))


@contextlib.contextmanager
def open_run(ctx: OpsContext, *, break_stale_lock: bool = False) -> Iterator[InstallRun]:
    """The install under the operations lock."""
    with lock.hold_stack(ctx.config, "install", break_stale=break_stale_lock):
        yield InstallRun(ctx)


def install(ctx: OpsContext, *, break_stale_lock: bool = False) -> InstallRun:
    """Install the stack at ctx.tag: volume, database, first migration, app, readiness, ledger."""
    with open_run(ctx, break_stale_lock=break_stale_lock) as run:
        INSTALL.run_all(run)
        return run
