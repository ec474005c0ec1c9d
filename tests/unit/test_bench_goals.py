"""Issue 28's goals table: whole rows from a results document shaped as `python -m bench` writes it
(tests/fixtures/bench/results-goals.json: its pgbench numbers are the 2026-11-24 run's, the realistic and
deploy numbers chosen to put one row on each side of its bound)."""

import copy
import json
from pathlib import Path

import pytest

from bench import goals, results

pytestmark = pytest.mark.unit
RECORDED = Path(__file__).parents[1] / "fixtures" / "bench" / "results-goals.json"


@pytest.fixture
def document() -> dict:
    return json.loads(RECORDED.read_text())


def _rows(document: dict, goal_word: str) -> list[dict]:
    return [row for row in goals.evaluate(document) if row["goal"].split()[0] == goal_word]


def test_backup_and_drill_rows_report_every_dataset_and_mark_the_goals_own(document):
    assert _rows(document, "backup") == [
        {"goal": "backup <= 1.25x raw pg_dump", "where": "pgbench", "measured": "2.59 (9.7 s / 3.8 s)",
         "bound": "<= 1.25", "met": "NO", "applies": "not the goal's dataset (pgbench)"},
        {"goal": "backup <= 1.25x raw pg_dump", "where": "realistic", "measured": "1.20 (24.0 s / 20.0 s)",
         "bound": "<= 1.25", "met": "yes", "applies": "the goal's data"}]
    assert _rows(document, "drill") == [
        {"goal": "drill <= 1.2x raw pg_restore", "where": "pgbench", "measured": "2.12 (21.1 s / 9.9 s)",
         "bound": "<= 1.2", "met": "NO", "applies": "not the goal's dataset (pgbench)"},
        {"goal": "drill <= 1.2x raw pg_restore", "where": "realistic", "measured": "1.25 (50.0 s / 40.0 s)",
         "bound": "<= 1.2", "met": "NO", "applies": "the goal's data"}]


def test_a_realistic_size_other_than_1_gb_is_reported_as_not_the_goals_size(document):
    document["datasets"]["realistic"]["data"]["database_bytes"] = 7_100_000_000
    assert _rows(document, "backup")[1]["applies"] == "not the goal's size (7.10 GB)"


def test_the_rehearsal_is_not_measured_until_its_bench_writes_it(document):
    assert [(r["where"], r["measured"], r["met"]) for r in _rows(document, "rehearsal")] == [
        ("pgbench", "not measured", "-"), ("realistic", "not measured", "-")]


def test_the_rehearsal_row_reads_what_its_bench_wrote(document):
    document["datasets"]["realistic"]["rehearsal"] = {
        "raw_restore_seconds": {"median": 40.0}, "raw_migrate_seconds": {"median": 5.0},
        "rehearsal_seconds": {"median": 63.0}, "ratio": 1.4, "target_ratio": 1.3, "met": False}
    assert _rows(document, "rehearsal")[1] == {
        "goal": "rehearsal <= 1.3x raw restore + raw migrate", "where": "realistic",
        "measured": "1.40 (63.0 s / 45.0 s)", "bound": "<= 1.3", "met": "NO", "applies": ""}


def test_each_deploy_run_is_held_to_its_own_backup_rehearsal_migrate_and_15_s(document):
    assert _rows(document, "deploy") == [
        {"goal": "deploy wall <= backup + rehearsal + migrate + 15 s", "where": "realistic, run 1",
         "measured": "28.0 s", "bound": "<= 5.0 + 7.0 + 1.0 + 15 = 28.0 s", "met": "yes", "applies": ""},
        {"goal": "deploy wall <= backup + rehearsal + migrate + 15 s", "where": "realistic, run 2",
         "measured": "30.5 s", "bound": "<= 5.5 + 6.5 + 0.0 + 15 = 27.0 s", "met": "NO", "applies": ""}]


def test_the_deploy_bound_arithmetic():
    timings = {"backup": 9.0, "migrate": 3.0, "rollback_check": 22.0, "up": 8.0}
    assert goals.deploy_bound(timings, 49.0) == {"limit_seconds": 49.0, "wall_seconds": 49.0, "within": True}
    assert goals.deploy_bound(timings, 49.1)["within"] is False
    assert goals.deploy_bound({}, 15.0)["within"] is True, "a step a deploy skipped counts 0 s"


def test_one_failed_request_in_one_run_misses_the_goal(document):
    [row] = _rows(document, "0")
    assert row == {"goal": "0 failed requests in every deploy run", "where": "realistic",
                   "measured": "failed per run: 0, 0", "bound": "0 in each", "met": "yes", "applies": ""}
    document["deploy"]["deploy"]["failed"] = [0, 1]
    assert _rows(document, "0")[0]["met"] == "NO"


def test_peak_rss_flatness_is_judged_only_with_two_realistic_sizes(document):
    assert [(r["measured"], r["met"], r["applies"]) for r in _rows(document, "peak")] == [
        ("largest/smallest 1.02 (pgbench 1.07 GB: 54, realistic 1.09 GB: 55 MB)", "-",
         "one realistic size: run --megabytes 1000,7000"),
        ("largest/smallest 1.00 (pgbench 1.07 GB: 56, realistic 1.09 GB: 56 MB)", "-",
         "one realistic size: run --megabytes 1000,7000")]


def test_peak_rss_flat_within_10_percent_across_1_and_7_gb(document):
    one_gb = document["datasets"].pop("realistic")
    seven_gb = copy.deepcopy(one_gb)
    seven_gb["data"].update(realistic_megabytes=7000, database_bytes=7_600_000_000)
    seven_gb["memory"]["backup"]["peak_mb"] = 60.4  # 1.12 of pgbench's 54: over the 1.10 band
    document["datasets"].update({"realistic-1000MB": one_gb, "realistic-7000MB": seven_gb})
    backup, drill = _rows(document, "peak")
    assert (backup["met"], backup["applies"], drill["met"]) == ("NO", "", "yes")
    assert backup["measured"].startswith("largest/smallest 1.12 (pgbench 1.07 GB: 54, ")


def test_the_goals_table_goes_into_the_markdown_under_its_header(document):
    document["goals"] = goals.evaluate(document)
    table = results.markdown_table(goals.table_rows(document["goals"]))
    assert table.splitlines()[0] == "| goal | where | measured | bound | met | applies |"
    assert "| 0 failed requests in every deploy run | realistic | failed per run: 0, 0 | 0 in each | yes |  |" in table


def test_the_whole_results_page_renders_with_memory_per_dataset_and_the_goals(document):
    document["goals"] = goals.evaluate(document)
    page = results.markdown(document)
    assert "| 4 memory, realistic, 1.09 GB (peak RSS MB) |  | backup 55, drill 56 | max 56 | <= 200 | yes |" in page
    assert "## Issue 28's goals" in page and page.count("| deploy wall <= ") == 2
