"""The deploy runbook: preflight, pull (or with [build], build on the server), backup, migrate, one-offs, up, health, readyz, smoke, record.

`DEPLOY` lists the steps once: `deploy(ctx, tag)` runs them all under the operations lock, and
ops_checks/deploy.py runs and asserts them one by one. A failure after the app was touched rolls
the app back to the release that served before (`finish`); the database is never restored
automatically, the result says whether it needs one.
"""

import contextlib
import os
import shutil
import time
from dataclasses import dataclass, field
from typing import Iterator

from .. import docker_api, ledger, lock, plain_compose
from ..backup.pipeline import BackupResult, backup
from ..commands import compose as compose_cmd
from ..compose_model import require_active
from ..context import OpsContext
from ..errors import CommandFailed, DeployError, OpsError
from ..runbook import Runbook, Step
from ..sets.chosen import Chosen
from ..stack import readiness, services, tools, volumes
from ..stack.serving import serving_or_none
from . import image_prune, rollback_check, switch_plan
from .build import Built, build_release
from .migrations import run_migrations
from .one_offs import run_one_offs
from .switch import app_services, put_app_on, switch_release
from .tags import validate_tag


@dataclass
class DeployRun:
    ctx: OpsContext
    previous_tag: str | None
    started_at: str = field(default_factory=ledger.now)
    timings: dict[str, float] = field(default_factory=dict)
    backup: BackupResult | None = None
    revision_before: str | None = None
    revision_after: str | None = None
    app_touched: bool = False
    image_id: str | None = None
    ready_body: str | None = None
    outcome: str | None = None
    rollback: dict | None = None
    error: str | None = None
    migrate_started_at: str | None = None
    entry: dict | None = None  # the ledger entry, once recorded
    one_offs: list[dict] = field(default_factory=list)
    plan: switch_plan.Plan | None = None  # how each service will switch, as preflight shows it
    switch: dict | None = None  # how each service moved to the TAG (release/switch_plan.py)
    allow_irreversible: bool = False  # --allow-irreversible: deploy even when a rollback would not work
    rollback_check: dict | None = None  # the rehearsal's verdict (release/rollback_check.py)
    ref: str | None = None  # --tag as given: with [build], a git tag or commit of the app's checkout
    build: Built | None = None  # the release built on the server ([build]), once built
    images_pruned: dict | None = None  # old release images removed after a deploy ([build] keep_releases)

    @property
    def tag(self) -> str:
        return self.ctx.tag

    @property
    def app_services(self) -> list[str]:
        return app_services(self.ctx)

    def timed(self, step: str, started: float) -> None:
        self.timings[step] = round(time.monotonic() - started, 3)


def start(ctx: OpsContext, tag: str | None) -> DeployRun:
    """Validate TAG and note which release serves now; refuses missing and moving tags."""
    tag = validate_tag(tag)
    return DeployRun(ctx.with_tag(tag), serving_or_none(ctx), ref=tag)


def _app_image(run: DeployRun) -> str:
    model = run.ctx.compose.rendered()
    return model["services"][run.ctx.config.services.app[0]]["image"]


def preflight(run: DeployRun) -> dict:
    """Tools, free disk, the external database volume, the TAG's images; refuses on any gap."""
    started = time.monotonic()
    versions = tools.tool_versions()
    if not versions["Docker Compose"].startswith("2."):
        raise DeployError(f"docker compose v2 is required, found: {versions['Docker Compose']}")
    database = volumes.check_database_place(run.ctx)
    root = docker_api.docker_root_dir() or "/"
    free = shutil.disk_usage(root if os.path.exists(root) else "/").free
    if free < run.ctx.config.deploy.min_free_bytes:
        raise DeployError(f"only {free} bytes free under {root}; need {run.ctx.config.deploy.min_free_bytes}")
    active = run.ctx.compose.rendered()
    if any(name not in (active.get("services") or {}) for name in run.app_services):
        # Rendered with every profile only to name the profile a service waits for: a deploy of a
        # stack whose services are all active renders that model once, for the backup's volumes.
        require_active(active, run.ctx.compose.rendered_every_profile(), run.app_services)
    image = _app_image(run)
    local = docker_api.image(image) is not None
    run.plan = switches, proxy = switch_plan.plan(run.ctx)
    run.timed("preflight", started)
    return {**versions, "free_bytes": free, **database, "image": image,
            "image_present_locally": local, "previous_tag": run.previous_tag, "tag": run.tag,
            "switch": [s.describe() for s in switches], "proxy": proxy.describe() if proxy else None}


def pull(run: DeployRun) -> dict:
    """Pull the TAG's images that are not here yet; with [build], first build REF's commit, exported clean
    from the app's checkout, as `<project>-<service>:<tag>` (a git tag as is, a commit by its short hash).
    A missing image, an unknown ref or a failed build stops the deploy here, before the backup."""
    started = time.monotonic()
    if run.ctx.config.build is not None:
        run.build = build_release(run.ctx, run.ref)
        run.ctx = run.ctx.with_tag(run.build.tag)
        run.timed("build", started)
    # Images built here ([build]) are in no registry: only the others are pulled.
    to_pull = [s for s in run.ctx.config.services.app if not (run.build and s in run.build.images)]
    try:
        if to_pull:
            run.ctx.compose.run(compose_cmd.pull_missing(run.ctx.config.stack, to_pull), limit="command")
    except CommandFailed as e:
        raise DeployError(f"images for TAG {run.tag} are not available: {e.stderr_tail}") from e
    run.image_id = docker_api.image_id(_app_image(run))
    run.timed("pull", started)
    return {"tag": run.tag, "id": run.image_id, **({"build": run.build.describe()} if run.build else {})}


def take_backup(run: DeployRun) -> BackupResult:
    """A verified backup of the database as it is now, under the deploy's own lock."""
    started = time.monotonic()
    serving = run.ctx.with_tag(run.previous_tag) if run.previous_tag else run.ctx
    run.backup = backup(serving, locked=True)
    run.timed("backup", started)
    return run.backup


def check_rollback(run: DeployRun) -> dict:
    """Rehearse the migration on a copy of the backup and start the serving release on it: is an app-only
    rollback safe after this deploy? Refuses (nothing live changed) when not, unless --allow-irreversible."""
    started = time.monotonic()
    if not run.ctx.config.deploy.rollback_check:
        run.rollback_check = {"rollback": "not checked ([deploy] rollback_check = false)"}
    elif not run.previous_tag:
        run.rollback_check = {"rollback": "nothing to roll back to: no release was serving"}
    else:
        taken = Chosen(run.backup.set_name, run.backup.manifest)  # verified by this deploy's backup step
        run.rollback_check = rollback_check.check(run.ctx, taken, run.previous_tag, run.plan[1] if run.plan else None)
    run.rollback_check["allow_irreversible"] = run.allow_irreversible
    run.timed("rollback_check", started)
    rollback_check.refuse_unsafe(run.rollback_check, run.allow_irreversible)
    return run.rollback_check


def _revision(run: DeployRun) -> str:
    return run.ctx.engine.schema_revision(run.ctx.database)


def migrate(run: DeployRun) -> tuple[str, str]:
    """Run the one-off migrate task of the new TAG; the serving app is untouched meanwhile."""
    if run.backup is None:
        raise DeployError("refused: no verified backup was taken in this deploy; migrations need one first")
    if run.rollback_check is None:
        raise DeployError("refused: the rollback check has not run in this deploy; migrations need its verdict "
                          "first ([deploy] rollback_check = false turns the rehearsal off, not the step)")
    started = time.monotonic()
    run.migrate_started_at = ledger.now()
    run.revision_before = _revision(run)
    try:
        run_migrations(run.ctx)
    except CommandFailed as e:
        run.revision_after = _revision(run)
        raise DeployError(f"migration of {run.tag} failed; the database stays at {run.revision_after}: "
                          f"{e.reason}\n{e.stderr_tail}") from e
    run.revision_after = _revision(run)
    run.timed("migrate", started)
    return run.revision_before, run.revision_after


def one_offs(run: DeployRun) -> list[dict]:
    """The app's own one-off tasks of the new TAG (migrate aside), in dependency order, each exit 0."""
    started = time.monotonic()
    run.one_offs = run_one_offs(run.ctx)
    run.timed("one_offs", started)
    return run.one_offs


def up(run: DeployRun) -> dict:
    """Switch app, worker and proxy to the new TAG: start-first where the proxy allows it."""
    started = time.monotonic()
    run.app_touched = True
    started_at = ledger.now()
    try:
        run.switch = switch_release(run.ctx, run.plan)
    except BaseException as e:  # the evidence still says when the switch was tried, and how it ended
        run.switch = {"started_at": started_at, "finished_at": ledger.now(), "error": str(e) or type(e).__name__}
        raise
    run.timed("up", started)
    return run.switch


def wait_healthy(run: DeployRun) -> dict:
    started = time.monotonic()
    states = services.wait_healthy(run.ctx.compose, run.app_services,
                                   timeout=run.ctx.config.http.ready_timeout_seconds)
    run.timed("health", started)
    return states


def check_ready(run: DeployRun) -> dict:
    """/readyz green through the proxy and /version reporting the TAG."""
    return readiness.check_ready(run.ctx)


def smoke(run: DeployRun) -> list[dict]:
    """The configured smoke checks through the proxy."""
    return readiness.smoke(run.ctx)


def prune_release_images(run: DeployRun) -> dict | None:
    """After a deploy that serves: release images beyond [build] keep_releases removed, never the
    serving or previous one; a failure here is recorded, it does not fail the deploy."""
    if run.build is None:
        return None
    try:
        return image_prune.prune(run.ctx.config.stack.project, run.ctx.config.build.keep_releases,
                                 {t for t in (run.tag, run.previous_tag) if t})
    except OpsError as e:
        return {"error": str(e)}


def record(run: DeployRun, outcome: str, error: str | None = None) -> dict:
    cfg = run.ctx.config
    run.outcome = outcome
    if outcome == "deployed":
        run.images_pruned = prune_release_images(run)
    entry = ledger.append_release(cfg.deploy.state_dir, cfg.stack.project, {
        "action": "deploy", "tag": run.tag, "previous_tag": run.previous_tag, "outcome": outcome,
        "image_id": run.image_id, "revision_before": run.revision_before, "revision_after": run.revision_after,
        "backup": run.backup.set_name if run.backup else None, "started_at": run.started_at,
        "migrate_started_at": run.migrate_started_at, "one_offs": [r["service"] for r in run.one_offs],
        "timings": run.timings, "error": error, "rollback": run.rollback, "switch": run.switch,
        "rollback_check": {k: v for k, v in (run.rollback_check or {}).items() if k != "logs"} or None,
        "build": run.build.describe() if run.build else None, "images_pruned": run.images_pruned,
    })
    ledger.audit(cfg.deploy.state_dir, cfg.stack.project, f"deploy {run.tag} {outcome}")
    if outcome == "deployed":  # a plain `docker compose up` in the app's directory must not bring back the old TAG
        plain_compose.pin(cfg.stack, run.tag)
    run.entry = entry
    return entry


def database_restore_advice(run: DeployRun) -> str:
    if run.revision_before is None or run.revision_before == run.revision_after:
        return "no: the database schema did not change"
    set_name = run.backup.set_name if run.backup else "SET"
    return (f"maybe: the schema moved {run.revision_before} -> {run.revision_after}. If {run.previous_tag} "
            f"cannot run on it, restore backup {set_name} into a new volume: CONFIRM=YES pytest "
            f"ops_checks/restore_drill.py --mode=disaster --backup={set_name} (docs/RESTORE_RUNBOOK.md "
            "section 6); it is never restored automatically")


def rollback_advice(run: DeployRun) -> str | None:
    """The command that puts the app back when the automatic rollback failed (None when it did not)."""
    if run.rollback is None or "error" not in run.rollback:
        return None
    return (f"the automatic rollback to {run.previous_tag} failed: roll back by hand with "
            f"pytest ops_checks/rollback.py --tag={run.previous_tag} (docs/DEPLOYMENT_RUNBOOK.md section 4)")


def finish(run: DeployRun, error: str | None) -> dict:
    """Record the outcome once; after a failure that touched the app, roll the app back."""
    if run.outcome is not None:
        return {"outcome": run.outcome}
    if error is None:
        return record(run, "deployed")
    if run.app_touched and run.previous_tag:
        try:
            run.rollback = {"to": run.previous_tag, **put_app_on(run.ctx, run.previous_tag),
                            "database_restore_needed": database_restore_advice(run)}
            return record(run, f"failed, rolled back to {run.previous_tag}", error)
        except OpsError as e:
            run.rollback = {"to": run.previous_tag, "error": str(e), "database_restore_needed": database_restore_advice(run)}
            return record(run, "failed, ROLLBACK FAILED", error)
    if run.app_touched:
        # Nothing served before this deploy (a first install), so there is nothing to roll back to.
        return record(run, "failed after the app changed; no previous release to roll back to", error)
    return record(run, "failed before the app changed; previous release still serving", error)


def record_or_roll_back(run: DeployRun, failed_step: str | None) -> dict:
    """Record the release in the ledger and audit log; after a failure, roll the app back."""
    entry = finish(run, run.error or (f"{failed_step} failed" if failed_step else None))
    if failed_step:
        if run.rollback is not None and "error" in run.rollback:
            raise DeployError(f"rollback failed: {run.rollback}; {rollback_advice(run)}")
        raise DeployError(f"deploy of {run.tag} failed at {failed_step}: {entry['outcome']}; "
                          f"database restore needed: {database_restore_advice(run)}")
    return entry


def attempt(action):
    """A step that remembers its error for the ledger and re-raises, so the runbook stops."""
    def step(run: DeployRun):
        try:
            return action(run)
        except (OpsError, CommandFailed) as e:
            run.error = f"{action.__name__}: {e}"
            raise
    step.__name__ = action.__name__
    step.__doc__ = action.__doc__
    return step


DEPLOY = Runbook("deploy", (
    Step("preflight", attempt(preflight)),
    Step("pull", attempt(pull)),
    Step("backup", attempt(take_backup)),
    Step("rollback_check", attempt(check_rollback)),
    Step("migrate", attempt(migrate)),
    Step("one_offs", attempt(one_offs)),
    Step("up", attempt(up)),
    Step("health", attempt(wait_healthy)),
    Step("ready", attempt(check_ready)),
    Step("smoke", attempt(smoke)),
    Step("record", record_or_roll_back, always_run=True),
))


@contextlib.contextmanager
def open_run(ctx: OpsContext, tag: str | None, *, break_stale_lock: bool = False,
             allow_irreversible: bool = False) -> Iterator[DeployRun]:
    """The deploy under the operations lock; an interrupt still records, rolls back and unlocks."""
    with contextlib.ExitStack() as cleanup:
        cleanup.enter_context(lock.hold_stack(ctx.config, "deploy", break_stale=break_stale_lock))
        run = start(ctx, tag)
        run.allow_irreversible = allow_irreversible
        cleanup.callback(lambda: finish(run, run.error or "interrupted"))
        yield run


def deploy(ctx: OpsContext, tag: str, *, break_stale_lock: bool = False, allow_irreversible: bool = False) -> DeployRun:
    """Deploy TAG through every step; raises DeployError after recording (and rolling back) a failure."""
    with open_run(ctx, tag, break_stale_lock=break_stale_lock, allow_irreversible=allow_irreversible) as run:
        DEPLOY.run_all(run)
        return run
