"""Roll the app back to an earlier release by TAG: no migration, no database restore.

The database goes back only through a restore (docs/RESTORE_RUNBOOK.md, disaster mode).
"""

from dataclasses import dataclass, field

from . import database, deploy, ledger, release
from .context import OpsContext
from .errors import ConfigError
from .tags import validate_tag


@dataclass
class RollbackRun:
    ctx: OpsContext
    from_tag: str | None
    revision: str | None = None
    result: dict = field(default_factory=dict)


def start(ctx: OpsContext, tag: str | None) -> RollbackRun:
    """Choose the target: --tag, else the previous good release in the ledger; refuse if neither."""
    cfg = ctx.config
    try:
        serving = release.running_tag(ctx)
    except ConfigError:
        serving = None
    target = tag or ledger.previous_release(cfg.deploy.state_dir, cfg.stack.project, serving)
    if not target:
        raise ConfigError("no previous release in the ledger to roll back to; pass --tag=VERSION")
    return RollbackRun(ctx.with_tag(validate_tag(target)), serving)


def redeploy(run: RollbackRun) -> dict:
    run.revision = database.alembic_revision(run.ctx)
    run.result = deploy.rollback_app(run.ctx, run.ctx.tag)
    return run.result


def record(run: RollbackRun, error: str | None) -> dict:
    cfg = run.ctx.config
    outcome = "deployed" if error is None else "failed"
    entry = ledger.append_release(cfg.deploy.state_dir, cfg.stack.project, {
        "action": "rollback", "tag": run.ctx.tag, "previous_tag": run.from_tag, "outcome": outcome,
        "revision_before": run.revision, "revision_after": run.revision, "error": error,
    })
    ledger.audit(cfg.deploy.state_dir, cfg.stack.project, f"rollback {run.from_tag} -> {run.ctx.tag} {outcome}")
    return entry
