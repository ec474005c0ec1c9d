"""The freshness runbook: is the evidence that the stack can be recovered recent? The newest verified
local backup, the newest offsite copy, the last passed restore drill, and no deploy left failed.

Red on any of them is a dead man's switch: a nightly backup that silently stopped, an offsite copy
that no longer happens, a drill nobody ran. Each step judges one thing and runs even when an
earlier one is red (always_run), so one report names everything that is stale. `FRESHNESS` lists
the steps once: `freshness(ctx, reports_dir)` runs them all, ops_checks/freshness.py one by one.
"""

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .. import ledger
from ..box import BackupBox, locked_box
from ..context import OpsContext
from ..errors import Stale
from ..remote import offsite
from ..runbook import Runbook, Step
from ..sets import files, sets
from . import ages


@dataclass
class FreshnessRun:
    ctx: OpsContext
    reports_dir: Path  # reports/ under the repo root: the drill's records are in reports/restore_drill/
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    break_stale_lock: bool = False
    cleanup: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _box: BackupBox | None = None

    def box(self) -> BackupBox:
        """The backup container, started on first use under the stack's lock (it removes leftover backup
        containers, which only a lock holder may): the drill and deploy steps need neither."""
        if self._box is None:
            self.ctx, self._box = locked_box(self.ctx, "freshness", self.cleanup, break_stale=self.break_stale_lock)
        return self._box


def _judge(newest: ages.Newest, limit: timedelta, what: str, setting: str, fix: str) -> dict:
    """The evidence of one judgement; raises Stale naming what, its age, the limit and the fix."""
    found = {**newest.describe(), "limit_hours": round(limit / timedelta(hours=1), 4), "setting": setting}
    if newest.name is None:
        raise Stale(f"no {what} found{_left_out(newest)}: {fix}")
    if newest.older_than(limit):
        raise Stale(f"the newest {what} ({newest.name}, {newest.at.isoformat(timespec='seconds')}) is "
                    f"{ages.hours(newest.age)} old, over the limit of {ages.hours(limit)} ({setting}){_left_out(newest)}: {fix}")
    return found


def _left_out(newest: ages.Newest) -> str:
    return f" ({len(newest.ignored)} left out: {'; '.join(newest.ignored)})" if newest.ignored else ""


def _backup_fix(run: FreshnessRun) -> str:
    project = run.ctx.config.stack.project
    return (f"the nightly backup stopped or failed. Read its last report (reports/backup/), then run it now: "
            f"pytest ops_checks/backup.py (scheduled: systemctl start opsuite-backup@{project}.service)")


def local_backup_fresh(run: FreshnessRun, failed_step: str | None = None) -> dict:
    """The newest verified local backup set of this stack (dump and manifest) is within [freshness] backup_max_age_hours."""
    cfg = run.ctx.config
    listing = [f.name for f in files.list_files(run.box(), cfg.backup.directory)]
    newest = ages.newest_set(listing, sets.identity_of(run.ctx), run.now)
    return _judge(newest, timedelta(hours=cfg.freshness.backup_max_age_hours),
                  f"verified local backup of this stack in {cfg.backup.directory}",
                  "[freshness] backup_max_age_hours", _backup_fix(run))


def offsite_disabled(run: FreshnessRun) -> str | None:
    if not run.ctx.config.offsite.enabled:
        return "offsite copies are disabled in the config ([offsite] enabled = false)"
    return None


def offsite_copy_fresh(run: FreshnessRun, failed_step: str | None = None) -> dict:
    """The newest copy of this stack's sets on the remote (listed as the backup lists it) is within
    [freshness] offsite_max_age_hours."""
    cfg = run.ctx.config
    status, listed = offsite.reach(run.box(), cfg.offsite.path(cfg.stack.environment))
    listing = [f.name for f in listed]
    newest = ages.newest_set(listing, sets.identity_of(run.ctx), run.now)
    return {**_judge(newest, timedelta(hours=cfg.freshness.offsite_max_age_hours),
                     f"offsite copy of this stack on {status.path}", "[freshness] offsite_max_age_hours",
                     _backup_fix(run) + "; its upload step says why the remote has nothing newer"),
            "remote": status.path, "crypt": status.crypt}


def drill_fresh(run: FreshnessRun, failed_step: str | None = None) -> dict:
    """The last passed restore drill of this stack (reports/restore_drill/*.json) is within [freshness] drill_max_age_days."""
    cfg = run.ctx.config
    records = run.reports_dir / ages.DRILL_CHECK
    newest = ages.last_passed_drill(records, cfg.stack.project, run.now)
    return {**_judge(newest, timedelta(days=cfg.freshness.drill_max_age_days),
                     f"passed restore drill of {cfg.stack.project} in {records}", "[freshness] drill_max_age_days",
                     "run the drill now: pytest ops_checks/restore_drill.py (scheduled: systemctl start "
                     f"opsuite-restore-drill@{cfg.stack.project}.service)"),
            "drill_max_age_days": cfg.freshness.drill_max_age_days}


def no_failed_deploy(run: FreshnessRun, failed_step: str | None = None) -> dict:
    """The last deploy in the release ledger succeeded, or a later deploy, rollback or install did."""
    cfg = run.ctx.config
    verdict = ages.last_deploy(ledger.releases(cfg.deploy.state_dir, cfg.stack.project))
    if verdict.failed:
        failed = verdict.failed
        raise Stale(f"the last deploy ({failed.get('tag')}, {failed.get('recorded_at')}) failed: "
                    f"{failed.get('outcome')}; error: {failed.get('error')}. Nothing deployed since. Deploy a fixed "
                    f"release (pytest ops_checks/deploy.py --tag=VERSION) or roll back on purpose (pytest "
                    f"ops_checks/rollback.py); the ledger is {cfg.deploy.state_dir}/{cfg.stack.project}/releases.jsonl")
    keys = ("action", "tag", "outcome", "recorded_at")
    return {"last deploy": {k: verdict.last_deploy.get(k) for k in keys} if verdict.last_deploy else "none recorded",
            "later success": {k: verdict.later_success.get(k) for k in keys} if verdict.later_success else None}


FRESHNESS = Runbook("freshness", (
    Step("local_backup", local_backup_fresh, always_run=True),
    Step("offsite_copy", offsite_copy_fresh, always_run=True, skip_reason=offsite_disabled),
    Step("restore_drill", drill_fresh, always_run=True),
    Step("last_deploy", no_failed_deploy, always_run=True),
))


def freshness(ctx: OpsContext, reports_dir: Path, now: datetime | None = None) -> dict:
    """Judge every step; raises the first Stale (or other failure) after all of them ran."""
    run = FreshnessRun(ctx, reports_dir, now or datetime.now(timezone.utc))
    with run.cleanup:
        return FRESHNESS.run_all(run)
