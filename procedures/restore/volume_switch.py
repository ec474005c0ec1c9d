"""Switch the stack's database (and with it, optionally, its uploads) to other existing volumes; the
volumes it leaves are kept as they are.

The switch is the disaster restore's last move and also how an operator goes back: stop the
writers, recreate the db container on the other volume, record the new volumes in the stack's
config, start the app (recreated on the other uploads volume). For a database file on the app's own
volume (engine sqlite) there is no db container: the app is recreated on the other volume. Database and uploads move together
or not at all. Nothing is restored or removed, so going back is the same call.
"""

import contextlib
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from .. import ledger, lock
from ..context import OpsContext, prepared_context
from ..engines.targets import VOLUME
from ..errors import ConfigError, OpsError, SwitchError, UnsafeOperation
from ..guards import THROWAWAY_VOLUME_PREFIX, require_confirmation
from ..runbook import Runbook, Step
from ..stack import readiness, services, volumes
from ..stack.serving import with_serving_tag
from . import config_edit
from .url_switch import url_switch_command

COMPOSE_PROJECT_LABEL = "com.docker.compose.project"


@dataclass(frozen=True)
class SwitchResult:
    from_volume: str
    to_volume: str
    config_file: str
    config_kept_as: str
    env_file_kept_as: str | None
    from_uploads_volume: str | None = None  # set when the uploads moved with the database
    to_uploads_volume: str | None = None

    def how_to_switch_back(self) -> str:
        return switch_command(self.from_volume, self.from_uploads_volume)

    def where(self) -> dict:
        return {"serving from": self.to_volume, "old volume, kept": self.from_volume,
                "uploads from": self.to_uploads_volume or "unchanged", "old uploads volume, kept": self.from_uploads_volume,
                "switch back": self.how_to_switch_back()}


def switch_command(database: str, uploads: str | None = None) -> str:
    uploads_option = f" --uploads-volume={uploads}" if uploads else ""
    return f"CONFIRM=YES pytest ops_checks/switch_database_volume.py --volume={database}{uploads_option}"


def on_volumes(ctx: OpsContext, database: str, uploads: str | None = None) -> OpsContext:
    """The same context with [volumes] database = database (and uploads_volume = uploads when given)."""
    changed = {"database": database, **({"uploads_volume": uploads} if uploads else {})}
    config = dataclasses.replace(ctx.config, volumes=dataclasses.replace(ctx.config.volumes, **changed))
    return prepared_context(config, ctx.tag)


def require_switch_confirmation(target: str, uploads_target: str | None = None) -> None:
    """Refuse, before anything changes, unless CONFIRM=YES is in this process's environment."""
    uploads_text = f" and the uploads on {uploads_target!r}" if uploads_target else ""
    require_confirmation(os.environ, "the switch stops the app and the database and puts the database on "
                         f"volume {target!r}{uploads_text} (the volumes it leaves are kept)",
                         switch_command(target, uploads_target))


def _carries_this_project(labels: dict, project: str) -> bool:
    """The suite's project label names this project, or (a volume compose made before the suite took the
    stack over, which has no label of the suite's) compose's does. A volume with neither may be anyone's."""
    if volumes.PROJECT_LABEL in labels:
        return labels[volumes.PROJECT_LABEL] == project
    return labels.get(COMPOSE_PROJECT_LABEL) == project


def _is_this_stacks_database_volume(ctx: OpsContext, facts: volumes.VolumeFacts) -> bool:
    """Made by the suite as a database volume for this project, or by compose for this project."""
    labels, project = facts.labels, ctx.config.stack.project
    if not _carries_this_project(labels, project):
        return False
    return labels.get(volumes.MANAGED_LABEL) == "database" or volumes.PROJECT_LABEL not in labels


def not_this_stacks(target: str, project: str, what: str, labels: dict) -> UnsafeOperation:
    """The refusal of another stack's (or an unlabelled) volume: the label a switch requires, and the fix."""
    return UnsafeOperation(
        f"refused: {target!r} is not {what} of this stack: a switch requires the label "
        f"{volumes.PROJECT_LABEL}={project} (set on every volume the suite creates) or, on a volume compose made "
        f"before the suite took the stack over, {COMPOSE_PROJECT_LABEL}={project}; its labels: {labels or 'none'}. "
        "Name one of this stack's volumes (docker volume ls --filter "
        f"label={volumes.PROJECT_LABEL}={project}); Docker cannot add a label to a volume, so data in another "
        f"volume comes back through a backup and a disaster restore, which makes a labelled one")




def check_target(ctx: OpsContext, target: str) -> volumes.VolumeFacts:
    """The target must be an existing database volume of this stack, other than the one in use, that
    no container mounts (running or stopped) and that holds a database cluster (PG_VERSION), or the
    database file."""
    if target.startswith(THROWAWAY_VOLUME_PREFIX):
        raise UnsafeOperation(f"refused: {target!r} is a restore drill's throwaway volume, removed after the drill")
    if ctx.config.source is None:
        raise ConfigError("switching volumes rewrites the stack's config file; load it from a file (--ops-config)")
    facts = volumes.require_database_volume(target)
    current = volumes.mounted_database_volume(ctx) or ctx.config.volumes.database
    if current == target:
        raise UnsafeOperation(f"refused: the stack already uses {target!r}")
    if not _is_this_stacks_database_volume(ctx, facts):
        raise not_this_stacks(target, ctx.config.stack.project, "a database volume",
                              facts.labels)
    _refuse_in_use(target)
    marker, what, image = ctx.engine.volume_marker(ctx)
    if not volumes.has_file(image, target, marker):
        raise UnsafeOperation(f"refused: {target!r} holds no {what} ({marker} is missing); the "
                              "database would start empty on it")
    return facts


def _refuse_in_use(target: str, *, running_only: bool = False) -> None:
    users = volumes.containers_using(target, running_only=running_only)
    if users:
        state = "running" if running_only else "running or stopped"
        raise UnsafeOperation(
            f"refused: {target!r} is mounted by container(s) {', '.join(users)} ({state}); the switch must be "
            "the only writer of the volume it moves to. Stop and remove them first (docker rm, never -v)")


def check_uploads_target(ctx: OpsContext, target: str) -> volumes.VolumeFacts:
    """The uploads target must be an existing volume of this stack (made by the suite for this project,
    or by compose for it), other than the one in use, that no running container mounts. A stopped
    container may: the stack's own one-offs (a chown task) keep the old uploads volume mounted after a
    disaster restore, and a stopped container writes nothing (unlike a database, nothing starts on it)."""
    if not ctx.config.volumes.uploads:
        raise ConfigError("--uploads-volume given, but [volumes] uploads is empty: this stack keeps no uploads")
    if target.startswith(THROWAWAY_VOLUME_PREFIX):
        raise UnsafeOperation(f"refused: {target!r} is a restore drill's throwaway volume, removed after the drill")
    facts = volumes.inspect_volume(target)
    if facts is None:
        raise ConfigError(f"uploads volume {target!r} does not exist (docker volume ls); the report of the "
                          "disaster restore names the old one")
    current = volumes.uploads_volume_in_use(ctx)
    if current == target:
        raise UnsafeOperation(f"refused: the stack's uploads already use {target!r}")
    labels, project = facts.labels, ctx.config.stack.project
    if not _carries_this_project(labels, project) or labels.get(volumes.MANAGED_LABEL) == "database":
        raise not_this_stacks(target, project, "an uploads volume", labels)
    _refuse_in_use(target, running_only=True)
    return facts


def _start_database(ctx: OpsContext, expected: str) -> None:
    """Recreate the stack's database server on expected (none to start when the app holds the file)."""
    servers = list(ctx.engine.server_services(ctx.config))
    if not servers:
        return
    ctx.compose.up(servers, no_deps=True, force_recreate=True)
    services.wait_healthy(ctx.compose, servers, timeout=ctx.config.http.ready_timeout_seconds)
    _require_mounted(ctx, "database", expected)


def _require_mounted(ctx: OpsContext, holder: str, expected: str) -> None:
    """The service holding the database (the db server, or the app holding its file) came up on expected."""
    mounted = volumes.mounted_database_volume(ctx)
    if mounted != expected:
        raise SwitchError(f"the {holder} came up on {mounted!r}, not {expected!r}")


def _start_app(ctx: OpsContext, uploads: str | None) -> None:
    """Start the app and the proxy (compose recreates those whose uploads volume changed); with uploads,
    check that every one of them mounts it. An app holding the database file is recreated, and must
    hold it on [volumes] database."""
    app = ctx.config.services.serving
    holds_the_file = not ctx.engine.server_services(ctx.config)  # no server: the app opens the file
    ctx.compose.up(app, no_deps=True, force_recreate=holds_the_file)
    services.wait_healthy(ctx.compose, app, timeout=ctx.config.http.ready_timeout_seconds)
    if holds_the_file:
        _require_mounted(ctx, "app", ctx.config.volumes.database)
    if uploads:
        mounted = {service: volumes.mounted_volume(ctx, service, at)
                   for service, at in volumes.uploads_mounts(ctx).items()}
        wrong = {service: name for service, name in mounted.items() if name != uploads}
        if wrong:
            raise SwitchError(f"the uploads should be {uploads!r}, but {wrong} mount(s) another volume")


def _put_back(ctx: OpsContext, previous: str, previous_uploads: str | None, kept: list[tuple[Path, Path]]) -> None:
    for copy, path in kept:
        config_edit.restore_file(copy, path)
    _start_database(ctx, previous)
    _start_app(ctx, previous_uploads)


def switch_database_volume(ctx: OpsContext, target: str, reason: str,
                           uploads_target: str | None = None) -> tuple[OpsContext, SwitchResult]:
    """Put the stack's database on volume target, and its uploads on uploads_target when given (both
    or neither); refused without CONFIRM=YES. On any failure or interruption (signals arrive as
    KeyboardInterrupt) the stack goes back on the volumes it used, and the config and env file,
    rewritten only once the database is up on target, are put back."""
    require_switch_confirmation(target, uploads_target)
    if ctx.engine.data_place != VOLUME:
        raise ConfigError(f"[database] engine = {ctx.engine.name!r} keeps no volume in the stack: switch the "
                          f"database with `{url_switch_command('NAME')}`")
    check_target(ctx, target)
    previous_uploads = None
    if uploads_target:
        check_uploads_target(ctx, uploads_target)
        previous_uploads = volumes.uploads_volume_in_use(ctx)
    previous = volumes.mounted_database_volume(ctx) or ctx.config.volumes.database
    before = on_volumes(ctx, previous, previous_uploads)
    switched = on_volumes(ctx, target, uploads_target)
    settings = {"database": target, **({"uploads_volume": uploads_target} if uploads_target else {})}
    config_file = Path(ctx.config.source)
    kept: list[tuple[Path, Path]] = []
    with contextlib.ExitStack() as undo:
        undo.callback(_put_back, before, previous, previous_uploads, kept)
        ctx.compose.stop([*ctx.config.services.app])
        try:
            servers = list(ctx.engine.server_services(ctx.config))
            if servers:
                ctx.compose.stop(servers)
            _start_database(switched, target)
            # Each copy is registered for putting back before its file changes (no window for a signal).
            config_edit.set_volumes(config_file, settings, lambda copy: kept.append((copy, config_file)))
            env_kept = config_edit.set_env_volumes(ctx.config.stack.env_file, settings,
                                                   lambda copy: kept.append((copy, Path(ctx.config.stack.env_file))))
            _start_app(switched, uploads_target)
        except OpsError as e:
            raise SwitchError(f"switch to {target} failed, going back to {previous}: {e}") from e
        undo.pop_all()
    cfg = ctx.config
    moved = f"; uploads volume {previous_uploads} -> {uploads_target}" if uploads_target else ""
    ledger.audit(cfg.deploy.state_dir, cfg.stack.project, f"database volume {previous} -> {target}{moved} ({reason})")
    return switched, SwitchResult(previous, target, str(config_file), str(kept[0][0]),
                                  str(env_kept) if env_kept else None, previous_uploads, uploads_target)


@dataclass
class SwitchRun:
    ctx: OpsContext
    target: str | None
    uploads_target: str | None = None
    break_stale_lock: bool = False
    cleanup: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    switched_ctx: OpsContext | None = None
    result: SwitchResult | None = None


def confirm(run: SwitchRun) -> dict:
    """Refuse unless CONFIRM=YES: nothing has changed yet."""
    require_switch_confirmation(run.target, run.uploads_target)
    return {"CONFIRM": "YES"}


def target_checked(run: SwitchRun) -> dict:
    """Under the operations lock: the target is an existing database volume of this stack, not the one in
    use, mounted by no container, holding a database cluster (and the uploads target, when given, an
    uploads volume of this stack that no container mounts)."""
    if not run.target:
        raise ConfigError("no target volume: pass --volume=NAME (docker volume ls; the report of the "
                          "disaster restore names the old volume)")
    run.ctx = with_serving_tag(run.ctx)
    run.cleanup.enter_context(lock.hold_stack(run.ctx.config, "switch database volume",
                                              break_stale=run.break_stale_lock))
    checked = {"database": vars(check_target(run.ctx, run.target))}
    if run.uploads_target:
        checked["uploads"] = vars(check_uploads_target(run.ctx, run.uploads_target))
    return checked


def switched(run: SwitchRun) -> SwitchResult:
    """Stop the app and the db, recreate the db on the target volume, rewrite the config, start the app."""
    run.switched_ctx, run.result = switch_database_volume(run.ctx, run.target, "switch by operator",
                                                          run.uploads_target)
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


def switch_volume(ctx: OpsContext, target: str, *, uploads_target: str | None = None,
                  break_stale_lock: bool = False) -> SwitchRun:
    """The whole switch runbook (CONFIRM=YES in the environment, the lock, the switch, readiness)."""
    run = SwitchRun(ctx, target, uploads_target, break_stale_lock=break_stale_lock)
    with run.cleanup:
        SWITCH_VOLUME.run_all(run)
    return run
