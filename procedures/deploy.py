"""The deploy runbook: preflight, pull, backup, migrate, up, health, readyz, smoke, record.

A failure after the app was touched rolls the app back to the release that served before
(`finish`); the database is never restored automatically, the result says whether it needs one.
"""

import os
import shutil
import time
from dataclasses import dataclass, field

from . import backup, database, facts, health, http_checks, ledger, release, runner, volumes
from .backup import BackupResult
from .commands import compose as compose_cmd
from .commands import docker as docker_cmd
from .context import OpsContext
from .errors import CommandFailed, ConfigError, NotReady, OpsError
from .tags import validate_tag


class DeployError(OpsError):
    """A deploy step failed; the previous release keeps (or is put back to) serving."""


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

    @property
    def tag(self) -> str:
        return self.ctx.tag

    @property
    def app_services(self) -> list[str]:
        return [*self.ctx.config.services.app, self.ctx.config.services.proxy]

    def timed(self, step: str, started: float) -> None:
        self.timings[step] = round(time.monotonic() - started, 3)


def start(ctx: OpsContext, tag: str | None) -> DeployRun:
    """Validate TAG and note which release serves now; refuses missing and moving tags."""
    tag = validate_tag(tag)
    try:
        previous = release.running_tag(ctx)
    except ConfigError:
        previous = None  # nothing serving: a first deploy
    return DeployRun(ctx.with_tag(tag), previous)


def _app_image(run: DeployRun) -> str:
    model = run.ctx.compose.rendered()
    return model["services"][run.ctx.config.services.app[0]]["image"]


def preflight(run: DeployRun) -> dict:
    """Tools, free disk, the external database volume, the TAG's images; refuses on any gap."""
    started = time.monotonic()
    versions = facts.tool_versions()
    if not versions["Docker Compose"].startswith("2."):
        raise DeployError(f"docker compose v2 is required, found: {versions['Docker Compose']}")
    model = run.ctx.compose.rendered()
    pgdata = model["volumes"].get("pgdata", {})
    if not pgdata.get("external") or pgdata.get("name") != run.ctx.config.volumes.database:
        raise DeployError("the database volume must be the external one named in [volumes] database; "
                          "use docker-compose.prod.yml as the last compose file")
    volume = volumes.require_database_volume(run.ctx.config.volumes.database)
    volumes.refuse_volume_drift(run.ctx)
    root = runner.run(["docker", "info", "--format", "{{.DockerRootDir}}"]).stdout.strip() or "/"
    free = shutil.disk_usage(root if os.path.exists(root) else "/").free
    if free < run.ctx.config.deploy.min_free_bytes:
        raise DeployError(f"only {free} bytes free under {root}; need {run.ctx.config.deploy.min_free_bytes}")
    image = _app_image(run)
    local = runner.run(docker_cmd.image_inspect(image), check=False).returncode == 0
    run.timed("preflight", started)
    return {**versions, "free_bytes": free, "database_volume": volume.identity, "image": image,
            "image_present_locally": local, "previous_tag": run.previous_tag, "tag": run.tag}


def pull(run: DeployRun) -> None:
    """Pull the TAG's images that are not here yet; a missing image stops the deploy before any change."""
    started = time.monotonic()
    try:
        run.ctx.compose.run(compose_cmd.compose(run.ctx.config.stack, "pull", "--policy", "missing",
                                                *run.ctx.config.services.app))
    except CommandFailed as e:
        raise DeployError(f"images for TAG {run.tag} are not available: {e.stderr_tail}") from e
    run.image_id = runner.run(["docker", "image", "inspect", "--format", "{{.Id}}", _app_image(run)]).stdout.strip()
    run.timed("pull", started)


def take_backup(run: DeployRun) -> BackupResult:
    """A verified backup of the database as it is now, under the deploy's own lock."""
    started = time.monotonic()
    serving = run.ctx.with_tag(run.previous_tag) if run.previous_tag else run.ctx
    run.backup = backup.backup(serving, locked=True)
    run.timed("backup", started)
    return run.backup


def migrate(run: DeployRun) -> tuple[str, str]:
    """Run the one-off migrate task of the new TAG; the serving app is untouched meanwhile."""
    if run.backup is None:
        raise DeployError("refused: no verified backup was taken in this deploy; migrations need one first")
    started = time.monotonic()
    run.migrate_started_at = ledger.now()
    run.revision_before = database.alembic_revision(run.ctx)
    try:
        run.ctx.compose.run_once(run.ctx.config.services.migrate)
    except CommandFailed as e:
        run.revision_after = database.alembic_revision(run.ctx)
        raise DeployError(f"migration of {run.tag} failed; the database stays at {run.revision_after}: "
                          f"{e.stderr_tail}") from e
    run.revision_after = database.alembic_revision(run.ctx)
    run.timed("migrate", started)
    return run.revision_before, run.revision_after


def switch_release(ctx: OpsContext) -> None:
    """Put app, worker and proxy on ctx.tag; single-instance services are stopped first, so two
    versions of them (the email worker) never run at once, whatever compose's recreate order."""
    single = list(ctx.config.services.single_instance)
    if single:
        ctx.compose.stop(single)
    ctx.compose.up([*ctx.config.services.app, ctx.config.services.proxy], no_deps=True)


def up(run: DeployRun) -> None:
    """Switch app, worker and proxy to the new TAG."""
    started = time.monotonic()
    run.app_touched = True
    switch_release(run.ctx)
    run.timed("up", started)


def wait_healthy(run: DeployRun) -> dict:
    started = time.monotonic()
    states = health.wait_healthy(run.ctx.compose, run.app_services, timeout=run.ctx.config.http.ready_timeout_seconds)
    run.timed("health", started)
    return states


def check_ready(ctx: OpsContext) -> dict:
    """/readyz green through the proxy and /version reporting the TAG; raises NotReady otherwise."""
    ready = http_checks.wait_until_ready(ctx.config.http)
    version = http_checks.get(ctx.config.http.base_url, ctx.config.http.version_path)
    served = version.json().get("version") if version.ok else None
    if served != ctx.tag:
        raise NotReady(f"{version.url} reports {served!r}, expected {ctx.tag!r}")
    return {"readyz": ready.body, "version": served}


def smoke(ctx: OpsContext) -> list[dict]:
    """Run the configured HTTP expectations; raises NotReady listing every one that failed."""
    results = []
    for check in ctx.config.deploy.smoke:
        answer = http_checks.get(ctx.config.http.base_url, check.path)
        ok = answer.status == check.status and check.contains in answer.body
        results.append({"path": check.path, "expected": check.status, "status": answer.status,
                        "contains": check.contains, "ok": ok, "seconds": round(answer.seconds, 3)})
    failed = [r for r in results if not r["ok"]]
    if failed:
        raise NotReady(f"smoke checks failed: {failed}")
    return results


def rollback_app(ctx: OpsContext, tag: str) -> dict:
    """Put the app back on TAG (no migration, no restore) and prove it serves."""
    target = ctx.with_tag(validate_tag(tag))
    switch_release(target)
    health.wait_healthy(target.compose, [*ctx.config.services.app, ctx.config.services.proxy],
                        timeout=ctx.config.http.ready_timeout_seconds)
    return {**check_ready(target), "smoke": smoke(target)}


def record(run: DeployRun, outcome: str, error: str | None = None) -> dict:
    cfg = run.ctx.config
    run.outcome = outcome
    entry = ledger.append_release(cfg.deploy.state_dir, cfg.stack.project, {
        "action": "deploy", "tag": run.tag, "previous_tag": run.previous_tag, "outcome": outcome,
        "image_id": run.image_id, "revision_before": run.revision_before, "revision_after": run.revision_after,
        "backup": run.backup.set_name if run.backup else None, "started_at": run.started_at,
        "migrate_started_at": run.migrate_started_at,
        "timings": run.timings, "error": error, "rollback": run.rollback,
    })
    ledger.audit(cfg.deploy.state_dir, cfg.stack.project, f"deploy {run.tag} {outcome}")
    return entry


def database_restore_advice(run: DeployRun) -> str:
    if run.revision_before is None or run.revision_before == run.revision_after:
        return "no: the database schema did not change"
    set_name = run.backup.set_name if run.backup else "SET"
    return (f"maybe: the schema moved {run.revision_before} -> {run.revision_after}. If {run.previous_tag} "
            f"cannot run on it, restore backup {set_name} into a new volume: CONFIRM=YES pytest "
            f"ops_checks/restore_drill.py --mode=disaster --backup={set_name} (docs/RESTORE_RUNBOOK.md "
            "section 6); it is never restored automatically")


def finish(run: DeployRun, error: str | None) -> dict:
    """Record the outcome once; after a failure that touched the app, roll the app back."""
    if run.outcome is not None:
        return {"outcome": run.outcome}
    if error is None:
        return record(run, "deployed")
    if run.app_touched and run.previous_tag:
        try:
            run.rollback = {"to": run.previous_tag, **rollback_app(run.ctx, run.previous_tag),
                            "database_restore_needed": database_restore_advice(run)}
            return record(run, f"failed, rolled back to {run.previous_tag}", error)
        except OpsError as e:
            run.rollback = {"to": run.previous_tag, "error": str(e), "database_restore_needed": database_restore_advice(run)}
            return record(run, "failed, ROLLBACK FAILED", error)
    if run.app_touched:
        # Nothing served before this deploy (a first install), so there is nothing to roll back to.
        return record(run, "failed after the app changed; no previous release to roll back to", error)
    return record(run, "failed before the app changed; previous release still serving", error)


def attempt(run: DeployRun, step, *args):
    """Run one step, remembering its error for the ledger; re-raises so the runbook stops."""
    try:
        return step(*args) if args else step(run)
    except (OpsError, CommandFailed) as e:
        run.error = f"{step.__name__}: {e}"
        raise
