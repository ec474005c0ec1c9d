"""`opsuite status` and the history's strip: stack_status reads the records (written as record.py writes
them), the release ledger (written by ledger.append_release) and the lock (taken by lock.hold), judges each
duty against its [freshness] limit, and changes nothing."""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from procedures import ledger, lock
from procedures.errors import ConfigError
from procedures.sets import names
from runbook_plugin.history.status import AMBER_FRACTION, format_status, stack_status
from testkit.history_records import record, write_run

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 6, 6, 0, tzinfo=timezone.utc)
SHOP = names.Identity("shop", "prod", "app")


@pytest.fixture
def stack(tmp_path) -> dict:
    """A config of stack "shop" whose ledger and lock live under tmp_path (neither created yet)."""
    (tmp_path / "a.yml").write_text("services: {}\n")
    config = tmp_path / "ops.toml"
    config.write_text(f'[stack]\nproject = "shop"\nenvironment = "prod"\ncompose_files = ["a.yml"]\n'
                      f'lock_dir = "{tmp_path / "locks"}"\n[deploy]\nstate_dir = "{tmp_path / "state"}"\n'
                      "[freshness]\nbackup_max_age_hours = 26\noffsite_max_age_hours = 26\ndrill_max_age_days = 35\n")
    reports = tmp_path / "reports"
    reports.mkdir()
    return {"config": config, "reports": reports, "state": str(tmp_path / "state"), "locks": str(tmp_path / "locks")}


def backup_run(reports: Path, hours_ago: float, outcome: str = "passed", offsite: bool = True) -> str:
    taken = NOW - timedelta(hours=hours_ago)
    name = names.set_name(SHOP, taken)
    size = 5 * 2**20
    write_run(reports, record("backup", taken, outcome, backup_seconds=12.0, step_seconds=(1.5, 10.5),
                              backup_set={"name": name, "size_bytes": size, "dump_bytes": size - 100,
                                          "sha256": "0" * 64, "offsite": offsite, "encrypted": offsite,
                                          "offsite_bytes": size if offsite else None}))
    return name


def drill_run(reports: Path, days_ago: float, outcome: str = "passed", source: str = "remote") -> None:
    when = NOW - timedelta(days=days_ago)
    document = record("restore_drill", when, outcome, drill={"rto_seconds": 95.5, "rpo_seconds": 3600.0,
                                                             "row_counts": "match"},
                      backup_set={"name": names.set_name(SHOP, when - timedelta(hours=3)), "size_bytes": 1000,
                                  "dump_bytes": 900, "sha256": "0" * 64, "offsite": True, "encrypted": True,
                                  "offsite_bytes": 1000})
    write_run(reports, {**document, "backup_source": source})


def status(stack) -> dict:
    return stack_status(stack["config"], stack["reports"], now=NOW)


def duty(found: dict, name: str) -> dict:
    [wanted] = [d for d in found["duties"] if d["duty"] == name]
    return wanted


def test_a_stack_with_no_runs_says_so_and_changes_nothing(stack, tmp_path):
    found = status(stack)
    assert found["no_runs_yet"] and found["runs"] == 0
    assert found["serving"] is None and found["last_deploy"] is None and found["backup"] is None
    assert [(d["duty"], d["state"]) for d in found["duties"]] == [
        ("backup", "red"), ("offsite", "red"), ("drill", "red"), ("deploy", "none")]
    assert duty(found, "backup")["text"] == "never: no successful local backup recorded"
    assert found["lock"]["held"] is False
    text = format_status(found)
    assert text.splitlines()[0] == ("shop (prod), 2026-12-06 06:00 UTC: no runs yet (no record in reports/, "
                                    "nothing in the release ledger)")
    assert "newest set" in text and "none recorded" in text
    assert not (tmp_path / "state").exists() and not (tmp_path / "locks").exists()  # read-only: nothing made
    assert json.loads(json.dumps(found)) == found


def test_a_missing_reports_folder_is_no_runs_too(stack):
    assert stack_status(stack["config"], stack["reports"] / "none", now=NOW)["no_runs_yet"]


@pytest.mark.parametrize("hours_ago, state", [(2, "green"), (26 * AMBER_FRACTION + 0.5, "amber"), (30, "red")])
def test_the_backup_is_green_then_amber_past_three_quarters_of_its_limit_then_red(stack, hours_ago, state):
    name = backup_run(stack["reports"], hours_ago)
    found = status(stack)
    backup = duty(found, "backup")
    assert (backup["state"], backup["age_hours"], backup["limit_hours"]) == (state, hours_ago, 26.0)
    assert backup["last_success"] == (NOW - timedelta(hours=hours_ago)).isoformat(timespec="seconds")
    assert found["backup"]["set"] == name and found["backup"]["size_bytes"] == 5 * 2**20
    assert found["backup"]["offsite"] is True and found["backup"]["encrypted"] is True
    assert duty(found, "offsite")["state"] == state
    assert f"  backup       {state.upper()}" in format_status(found)
    if state == "red":
        assert backup["text"] == "30.0 h ago, over the limit of 26.0 h ([freshness] backup_max_age_hours)"


def test_a_failed_backup_after_a_good_one_is_red_and_the_good_set_stays_the_newest(stack):
    name = backup_run(stack["reports"], 25)
    backup_run(stack["reports"], 1, outcome="failed")
    found = status(stack)
    assert found["backup"]["set"] == name
    assert duty(found, "backup")["state"] == "red"
    assert duty(found, "backup")["text"].startswith("the last backup (2026-12-06 05:00 UTC, backup/")
    assert "failed; last success 25.0 h ago" in duty(found, "backup")["text"]


def test_a_set_only_local_leaves_the_offsite_duty_red(stack):
    backup_run(stack["reports"], 2, offsite=False)
    found = status(stack)
    assert duty(found, "backup")["state"] == "green" and duty(found, "offsite")["state"] == "red"
    assert "offsite no, encrypted no" in format_status(found)


def test_offsite_off_in_the_config_is_off_not_red(stack):
    stack["config"].write_text(stack["config"].read_text() + "[offsite]\nenabled = false\n")
    assert duty(status(stack), "offsite")["state"] == "off"


def test_the_last_drill_gives_its_age_rto_and_where_the_set_came_from(stack):
    drill_run(stack["reports"], 30, source="remote")
    found = status(stack)
    assert duty(found, "drill")["state"] == "amber"  # 30 of 35 days
    assert (found["drill"]["rto_seconds"], found["drill"]["from"]) == (95.5, "offsite")
    assert "last drill   30.0 days ago, RTO 95.5 s, from offsite" in format_status(found)
    drill_run(stack["reports"], 1, outcome="failed", source="local")
    assert duty(status(stack), "drill")["state"] == "red"  # the newest drill failed


def test_a_failed_deploy_after_a_good_one_is_red_and_the_good_tag_still_serves(stack):
    ledger.append_release(stack["state"], "shop", {"action": "deploy", "tag": "1.0.0", "outcome": "deployed"})
    first = ledger.releases(stack["state"], "shop")[0]["recorded_at"]
    ledger.append_release(stack["state"], "shop", {"action": "deploy", "tag": "1.1.0", "previous_tag": "1.0.0",
                                                   "outcome": "failed, rolled back to 1.0.0",
                                                   "error": "smoke: /notes answered 500"})
    found = status(stack)
    assert found["serving"] == {"tag": "1.0.0", "since": first, "by": "deploy", "certain": True}
    assert (found["last_deploy"]["tag"], found["last_deploy"]["outcome"]) == ("1.1.0", "failed, rolled back to 1.0.0")
    deploy = duty(found, "deploy")
    assert deploy["state"] == "red" and deploy["last_success"] == first
    assert "nothing deployed since" in deploy["text"]
    assert not found["no_runs_yet"]
    ledger.append_release(stack["state"], "shop", {"action": "deploy", "tag": "1.1.1", "outcome": "deployed"})
    found = status(stack)
    assert duty(found, "deploy")["state"] == "green" and found["serving"]["tag"] == "1.1.1"


def test_a_rollback_that_failed_leaves_the_serving_tag_unknown(stack):
    ledger.append_release(stack["state"], "shop", {"action": "deploy", "tag": "1.0.0", "outcome": "deployed"})
    ledger.append_release(stack["state"], "shop", {"action": "rollback", "tag": "0.9.0", "outcome": "failed"})
    found = status(stack)
    assert found["serving"]["certain"] is False and "cannot tell what serves" in found["serving"]["why"]
    assert "serving      unknown: the rollback of 0.9.0 failed" in format_status(found)


def test_a_damaged_ledger_is_a_note_not_a_crash(stack):
    folder = Path(stack["state"]) / "shop"
    folder.mkdir(parents=True)
    (folder / "releases.jsonl").write_text('{"action": "deploy", "tag": "1.0')
    found = status(stack)
    assert found["serving"] is None and "has a damaged line" in found["notes"][0]
    assert "note: release ledger" in format_status(found)


def test_the_lock_holder_is_shown_and_the_lock_is_left_as_it_was(stack):
    with lock.hold(stack["locks"], "shop", "backup") as me:
        found = status(stack)
        assert found["lock"]["held"] is True and found["lock"]["stale"] is None
        assert found["lock"]["text"] == me.describe() and found["lock"]["holder"]["token"] is None
        assert f"lock         {me.describe()}" in format_status(found)
        assert lock.read_holder(lock.lock_path(stack["locks"], "shop")) == me  # still ours, untouched
    assert status(stack)["lock"]["held"] is False


def test_other_stacks_and_runs_whose_config_failed_are_not_this_stacks(stack):
    write_run(stack["reports"], record("backup", NOW - timedelta(hours=1), project="blog",
                                       backup_seconds=1.0, backup_set={"name": "blog.prod_app_20261206T050000Z",
                                                                       "size_bytes": 1, "dump_bytes": 1}))
    write_run(stack["reports"], record("freshness", NOW - timedelta(hours=1), "failed", project=None))
    found = status(stack)
    assert found["runs"] == 0 and duty(found, "backup")["state"] == "red"


def test_the_lines_are_aligned(stack):
    backup_run(stack["reports"], 2)
    lines = format_status(status(stack)).splitlines()[1:]
    columns = {line.index(text) for line in lines for text in ("GREEN", "RED", "NONE") if f" {text} " in line}
    assert len(columns) == 1, lines


def test_a_bad_config_raises_its_config_error(stack):
    stack["config"].write_text('[stack]\nproject = "shop"\n')
    with pytest.raises(ConfigError):
        stack_status(stack["config"], stack["reports"])


def test_the_strip_on_the_page_is_the_same_status(stack):
    from procedures.load import load_config
    from runbook_plugin import history
    backup_run(stack["reports"], 2)
    with lock.hold(stack["locks"], "shop", "deploy") as me:
        page = history.rewrite_index(stack["reports"], now=NOW, stack_config=load_config(stack["config"])).read_text()
    assert '<section class="status" data-project="shop">' in page
    assert 'data-duty="backup" data-state="green"' in page and 'data-duty="drill" data-state="red"' in page
    assert f"lock: held by {me.describe()}" in page
