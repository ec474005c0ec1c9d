"""The ledger's outcome after a failed deploy tells the operator what is serving now."""

from types import SimpleNamespace

import pytest

from procedures import ledger
from procedures.release import deploy

pytestmark = pytest.mark.unit


def failed_run(tmp_path, previous_tag, app_touched):
    config = SimpleNamespace(deploy=SimpleNamespace(state_dir=str(tmp_path)), stack=SimpleNamespace(project="p"))
    ctx = SimpleNamespace(config=config, tag="1.1.0")
    run = deploy.DeployRun(ctx, previous_tag)
    run.app_touched = app_touched
    return run


def test_failure_before_up_says_the_previous_release_still_serves(tmp_path):
    entry = deploy.finish(failed_run(tmp_path, "1.0.0", app_touched=False), "migrate: exit 1")
    assert entry["outcome"] == "failed before the app changed; previous release still serving"
    assert ledger.releases(str(tmp_path), "p")[-1]["error"] == "migrate: exit 1"


def test_first_install_failing_after_up_does_not_claim_a_previous_release(tmp_path):
    entry = deploy.finish(failed_run(tmp_path, None, app_touched=True), "check_ready: 503")
    assert entry["outcome"] == "failed after the app changed; no previous release to roll back to"
    assert entry["rollback"] is None


def test_outcome_is_recorded_once(tmp_path):
    run = failed_run(tmp_path, "1.0.0", app_touched=False)
    deploy.finish(run, "pull: no such image")
    deploy.finish(run, "pull: no such image")
    assert len(ledger.releases(str(tmp_path), "p")) == 1


def test_restore_advice_names_the_backup_and_the_disaster_command(tmp_path):
    run = failed_run(tmp_path, "1.0.0", app_touched=True)
    assert deploy.database_restore_advice(run).startswith("no: the database schema did not change")
    run.revision_before, run.revision_after = "0001", "0002"
    run.backup = SimpleNamespace(set_name="prod_zenops_20261124T023000Z")
    advice = deploy.database_restore_advice(run)
    assert advice.startswith("maybe: the schema moved 0001 -> 0002")
    assert "CONFIRM=YES pytest ops_checks/restore_drill.py --mode=disaster --backup=prod_zenops_20261124T023000Z" in advice


def test_with_nothing_serving_the_previous_release_is_the_newest_that_ended_serving(tmp_path):
    state = str(tmp_path)
    assert ledger.previous_release(state, "p", None) is None
    ledger.append_release(state, "p", {"action": "install", "tag": "1.0.0", "outcome": "deployed"})
    ledger.append_release(state, "p", {"action": "deploy", "tag": "1.1.0", "outcome": "deployed"})
    ledger.append_release(state, "p", {"action": "rollback", "tag": "1.0.0", "outcome": "deployed"})
    ledger.append_release(state, "p", {"action": "deploy", "tag": "1.2.0", "outcome": "failed, rolled back to 1.0.0"})
    assert ledger.previous_release(state, "p", None) == "1.0.0"
    assert ledger.previous_release(state, "other", None) is None
