"""Runbook: roll the app back to the previous release in the ledger, or to --tag=VERSION.

The database is not touched: its rollback is a restore (docs/RESTORE_RUNBOOK.md, disaster mode).
"""

import pytest

from procedures.release import rollback
from procedures.release.rollback import ROLLBACK
from runbook_plugin.steps import runbook_step

from . import evidence, summary


@pytest.fixture(scope="module")
def run(ops, pytestconfig, runbook_summary):
    with rollback.open_run(ops, pytestconfig.getoption("tag"),
                           break_stale_lock=pytestconfig.getoption("break_stale_lock")) as opened:
        runbook_summary.read(summary.rollback, opened)
        yield opened


@runbook_step(ROLLBACK, "target")
def test_target_release_chosen(run, step, extras):
    """Choose the release: --tag, else the previous good one in the ledger."""
    evidence.data(extras, "rollback", step(run))


@runbook_step(ROLLBACK, "redeploy")
def test_app_redeployed_healthy_ready_and_smoke_green(run, step, extras):
    """Up on the target TAG; health, /readyz, /version and smoke checks asserted."""
    result = step(run)
    evidence.data(extras, "readiness and smoke", result)
    assert result["version"] == run.ctx.tag


@runbook_step(ROLLBACK, "record")
def test_rollback_recorded(run, step, failed_step, extras):
    """Record the rollback in the ledger and audit log."""
    try:
        step(run, failed_step)
    finally:
        evidence.data(extras, "release ledger entry", run.entry)
