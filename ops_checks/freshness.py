"""Runbook: is the evidence of recoverability fresh? The newest verified local backup, the newest
offsite copy, the last passed restore drill (reports/restore_drill/*.json), no deploy left failed.

    pytest ops_checks/freshness.py [--ops-config PATH]

Run nightly after the backup (scripts/install-schedule.sh schedules it): a backup that silently
stopped turns this red the next day. Every step runs even when an earlier one is red, so one
report names everything that is stale; limits are [freshness] in the ops config.
"""

import pytest

from procedures.health.freshness import FRESHNESS, FreshnessRun
from runbook_plugin.steps import runbook_step

from . import evidence


@pytest.fixture(scope="module")
def run(ops, pytestconfig):
    """One freshness run; the lock and backup container it takes for the listings are released on exit."""
    opened = FreshnessRun(ops, pytestconfig.rootpath / "reports",
                          break_stale_lock=pytestconfig.getoption("break_stale_lock"))
    with opened.cleanup:
        yield opened


@runbook_step(FRESHNESS, "local_backup")
def test_newest_verified_local_backup_is_recent(run, step, extras):
    evidence.data(extras, "newest verified local backup", step(run))


@runbook_step(FRESHNESS, "offsite_copy")
def test_newest_offsite_copy_is_recent(run, step, extras):
    evidence.data(extras, "newest offsite copy", step(run))


@runbook_step(FRESHNESS, "restore_drill")
def test_last_passed_restore_drill_is_recent(run, step, extras):
    evidence.data(extras, "last passed restore drill", step(run))


@runbook_step(FRESHNESS, "last_deploy")
def test_last_deploy_did_not_fail_without_a_later_success(run, step, extras):
    evidence.data(extras, "release ledger", step(run))
