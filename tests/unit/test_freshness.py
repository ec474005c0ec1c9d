"""Freshness logic: ages, choosing the newest, drill records, the deploy rule, and the [freshness] config."""

import dataclasses
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from procedures import ledger
from procedures.config import FreshnessConfig
from procedures.load import load_config
from procedures.context import OpsContext, prepared_context
from procedures.errors import ConfigError, Stale
from procedures.health import ages
from procedures.health.freshness import FreshnessRun, drill_fresh, no_failed_deploy
from procedures.sets import names

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 2, 6, 0, tzinfo=timezone.utc)
OURS = names.Identity("zen", "prod", "app")
ROOT = Path(__file__).resolve().parents[2]
BASE = '[stack]\nproject = "zen"\ncompose_files = ["a.yml"]\n'


def write_config(tmp_path, extra: str = "") -> Path:
    (tmp_path / "a.yml").write_text("services: {}\n")
    path = tmp_path / "ops.toml"
    path.write_text(BASE + extra)
    return path


def set_files(identity: names.Identity, hours_ago: float, kinds=("dump", "manifest")) -> list[str]:
    name = names.set_name(identity, NOW - timedelta(hours=hours_ago))
    return [name + {"dump": ".dump", "manifest": ".manifest.json"}[k] for k in kinds]


# --- config ---------------------------------------------------------------------------------------

def test_freshness_defaults_follow_the_issue(tmp_path):
    freshness = load_config(write_config(tmp_path)).freshness
    assert (freshness.backup_max_age_hours, freshness.offsite_max_age_hours, freshness.drill_max_age_days) == (26, 26, 35)


def test_the_bundled_config_states_the_defaults():
    (ROOT / "example" / ".env").exists() or pytest.fail("run scripts/bootstrap.sh first: example/.env missing")
    assert load_config(ROOT / "ops.toml").freshness == FreshnessConfig()


def test_freshness_limits_are_read(tmp_path):
    freshness = load_config(write_config(tmp_path, "[freshness]\nbackup_max_age_hours = 0.0003\n"
                                                   "drill_max_age_days = 40\n")).freshness
    assert freshness.backup_max_age_hours == 0.0003 and freshness.drill_max_age_days == 40


@pytest.mark.parametrize("line, key", [
    ("backup_max_age_hours = 0", "backup_max_age_hours"),
    ("offsite_max_age_hours = -1", "offsite_max_age_hours"),
    ("drill_max_age_days = \"35\"", "drill_max_age_days"),
    ("drill_max_age_days = true", "drill_max_age_days"),
])
def test_non_positive_or_non_numeric_limits_are_refused_naming_the_key(tmp_path, line, key):
    with pytest.raises(ConfigError, match=rf"\[freshness\] {key} = .*: expected a number above 0; e.g. {key} = \d+ \(the default\)"):
        load_config(write_config(tmp_path, f"[freshness]\n{line}\n"))


def test_unknown_freshness_setting_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"\[freshness\] backup_max_age is not a setting of \[freshness\]: did you mean backup_max_age_hours\?"):
        load_config(write_config(tmp_path, "[freshness]\nbackup_max_age = 3\n"))


# --- ages and the newest set ----------------------------------------------------------------------

@pytest.mark.parametrize("delta, text", [(timedelta(hours=27.5), "27.5 h"), (timedelta(seconds=4), "0.0011 h"),
                                         (timedelta(days=40, hours=5), "40.2 days")])
def test_ages_read_in_plain_words(delta, text):
    assert ages.hours(delta) == text


def test_newest_verified_set_of_this_stack_is_chosen():
    listing = (set_files(OURS, 30) + set_files(OURS, 3)
               + set_files(OURS, 1, kinds=("dump",))                                   # no manifest: not verified
               + set_files(names.Identity("other", "prod", "app"), 0.5)                # another stack's
               + set_files(OURS, -2)                                                   # stamped in the future
               + ["notes.txt", names.set_name(OURS, NOW) + ".dump.partial"])
    newest = ages.newest_set(listing, OURS, NOW)
    assert newest.name == names.set_name(OURS, NOW - timedelta(hours=3))
    assert newest.age == timedelta(hours=3)
    assert not newest.older_than(timedelta(hours=26)) and newest.older_than(timedelta(hours=2))
    assert any("no manifest" in why for why in newest.ignored)
    assert any("stamped in the future" in why for why in newest.ignored)


def test_no_set_at_all_is_older_than_any_limit():
    newest = ages.newest_set(set_files(names.Identity("other", "prod", "app"), 1), OURS, NOW)
    assert newest.name is None and newest.older_than(timedelta(days=9999))


# --- drill records --------------------------------------------------------------------------------

def drill_record(directory: Path, stem: str, finished: datetime, outcome="passed", **fields) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{stem}.json").write_text(json.dumps({
        "check": "restore_drill", "outcome": outcome, "finished_at": finished.isoformat(timespec="seconds"),
        **fields}))


def test_drill_records_are_attributed_by_project_then_by_the_backup_sets_name(tmp_path):
    ours_set = names.set_name(OURS, NOW - timedelta(days=50))
    theirs_set = names.set_name(names.Identity("other", "prod", "app"), NOW)
    drill_record(tmp_path, "a", NOW - timedelta(days=40), backup_set=ours_set)             # ours, by the set name
    drill_record(tmp_path, "b", NOW - timedelta(days=10), project="zen", backup_set=theirs_set)  # project wins
    drill_record(tmp_path, "c", NOW - timedelta(days=1), backup_set=theirs_set)            # another stack's
    drill_record(tmp_path, "d", NOW - timedelta(days=2), project="zen", outcome="failed")  # failed: not proof
    drill_record(tmp_path, "e", NOW - timedelta(days=3), backup_set="prod_app_20261130T020000Z")  # names no stack
    (tmp_path / "f.json").write_text("{damaged")
    newest = ages.last_passed_drill(tmp_path, "zen", NOW)
    assert newest.name == "b.json" and newest.age == timedelta(days=10)
    assert any(why.startswith("e.json: names no stack") for why in newest.ignored)
    assert any(why.startswith("f.json: damaged") for why in newest.ignored)
    assert ages.drill_project({"backup_set": ours_set}) == "zen"
    assert ages.drill_project({}) is None


def test_missing_records_directory_means_no_drill(tmp_path):
    assert ages.last_passed_drill(tmp_path / "none", "zen", NOW).name is None


def fake_ctx(tmp_path, extra: str = "") -> OpsContext:
    config = load_config(write_config(tmp_path, extra))
    deploy = dataclasses.replace(config.deploy, state_dir=str(tmp_path / "state"))
    return prepared_context(dataclasses.replace(config, deploy=deploy), None)


def test_drill_step_is_red_naming_the_age_limit_and_fix(tmp_path):
    reports = tmp_path / "reports"
    drill_record(reports / "restore_drill", "old", NOW - timedelta(days=36), project="zen")
    with pytest.raises(Stale, match=r"the newest passed restore drill of zen .* \(old.json, .*\) is 36.0 days old, "
                                    r"over the limit of 35.0 days \(\[freshness\] drill_max_age_days\): "
                                    r"run the drill now: pytest ops_checks/restore_drill.py"):
        drill_fresh(FreshnessRun(fake_ctx(tmp_path), reports, NOW))
    drill_record(reports / "restore_drill", "new", NOW - timedelta(days=34), project="zen")
    assert drill_fresh(FreshnessRun(fake_ctx(tmp_path), reports, NOW))["newest"] == "new.json"


def test_no_drill_at_all_is_red(tmp_path):
    with pytest.raises(Stale, match=r"no passed restore drill of zen .* found: run the drill now"):
        drill_fresh(FreshnessRun(fake_ctx(tmp_path), tmp_path / "reports", NOW))


# --- the deploy rule ------------------------------------------------------------------------------

def release(action: str, outcome: str, tag: str = "1.1.0") -> dict:
    return {"action": action, "outcome": outcome, "tag": tag}


@pytest.mark.parametrize("releases, failed", [
    ([], False),
    ([release("install", "deployed")], False),
    ([release("deploy", "deployed")], False),
    ([release("deploy", "deployed"), release("deploy", "failed before the app changed; previous release still serving")], True),
    ([release("deploy", "failed, rolled back to 1.0.0")], True),
    ([release("deploy", "failed, ROLLBACK FAILED"), release("rollback", "deployed", "1.0.0")], False),
    ([release("deploy", "failed, rolled back to 1.0.0"), release("rollback", "failed")], True),
    ([release("deploy", "failed, rolled back to 1.0.0"), release("deploy", "deployed", "1.1.1")], False),
    ([release("deploy", "failed, rolled back"), release("deploy", "deployed"), release("rollback", "failed")], False),
], ids=["empty", "install", "deployed", "failed-after-success", "rolled-back-automatically",
        "rollback-succeeded-later", "rollback-failed-too", "fixed-release", "last-deploy-succeeded"])
def test_last_deploy_failed_without_a_later_success(releases, failed):
    assert (ages.last_deploy(releases).failed is not None) == failed


def test_deploy_step_reads_the_ledger_and_goes_green_after_a_later_success(tmp_path):
    ctx = fake_ctx(tmp_path)
    state = ctx.config.deploy.state_dir
    ledger.append_release(state, "zen", {"action": "deploy", "tag": "1.1.0", "outcome": "failed, rolled back to 1.0.0",
                                         "error": "smoke: /notes answered 500"})
    with pytest.raises(Stale, match=r"the last deploy \(1.1.0, .*\) failed: failed, rolled back to 1.0.0; error: "
                                    r"smoke: /notes answered 500. Nothing deployed since. Deploy a fixed release"):
        no_failed_deploy(FreshnessRun(ctx, tmp_path, NOW))
    ledger.append_release(state, "zen", {"action": "deploy", "tag": "1.1.1", "outcome": "deployed"})
    found = no_failed_deploy(FreshnessRun(ctx, tmp_path, NOW))
    assert found["last deploy"]["tag"] == "1.1.1"
