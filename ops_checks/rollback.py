"""Runbook: roll the app back to the previous release in the ledger, or to --tag=VERSION.

The database is not touched: its rollback is a restore (docs/RESTORE_RUNBOOK.md, disaster mode).
"""

import contextlib

import pytest

from procedures import deploy, lock, rollback

from . import evidence


@pytest.fixture(scope="module")
def run(ops, pytestconfig):
    with contextlib.ExitStack() as cleanup:
        cleanup.enter_context(lock.hold_stack(ops.config, "rollback",
                                              break_stale=pytestconfig.getoption("break_stale_lock")))
        yield rollback.start(ops, pytestconfig.getoption("tag"))


@pytest.mark.order(1)
def test_target_release_chosen(run, extras):
    """Choose the release: --tag, else the previous good one in the ledger."""
    evidence.data(extras, "rollback", {"from": run.from_tag, "to": run.ctx.tag})


@pytest.mark.order(2)
def test_app_redeployed_healthy_ready_and_smoke_green(run, extras):
    """Up on the target TAG; health, /readyz, /version and smoke checks asserted."""
    result = rollback.redeploy(run)
    evidence.data(extras, "readiness and smoke", result)
    assert result["version"] == run.ctx.tag


@pytest.mark.order(3)
@pytest.mark.always_run
def test_rollback_recorded(run, failed_step, extras):
    """Record the rollback in the ledger and audit log."""
    entry = rollback.record(run, f"{failed_step} failed" if failed_step else None)
    evidence.data(extras, "release ledger entry", entry)
    assert not failed_step, f"rollback to {run.ctx.tag} failed at {failed_step}"
