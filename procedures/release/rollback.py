"""Roll the app back to an earlier release by TAG: no migration, no database restore.

The database goes back only through a restore (docs/RESTORE_RUNBOOK.md, disaster mode).
`ROLLBACK` lists the steps once: `rollback(ctx)` runs them, ops_checks/rollback.py one by one.
"""

import contextlib
from dataclasses import dataclass, field
from typing import Iterator

from .. import ledger, lock, plain_compose
from ..context import OpsContext
from ..errors import ConfigError, DeployError
from ..runbook import Runbook, Step
from ..stack.serving import serving_or_none
from .switch import put_app_on
from .tags import validate_tag


@dataclass
class RollbackRun:
    ctx: OpsContext
    from_tag: str | None
    revision: str | None = None
    result: dict = field(default_factory=dict)
    entry: dict | None = None  # the ledger entry, once recorded


def start(ctx: OpsContext, tag: str | None) -> RollbackRun:
    """Choose the target: --tag, else the previous good release in the ledger; refuse if neither."""
    cfg = ctx.config
    serving = serving_or_none(ctx)
    target = tag or ledger.previous_release(cfg.deploy.state_dir, cfg.stack.project, serving)
    if not target:
        raise ConfigError("no previous release in the ledger to roll back to; pass --tag=VERSION")
    return RollbackRun(ctx.with_tag(validate_tag(target)), serving)


def target_chosen(run: RollbackRun) -> dict:
    """The release chosen: --tag, else the previous good one in the ledger."""
    return {"from": run.from_tag, "to": run.ctx.tag}


def redeploy(run: RollbackRun) -> dict:
    """Up on the target TAG; health, /readyz, /version and smoke checks asserted."""
    run.revision = run.ctx.engine.schema_revision(run.ctx.database)
    run.result = put_app_on(run.ctx, run.ctx.tag)
    return run.result


def record(run: RollbackRun, error: str | None) -> dict:
    cfg = run.ctx.config
    outcome = "deployed" if error is None else "failed"
    entry = ledger.append_release(cfg.deploy.state_dir, cfg.stack.project, {
        "action": "rollback", "tag": run.ctx.tag, "previous_tag": run.from_tag, "outcome": outcome,
        "revision_before": run.revision, "revision_after": run.revision, "error": error,
        "switch": run.result.get("switch"),
    })
    ledger.audit(cfg.deploy.state_dir, cfg.stack.project, f"rollback {run.from_tag} -> {run.ctx.tag} {outcome}")
    if error is None:  # a plain `docker compose up` in the app's directory must not bring back the old TAG
        plain_compose.pin(cfg.stack, run.ctx.tag)
    run.entry = entry
    return entry


def record_outcome(run: RollbackRun, failed_step: str | None) -> dict:
    """Record the rollback in the ledger and audit log."""
    entry = record(run, f"{failed_step} failed" if failed_step else None)
    if failed_step:
        raise DeployError(f"rollback to {run.ctx.tag} failed at {failed_step}")
    return entry


ROLLBACK = Runbook("rollback", (
    Step("target", target_chosen),
    Step("redeploy", redeploy),
    Step("record", record_outcome, always_run=True),
))


@contextlib.contextmanager
def open_run(ctx: OpsContext, tag: str | None, *, break_stale_lock: bool = False) -> Iterator[RollbackRun]:
    """The rollback under the operations lock."""
    with lock.hold_stack(ctx.config, "rollback", break_stale=break_stale_lock):
        yield start(ctx, tag)


def rollback(ctx: OpsContext, tag: str | None = None, *, break_stale_lock: bool = False) -> RollbackRun:
    """Put the app back on TAG (or the previous release in the ledger) and record it."""
    with open_run(ctx, tag, break_stale_lock=break_stale_lock) as run:
        ROLLBACK.run_all(run)
        return run
