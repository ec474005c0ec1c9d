"""Switch the stack's database to another existing volume; the volume it leaves is kept as it is.

The switch is the disaster restore's last move and also how an operator goes back: stop the
writers, recreate only the db container on the other volume, record the new volume in the
stack's config, start the app. Nothing is restored or removed, so going back is the same call.
"""

import contextlib
import dataclasses
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from .. import ledger, lock
from ..compose_model import database_mount
from ..context import OpsContext
from ..errors import ConfigError, OpsError, SwitchError, UnsafeOperation
from ..guards import THROWAWAY_VOLUME_PREFIX, require_confirmation
from ..runbook import Runbook, Step
from ..stack import readiness, services, volumes
from ..stack.serving import with_serving_tag
from . import config_edit

# What a Postgres data directory holds from initdb on: without it the db would start an empty cluster.
CLUSTER_MARKER = "PG_VERSION"
COMPOSE_PROJECT_LABEL = "com.docker.compose.project"


@dataclass(frozen=True)
class SwitchResult:
    from_volume: str
    to_volume: str
    config_file: str
    config_kept_as: str
    env_file_kept_as: str | None

    def how_to_switch_back(self) -> str:
        return f"CONFIRM=YES pytest ops_checks/switch_database_volume.py --volume={self.from_volume}"


def on_volume(ctx: OpsContext, name: str) -> OpsContext:
    """The same context with [volumes] database = name."""
    config = dataclasses.replace(ctx.config, volumes=dataclasses.replace(ctx.config.volumes, database=name))
    return OpsContext(config, ctx.tag)


def require_switch_confirmation(target: str) -> None:
    """Refuse, before anything changes, unless CONFIRM=YES is in this process's environment."""
    require_confirmation(os.environ, "the switch stops the app and the database and puts the database on "
                         f"volume {target!r} (the volume it leaves is kept)",
                         f"CONFIRM=YES pytest ops_checks/switch_database_volume.py --volume={target}")


def _is_this_stacks_database_volume(ctx: OpsContext, facts: volumes.VolumeFacts) -> bool:
    """Made by the suite as a database volume (and not for another project), or by compose for this project."""
    labels, project = facts.labels, ctx.config.stack.project
    if labels.get(volumes.PROJECT_LABEL, project) != project:
        return False
    return labels.get(volumes.MANAGED_LABEL) == "database" or labels.get(COMPOSE_PROJECT_LABEL) == project


def _cluster_marker_path(ctx: OpsContext) -> str:
    """Where the database service's data directory puts PG_VERSION, relative to the volume's root."""
    model = ctx.compose.rendered()
    mounted_at = database_mount(model, ctx.config)[1]
    data = ctx.engine.data_directory(model["services"][ctx.config.services.database].get("environment") or {})
    inside = posixpath.relpath(data, mounted_at)
    return CLUSTER_MARKER if inside == "." or inside.startswith("..") else f"{inside}/{CLUSTER_MARKER}"


def check_target(ctx: OpsContext, target: str) -> volumes.VolumeFacts:
    """The target must be an existing database volume of this stack, other than the one in use, that
    no container mounts (running or stopped) and that holds a database cluster (PG_VERSION)."""
    if target.startswith(THROWAWAY_VOLUME_PREFIX):
        raise UnsafeOperation(f"refused: {target!r} is a restore drill's throwaway volume, removed after the drill")
    if ctx.config.source is None:
        raise ConfigError("switching volumes rewrites the stack's config file; load it from a file (--ops-config)")
    facts = volumes.require_database_volume(target)
    current = volumes.mounted_database_volume(ctx) or ctx.config.volumes.database
    if current == target:
        raise UnsafeOperation(f"refused: the stack already uses {target!r}")
    if not _is_this_stacks_database_volume(ctx, facts):
        raise UnsafeOperation(
            f"refused: {target!r} is not a database volume of this stack: it carries neither the suite's label "
            f"{volumes.MANAGED_LABEL}=database (for project {ctx.config.stack.project!r}) nor compose's "
            f"{COMPOSE_PROJECT_LABEL}={ctx.config.stack.project}; labels: {facts.labels or 'none'}")
    users = volumes.containers_using(target)
    if users:
        raise UnsafeOperation(
            f"refused: {target!r} is mounted by container(s) {', '.join(users)} (running or stopped); a second "
            "database on a data directory in use corrupts it. Stop and remove them first (docker rm, never -v)")
    image = ctx.compose.rendered()["services"][ctx.config.services.database]["image"]
    marker = _cluster_marker_path(ctx)
    if not volumes.has_file(image, target, marker):
        raise UnsafeOperation(f"refused: {target!r} holds no database cluster ({marker} is missing); the "
                              "database would start empty on it")
    return facts


def _start_database(ctx: OpsContext, expected: str) -> None:
    db = ctx.config.services.database
    ctx.compose.up([db], no_deps=True, force_recreate=True)
    services.wait_healthy(ctx.compose, [db], timeout=ctx.config.http.ready_timeout_seconds)
    mounted = volumes.mounted_database_volume(ctx)
    if mounted != expected:
        raise SwitchError(f"the database came up on {mounted!r}, not {expected!r}")


def _start_app(ctx: OpsContext) -> None:
    app = [*ctx.config.services.app, ctx.config.services.proxy]
    ctx.compose.up(app, no_deps=True)
    services.wait_healthy(ctx.compose, app, timeout=ctx.config.http.ready_timeout_seconds)


def _put_back(ctx: OpsContext, previous: str, kept: list[tuple[Path, Path]]) -> None:
    for copy, path in kept:
        config_edit.restore_file(copy, path)
    _start_database(ctx, previous)
    _start_app(ctx)


def switch_database_volume(ctx: OpsContext, target: str, reason: str) -> tuple[OpsContext, SwitchResult]:
    """Put the stack on volume target; refused without CONFIRM=YES. On any failure or interruption
    (signals arrive as KeyboardInterrupt) the stack goes back on the volume it used, and the config
    and env file, rewritten only once the database is up on target, are put back."""
    require_switch_confirmation(target)
    check_target(ctx, target)
    previous = volumes.mounted_database_volume(ctx) or ctx.config.volumes.database
    before = on_volume(ctx, previous)
    switched = on_volume(ctx, target)
    config_file = Path(ctx.config.source)
    kept: list[tuple[Path, Path]] = []
    with contextlib.ExitStack() as undo:
        undo.callback(_put_back, before, previous, kept)
        ctx.compose.stop([*ctx.config.services.app])
        ctx.compose.stop([ctx.config.services.database])
        try:
            _start_database(switched, target)
            kept.append((config_edit.set_database_volume(config_file, target), config_file))
            env_kept = config_edit.set_env_database_volume(ctx.config.stack.env_file, target)
            if env_kept:
                kept.append((env_kept, Path(ctx.config.stack.env_file)))
            _start_app(switched)
        except OpsError as e:
            raise SwitchError(f"switch to {target} failed, going back to {previous}: {e}") from e
        undo.pop_all()
    cfg = ctx.config
    ledger.audit(cfg.deploy.state_dir, cfg.stack.project, f"database volume {previous} -> {target} ({reason})")
    return switched, SwitchResult(previous, target, str(config_file), str(kept[0][0]),
                                  str(env_kept) if env_kept else None)


@dataclass
class SwitchRun:
    ctx: OpsContext
    target: str | None
    break_stale_lock: bool = False
    cleanup: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    switched_ctx: OpsContext | None = None
    result: SwitchResult | None = None


def confirm(run: SwitchRun) -> dict:
    """Refuse unless CONFIRM=YES: nothing has changed yet."""
    require_switch_confirmation(run.target)
    return {"CONFIRM": "YES"}


def target_checked(run: SwitchRun) -> volumes.VolumeFacts:
    """Under the operations lock: the target is an existing database volume of this stack, not the one in
    use, mounted by no container, holding a database cluster."""
    if not run.target:
        raise ConfigError("no target volume: pass --volume=NAME (docker volume ls; the report of the "
                          "disaster restore names the old volume)")
    run.ctx = with_serving_tag(run.ctx)
    run.cleanup.enter_context(lock.hold_stack(run.ctx.config, "switch database volume",
                                              break_stale=run.break_stale_lock))
    return check_target(run.ctx, run.target)


def switched(run: SwitchRun) -> SwitchResult:
    """Stop the app and the db, recreate the db on the target volume, rewrite the config, start the app."""
    run.switched_ctx, run.result = switch_database_volume(run.ctx, run.target, "switch by operator")
    return run.result


def ready_on_target(run: SwitchRun) -> dict:
    """/readyz green through the reverse proxy on the target volume, and /version reports the TAG."""
    mounted = volumes.mounted_database_volume(run.switched_ctx)
    if mounted != run.switched_ctx.config.volumes.database:
        raise SwitchError(f"the database runs on {mounted!r}, not {run.switched_ctx.config.volumes.database!r}")
    return readiness.check_ready(run.switched_ctx)


SWITCH_VOLUME = Runbook("switch_database_volume", (
    Step("confirm", confirm),
    Step("target", target_checked),
    Step("switch", switched),
    Step("ready", ready_on_target),
))


def switch_volume(ctx: OpsContext, target: str, *, break_stale_lock: bool = False) -> SwitchRun:
    """The whole switch runbook (CONFIRM=YES in the environment, the lock, the switch, readiness)."""
    run = SwitchRun(ctx, target, break_stale_lock=break_stale_lock)
    with run.cleanup:
        SWITCH_VOLUME.run_all(run)
    return run
