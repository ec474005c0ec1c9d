"""The adoption runbook: take over a stack that runs under plain `docker compose up`, data in place.

    running as it is -> first verified backup -> take over under the overlay -> same data -> ready -> record

Nothing changes before a verified backup of the database exactly as it runs. The overlay names
the existing database volume as external (compose can no longer create or remove it); the
database container is recreated on that same volume, the app started on its serving TAG, never
migrated. The same volume, the same cluster and the backup's row counts prove the data is the same.
"""

import contextlib
import os
from dataclasses import dataclass
from typing import Iterator

from .. import ledger, lock, plain_compose
from ..backup.pipeline import BackupResult, backup
from ..compose_model import database_mount
from ..context import OpsContext
from ..engines.targets import VOLUME
from ..errors import UnsafeOperation
from ..guards import require_confirmation
from ..release.install import database_answers, start_app
from ..release.one_offs import run_one_offs
from ..runbook import Runbook, Step
from ..stack import readiness, volumes
from ..stack.serving import with_serving_tag
from . import project_check
from .release_images import name_serving_images


@dataclass
class AdoptRun:
    ctx: OpsContext
    volume: volumes.VolumeFacts | None = None
    cluster: str | None = None
    backup: BackupResult | None = None
    entry: dict | None = None


def adopt_command(ctx: OpsContext) -> str:
    config = f" --ops-config={ctx.config.source}" if ctx.config.source else ""
    return f"CONFIRM=YES pytest ops_checks/adopt.py{config} --tag={ctx.tag or 'SERVING_TAG'}"


def require_adopt_confirmation(ctx: OpsContext) -> None:
    """Refuse, before anything changes, unless the operator said CONFIRM=YES: the take-over recreates
    the live database container."""
    require_confirmation(os.environ, "adoption recreates the live database container (on the same volume) and "
                         "the app's containers under the suite's overlay", adopt_command(ctx))


def found_running(run: AdoptRun) -> dict:
    """The stack runs, its database mounts the volume [volumes] database names (a database outside the
    stack answers at the app's URL); volume and cluster noted. Refused without CONFIRM=YES."""
    require_adopt_confirmation(run.ctx)
    project_check.refuse_other_project(run.ctx.config)
    run.ctx = with_serving_tag(run.ctx)
    if run.ctx.engine.data_place == VOLUME:
        mounted = volumes.mounted_database_volume(run.ctx)
        if mounted is None:
            key = database_mount(run.ctx.compose.rendered(), run.ctx.config)[0]
            project_check.refuse_install_over_data(run.ctx.config, key)
            raise UnsafeOperation("refused: the database does not run; adoption takes over a running stack "
                                  "(for a new one use `pytest ops_checks/install.py --tag=VERSION`)")
        volumes.refuse_volume_drift(run.ctx)
        run.volume = volumes.require_database_volume(mounted)
    # The suite's own volumes, made once: a database without a service of its own is asked from a
    # one-off of the backup service, which mounts them.
    volumes.ensure_data_volumes(run.ctx)
    run.cluster = run.ctx.engine.data_identity(run.ctx.database)
    return {"serving TAG": run.ctx.tag, "database": _where(run), "cluster": run.cluster}


def _where(run: AdoptRun) -> dict | str:
    """The database volume's facts, or the server a database outside the stack is reached at."""
    return {**run.ctx.engine.where(run.ctx), **({"volume": vars(run.volume)} if run.volume else {})}


def first_backup(run: AdoptRun) -> BackupResult:
    """A verified backup of the database as it runs, before anything changes."""
    run.backup = backup(run.ctx, locked=True)
    return run.backup


def take_over(run: AdoptRun) -> dict:
    """Recreate the database on the same (now external) volume and start the app on its TAG, on the images
    that serve it (those built on the server named by the TAG first); no migration."""
    require_adopt_confirmation(run.ctx)
    images = name_serving_images(run.ctx)
    state = database_answers(run.ctx)  # a database outside the stack is asked, never touched
    one_offs = run_one_offs(run.ctx)
    app = start_app(run.ctx)
    return {"database": state, "images built on the server": images, "one-off tasks": one_offs,
            "app": {n: vars(s) for n, s in app.items()},
            "plain docker compose": plain_compose.pin(run.ctx.config.stack, run.ctx.tag)}


def same_data(run: AdoptRun) -> dict:
    """The same volume and cluster as before, and every table holds at least the backup's rows."""
    cluster = run.ctx.engine.data_identity(run.ctx.database)
    # Docker's CreatedAt follows the data directory's ctime, so name and mountpoint identify the volume
    # and the cluster's system identifier (new at every initdb) identifies the data.
    if run.volume:
        after = volumes.require_database_volume(run.ctx.config.volumes.database)
        if (after.name, after.mountpoint) != (run.volume.name, run.volume.mountpoint):
            raise UnsafeOperation(f"the database is on another volume after the take-over: {vars(after)}, "
                                  f"was {vars(run.volume)}; restore from backup {run.backup.set_name}")
    if cluster != run.cluster:
        raise UnsafeOperation(f"the database cluster changed ({run.cluster} -> {cluster}): this is not the same "
                              f"data; restore from backup {run.backup.set_name}")
    counts = run.ctx.engine.row_counts(run.ctx.database)
    recorded = run.backup.manifest["row_counts"]
    short = {t: (n, counts.get(t)) for t, n in recorded.items() if (counts.get(t) or 0) < n}
    if short:
        raise UnsafeOperation(f"tables hold fewer rows than the backup taken before the take-over: {short}")
    return {"database": _where(run), "cluster": cluster,
            "rows": [{"table": t, "backup": recorded.get(t), "now": counts.get(t)}
                     for t in sorted(set(recorded) | set(counts))]}


def ready(run: AdoptRun) -> dict:
    """Readiness through the proxy, the serving release is the TAG, and the smoke checks pass."""
    return {**readiness.check_ready(run.ctx), "smoke": readiness.smoke(run.ctx)}


def record(run: AdoptRun) -> dict:
    """Enter the adopted release in the ledger, so later rollbacks can find it."""
    cfg = run.ctx.config
    run.entry = ledger.append_release(cfg.deploy.state_dir, cfg.stack.project, {
        "action": "adopt", "tag": run.ctx.tag, "outcome": "deployed", "backup": run.backup.set_name,
        "database_volume": run.volume.name if run.volume else None,
        "revision_after": run.ctx.engine.schema_revision(run.ctx.database)})
    where = run.volume.name if run.volume else run.ctx.engine.where(run.ctx)
    ledger.audit(cfg.deploy.state_dir, cfg.stack.project, f"adopt {run.ctx.tag} on {where}")
    return run.entry


ADOPT = Runbook("adopt", (
    Step("found_running", found_running),
    Step("first_backup", first_backup),
    Step("take_over", take_over),
    Step("same_data", same_data),
    Step("ready", ready),
    Step("record", record),
))


@contextlib.contextmanager
def open_run(ctx: OpsContext, *, break_stale_lock: bool = False) -> Iterator[AdoptRun]:
    """The adoption under the operations lock."""
    with lock.hold_stack(ctx.config, "adopt", break_stale=break_stale_lock):
        yield AdoptRun(ctx)


def adopt(ctx: OpsContext, *, break_stale_lock: bool = False) -> AdoptRun:
    """Take over the running stack: backup first, then the overlay, the same data proven after."""
    with open_run(ctx, break_stale_lock=break_stale_lock) as run:
        ADOPT.run_all(run)
        return run
