"""Freshness against the real stack: a real backup makes the local set and the offsite copy fresh
(listed on the real remote), a tiny limit or a stopped backup turns them red naming the age, a
missing drill is red, and a failed deploy in the ledger is red until a later success."""

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from procedures import ledger
from procedures.backup import pipeline as backup
from procedures.errors import Stale
from procedures.health.freshness import (FreshnessRun, freshness, local_backup_fresh, no_failed_deploy,
                                         offsite_copy_fresh)

from testkit.ops_run import run_check

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def backed_up(backup_stack):
    """The stack after one real nightly backup, local and offsite."""
    return backup_stack, backup.backup(backup_stack.ctx)


def judged(ctx, tmp_path, now=None) -> FreshnessRun:
    return FreshnessRun(ctx, tmp_path / "reports", now or datetime.now(timezone.utc))


def test_after_a_backup_the_local_set_and_the_offsite_copy_are_fresh(backed_up, tmp_path):
    stack, result = backed_up
    run = judged(stack.ctx, tmp_path)
    with run.cleanup:
        local, remote = local_backup_fresh(run), offsite_copy_fresh(run)
    assert local["newest"] == remote["newest"] == result.set_name
    assert local["age_hours"] < 1 and local["limit_hours"] == 26
    assert remote["remote"] == stack.ctx.config.offsite.path(stack.ctx.config.stack.environment) and remote["crypt"]


@pytest.mark.fault("the nightly backup silently stopped")
def test_a_backup_that_stopped_turns_local_and_offsite_red_the_next_day(backed_up, tmp_path):
    """No backup ran for 27 hours: the newest set, listed for real, is over the 26-hour limit on both sides."""
    stack, result = backed_up
    run = judged(stack.ctx, tmp_path, now=datetime.now(timezone.utc) + timedelta(hours=27))
    with run.cleanup:
        with pytest.raises(Stale, match=rf"newest verified local backup .*\({result.set_name}, .*\) is 27.0 h old, "
                                        r"over the limit of 26.0 h \(\[freshness\] backup_max_age_hours\): the nightly "
                                        r"backup stopped or failed.*pytest ops_checks/backup.py"):
            local_backup_fresh(run)
        with pytest.raises(Stale, match=rf"newest offsite copy of this stack on .*\({result.set_name}, .*\) is 27.0 h "
                                        r"old, over the limit of 26.0 h \(\[freshness\] offsite_max_age_hours\)"):
            offsite_copy_fresh(run)


def test_the_check_with_a_tiny_limit_is_red_naming_ages_a_missing_drill_and_a_failed_deploy(backed_up, tmp_path):
    stack, _ = backed_up
    tiny = tmp_path / "tiny.toml"
    tiny.write_text(stack.config_path.read_text()
                    .replace("backup_max_age_hours = 26", "backup_max_age_hours = 0.0003")
                    .replace("offsite_max_age_hours = 26", "offsite_max_age_hours = 0.0003"))
    assert tiny.read_text().count("= 0.0003") == 2
    cfg = stack.ctx.config
    ledger.append_release(cfg.deploy.state_dir, cfg.stack.project, {
        "action": "deploy", "tag": "1.1.0", "outcome": "failed before the app changed; previous release still serving",
        "error": "preflight: planted by the freshness test"})

    done, report = run_check(stack, tmp_path, "freshness", f"--ops-config={tiny}")

    assert done.returncode == 1, done.stdout[-4000:]
    record = json.loads(report.with_suffix(".json").read_text())
    assert [s["outcome"] for s in record["steps"]] == ["failed"] * 4, record["steps"]  # each judged, none blocked
    errors = " | ".join(s["error"] for s in record["steps"])
    assert re.search(r"Stale: the newest verified local backup .* is \d+\.\d{4} h old, over the limit of 0\.0003 h "
                     r"\(\[freshness\] backup_max_age_hours\)", errors), errors
    assert "Stale: the newest offsite copy" in errors
    assert f"Stale: no passed restore drill of {cfg.stack.project}" in errors
    assert "Stale: the last deploy (1.1.0" in errors
    page = report.read_text()
    assert "run the drill now: pytest ops_checks/restore_drill.py" in page and " h old, over the limit of" in page


def test_a_failed_deploy_is_red_until_a_later_success(backed_up, tmp_path):
    stack, _ = backed_up
    cfg = stack.ctx.config
    ledger.append_release(cfg.deploy.state_dir, cfg.stack.project, {
        "action": "deploy", "tag": "1.1.0", "outcome": "failed, rolled back to 1.0.0", "error": "smoke failed"})
    with pytest.raises(Stale, match=r"the last deploy \(1.1.0, .*\) failed: failed, rolled back to 1.0.0"):
        no_failed_deploy(judged(stack.ctx, tmp_path))
    ledger.append_release(cfg.deploy.state_dir, cfg.stack.project, {
        "action": "rollback", "tag": "1.0.0", "previous_tag": "1.1.0", "outcome": "deployed"})
    assert no_failed_deploy(judged(stack.ctx, tmp_path))["later success"]["action"] == "rollback"


def test_the_whole_runbook_is_green_after_a_backup_a_drill_and_a_good_deploy(backed_up, tmp_path):
    """The scripted entry point, with a drill record from before records carried `project`: it is this
    stack's by the project its backup set's name carries."""
    stack, result = backed_up
    cfg = stack.ctx.config
    drills = tmp_path / "reports" / "restore_drill"
    drills.mkdir(parents=True)
    (drills / "20261201T040000Z.json").write_text(json.dumps({
        "check": "restore_drill", "outcome": "passed", "backup_set": result.set_name, "mode": "test",
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}))
    ledger.append_release(cfg.deploy.state_dir, cfg.stack.project, {"action": "deploy", "tag": "1.0.0",
                                                                     "outcome": "deployed"})
    verdicts = freshness(stack.ctx, tmp_path / "reports")
    assert verdicts["local_backup"]["newest"] == verdicts["offsite_copy"]["newest"] == result.set_name
    assert verdicts["restore_drill"]["newest"] == "20261201T040000Z.json"
    assert verdicts["last_deploy"]["last deploy"]["outcome"] == "deployed"
