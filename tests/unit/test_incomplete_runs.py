"""Evidence that cannot lie (issue 24 item 4): a run of an ops check where not every step of its runbook
ran (--collect-only, -k, --deselect, -x, --lf, an interrupted step) leaves a record marked incomplete,
with steps_run of steps_defined, a header that says so, and neither freshness nor the history counts
it as a pass. The real checks run (ops_checks/freshness.py, restore_drill.py) on a config whose stack
does not run: their cheap steps read files only, and the first step fails fast."""

import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from procedures.health import ages
from runbook_plugin import history
from runbook_plugin.history import records
from testkit.minimal_config import minimal_config
from testkit import history_records

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
PROJECT = "app2wger"
FRESHNESS_STEPS = ["local_backup", "offsite_copy", "restore_drill", "last_deploy"]


@pytest.fixture(autouse=True)
def this_code(monkeypatch):
    """The checks run import this tree's code (pytester's child runs in its own directory)."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


@pytest.fixture
def checks(pytester):
    """A directory laid out as the repo: the real ops checks, a config of a stack that does not run."""
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.makeini((ROOT / "pytest.ini").read_text())
    pytester.mkpydir("ops_checks")
    for name in ("freshness", "restore_drill", "evidence", "summary"):
        (pytester.path / "ops_checks" / f"{name}.py").write_text((ROOT / "ops_checks" / f"{name}.py").read_text())
    (pytester.path / "a.yml").write_text("services: {}\n")
    (pytester.path / "ops.toml").write_text(minimal_config(PROJECT, pytester.path))
    return pytester


def plant_passed_drill(pytester, hours_ago: float = 1) -> None:
    """A whole passed drill of this stack, as a complete run records it."""
    drills = pytester.path / "reports" / "restore_drill"
    drills.mkdir(parents=True, exist_ok=True)
    finished = datetime.now(timezone.utc) - timedelta(hours=hours_ago)
    (drills / f"{finished:%Y%m%dT%H%M%SZ}.json").write_text(json.dumps({
        "check": "restore_drill", "outcome": "passed", "project": PROJECT, "complete": True, "steps_run": 9,
        "steps_defined": 9, "steps": [{"name": "restore", "outcome": "passed"}],
        "finished_at": finished.isoformat(timespec="seconds")}))


def run(pytester, check: str, *args, cache: bool = False):
    """The check as an operator runs it; its record (the newest) and the header of its report."""
    result = pytester.runpytest_subprocess(f"ops_checks/{check}.py", *(() if cache else ("-p", "no:cacheprovider")),
                                           *args)
    reports = sorted((pytester.path / "reports" / check).glob("*.html"))
    report = reports[-1]
    page = report.read_text()
    start = page.index("<section id='ops-summary'")
    return result, json.loads(report.with_suffix(".json").read_text()), page[start:page.index("</section>", start)]


def assert_incomplete(record: dict, header: str, ran: list[str], outcome: str = "incomplete") -> None:
    __tracebackhide__ = True
    assert (record["outcome"], record["complete"], record["steps_defined"]) == (outcome, False, 4), record
    assert record["steps_run"] == len(ran) and sorted(s["name"] for s in record["steps"]) == sorted(ran)
    assert record["steps_not_run"] == [f"step {n} ({name})" for n, name in enumerate(FRESHNESS_STEPS, start=1)
                                       if name not in ran]
    assert f"INCOMPLETE: {len(ran)} of 4 steps ran" in record["summary"]["outcome_text"]
    assert "succeeded" not in record["summary"]["outcome_text"] and "succeeded" not in header
    assert f"data-outcome='{outcome}'" in header and f"INCOMPLETE: {len(ran)} of 4 steps ran" in header
    # a failed run's issue is its failure; the steps it left out are said in its outcome
    named = any(i.startswith(f"INCOMPLETE: {len(ran)} of 4") for i in record["issues_found"])
    assert named == (outcome == "incomplete")
    run_row = records.parse_record("freshness/x.json", json.dumps(record), None)
    assert run_row.outcome == outcome and run_row.failed and run_row.incomplete


@pytest.mark.fault("a restore drill run with --collect-only: no step ran")
def test_collect_only_of_the_drill_is_incomplete_and_freshness_does_not_count_it(checks):
    """The reported case: `pytest ops_checks/restore_drill.py --collect-only` wrote "restore_drill check
    succeeded" with 0 steps, and freshness took it as the newest drill."""
    result, record, header = run(checks, "restore_drill", "--collect-only")
    assert result.ret == 0
    defined = ["choose", "throwaway_server", "restore", "row_counts", "revision", "samples", "uploads", "paths",
               "recovery_times"]
    assert (record["outcome"], record["complete"], record["steps_run"], record["steps_defined"]) == \
        ("incomplete", False, 0, len(defined))
    assert record["steps_not_run"] == [f"step {n} ({name})" for n, name in enumerate(defined, start=1)]
    assert record["summary"]["outcome_text"] == "restore_drill check INCOMPLETE: 0 of 9 steps ran: not a pass"
    assert "Results" in header and "succeeded" not in header
    drills = checks.path / "reports" / "restore_drill"
    newest = ages.last_passed_drill(drills, PROJECT, datetime.now(timezone.utc))
    assert newest.name is None and "incomplete: 0 of 9 steps ran, not a pass" in " ".join(newest.ignored)

    result, freshness, _ = run(checks, "freshness", "-k", "restore_drill")
    result.assert_outcomes(failed=1, deselected=3)
    assert f"Stale: no passed restore drill of {PROJECT}" in freshness["steps"][0]["error"]
    assert "incomplete: 0 of 9 steps ran, not a pass" in freshness["steps"][0]["error"]


@pytest.mark.fault("an ops check run with -k: some steps chosen")
def test_a_selection_by_keyword_is_incomplete_though_every_chosen_step_passed(checks):
    plant_passed_drill(checks)
    result, record, header = run(checks, "freshness", "-k", "drill or deploy")
    result.assert_outcomes(passed=2, deselected=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, "an incomplete run is no success to a cron line either"
    assert_incomplete(record, header, ["restore_drill", "last_deploy"])


@pytest.mark.fault("an ops check run with --deselect")
def test_deselected_steps_make_the_run_incomplete(checks):
    plant_passed_drill(checks)
    result, record, header = run(checks, "freshness",
                                 "--deselect", "ops_checks/freshness.py::test_newest_verified_local_backup_is_recent",
                                 "--deselect", "ops_checks/freshness.py::test_newest_offsite_copy_is_recent")
    result.assert_outcomes(passed=2, deselected=2)
    assert_incomplete(record, header, ["restore_drill", "last_deploy"])


@pytest.mark.fault("an ops check run with -x: the steps after a failure never run")
def test_stopping_at_the_first_failure_is_failed_and_incomplete(checks):
    """-x: the first step fails fast (no stack serves) and pytest runs nothing after it."""
    result, record, header = run(checks, "freshness", "-x")
    result.assert_outcomes(failed=1)
    assert_incomplete(record, header, ["local_backup"], outcome="failed")
    assert record["summary"]["outcome_text"].startswith("freshness check FAILED at step 1 (local_backup); INCOMPLETE")


@pytest.mark.fault("an ops check rerun with --lf: only the last failed step")
def test_rerunning_only_the_last_failed_step_is_incomplete(checks):
    """--lf after a run whose drill step was red: the drill step alone passes, the run is no pass."""
    result, _, _ = run(checks, "freshness", "-k", "drill or deploy", cache=True)
    result.assert_outcomes(passed=1, failed=1, deselected=2)
    plant_passed_drill(checks)
    result, record, header = run(checks, "freshness", "--lf", cache=True)
    result.assert_outcomes(passed=1, deselected=3)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert_incomplete(record, header, ["restore_drill"])


INTERRUPTED = '''
import os
import signal
from procedures.runbook import Runbook, Step
from runbook_plugin.steps import runbook_step

FAKE = Runbook("fake", (Step("one", lambda run: None), Step("two", lambda run: os.kill(os.getpid(), signal.SIGTERM)),
                        Step("three", lambda run: None), Step("four", lambda run: None)))


@runbook_step(FAKE, "one")
def test_one(step):
    step(None)


@runbook_step(FAKE, "two")
def test_two(step):
    step(None)


@runbook_step(FAKE, "three")
def test_three(step):
    step(None)


@runbook_step(FAKE, "four")
def test_four(step):
    step(None)
'''


@pytest.mark.fault("SIGTERM mid-step of an ops check: the later steps never run")
def test_a_step_interrupted_by_a_stop_signal_leaves_an_incomplete_record(pytester):
    """systemd stops the unit during step 2 (SIGTERM unwinds like Ctrl-C): 1 of 4 steps left a report."""
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.mkpydir("ops_checks")
    (pytester.path / "ops_checks" / "stopped.py").write_text(INTERRUPTED)
    result = pytester.runpytest_subprocess("ops_checks/stopped.py", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    [report] = (pytester.path / "reports" / "stopped").glob("*.json")
    record = json.loads(report.read_text())
    assert (record["outcome"], record["complete"], record["steps_run"], record["steps_defined"]) == \
        ("incomplete", False, 1, 4)
    assert record["steps_not_run"] == ["step 2 (two)", "step 3 (three)", "step 4 (four)"]
    assert "(pytest was interrupted)" in record["summary"]["outcome_text"]


def test_a_whole_run_is_complete(pytester):
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.mkpydir("ops_checks")
    (pytester.path / "ops_checks" / "whole.py").write_text(INTERRUPTED.replace(
        "os.kill(os.getpid(), signal.SIGTERM)", "None"))
    pytester.runpytest_subprocess("ops_checks/whole.py", "-p", "no:cacheprovider").assert_outcomes(passed=4)
    [report] = (pytester.path / "reports" / "whole").glob("*.html")
    record = json.loads(report.with_suffix(".json").read_text())
    assert (record["outcome"], record["complete"], record["steps_run"], record["steps_defined"],
            record["steps_not_run"]) == ("passed", True, 4, 4, [])
    assert "4 of 4 steps ran (every step the runbook defines)" in report.read_text()


@pytest.mark.fault("an older record of a --collect-only run: passed with no step")
def test_an_older_record_of_a_run_where_no_step_ran_is_no_pass_anywhere(tmp_path):
    """Records written before records counted their steps: `--collect-only` left `steps: []`, passed."""
    drills = tmp_path / "restore_drill"
    drills.mkdir()
    now = datetime.now(timezone.utc)
    old = {"record_version": 2, "check": "restore_drill", "outcome": "passed", "project": PROJECT, "steps": [],
           "started_at": now.isoformat(), "finished_at": now.isoformat(), "duration_seconds": 0.5, "summary": {}}
    (drills / "20261201T040000Z.json").write_text(json.dumps(old))
    newest = ages.last_passed_drill(drills, PROJECT, now)
    assert newest.name is None and "no step ran" in newest.ignored[0]
    assert records.parse_record("restore_drill/x.json", json.dumps(old), None).outcome == "incomplete"
    with_steps = {**old, "steps": [{"name": "restore", "outcome": "passed"}]}
    (drills / "20261201T040000Z.json").write_text(json.dumps(with_steps))
    assert ages.last_passed_drill(drills, PROJECT, now).name == "20261201T040000Z.json"


def test_the_history_shows_an_incomplete_run_as_incomplete_never_passed(tmp_path):
    when = datetime(2026, 12, 5, 2, 0, tzinfo=timezone.utc)
    (tmp_path / "restore_drill").mkdir()
    partial = {**history_records.record("restore_drill", when, outcome="incomplete"),
               "steps_defined": 8, "steps_run": 2, "complete": False}
    (tmp_path / "restore_drill" / "20261205T020000Z.json").write_text(json.dumps(partial))
    page = history.rewrite_index(tmp_path).read_text()
    [row] = re.findall(r'<tr class="run">(.*?)</tr>', page, re.S)
    assert '<td class="incomplete">incomplete <span class="steps">(incomplete: 2 of 8 steps ran)</span></td>' in row
    assert "passed" not in row


RECORDING = '''
from procedures.runbook import Runbook, Step
from runbook_plugin.steps import runbook_step

FAKE = Runbook("fake", (Step("change", lambda run: print("CHANGED")), Step("verify", lambda run: print("VERIFIED")),
                        Step("promote", lambda run: print("PROMOTED")),
                        Step("record", lambda run, failed: print(f"LEDGER: {failed or 'deployed'}"), always_run=True)))


@runbook_step(FAKE, "change")
def test_change(step):
    step(None)


@runbook_step(FAKE, "verify")
def test_verify(step):
    step(None)


@runbook_step(FAKE, "promote")
def test_promote(step):
    step(None)


@runbook_step(FAKE, "record")
def test_record(step, failed_step):
    step(None, failed_step)
'''


@pytest.mark.fault("a deploy-shaped check run with its verification deselected, or its record step alone")
@pytest.mark.parametrize("selection, ran, ledger", [
    ("change or promote or record", ["CHANGED"], "LEDGER: step 2 (verify), not run in this session"),
    ("record", [], "LEDGER: step 1 (change), not run in this session"),
])
def test_no_step_runs_on_the_word_of_a_step_that_did_not_run(pytester, selection, ran, ledger):
    """A step after one this session does not run is blocked; an always-run step (a deploy's ledger
    record) runs and is told which step did not run, so it never records a success."""
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.mkpydir("ops_checks")
    (pytester.path / "ops_checks" / "deployish.py").write_text(RECORDING)
    result = pytester.runpytest_subprocess("ops_checks/deployish.py", "-p", "no:cacheprovider", "-s", "-k", selection)
    out = result.stdout.str()
    assert [word for word in ("CHANGED", "VERIFIED", "PROMOTED") if word in out] == ran
    assert ledger in out and "LEDGER: deployed" not in out
    [report] = (pytester.path / "reports" / "deployish").glob("*.json")
    record = json.loads(report.read_text())
    steps = {s["name"]: s for s in record["steps"]}
    assert record["outcome"] == "incomplete" and record["complete"] is False
    if "promote" in steps:
        assert steps["promote"]["outcome"] == "skipped"
        assert steps["promote"]["blocked_by"].startswith("blocked by step 2 (verify), not run in this session")
    assert steps["record"]["step"].startswith("step 4: "), "steps keep their runbook number whatever was chosen"


FAILING = INTERRUPTED.replace("os.kill(os.getpid(), signal.SIGTERM)", "1 / 0")


@pytest.mark.fault("a step fails: the later steps are blocked, or never run under -x / --maxfail")
@pytest.mark.parametrize("stop", [(), ("-x",), ("--maxfail=1",)], ids=["blocked", "x", "maxfail"])
def test_steps_after_a_failure_never_count_as_run(pytester, stop):
    """Steps "blocked by step 2" leave a skipped row but did not run; -x and --maxfail leave none:
    either way the record says failed AND incomplete (2 of 4 steps ran), and so does the header."""
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.mkpydir("ops_checks")
    (pytester.path / "ops_checks" / "failing.py").write_text(FAILING)
    result = pytester.runpytest_subprocess("ops_checks/failing.py", "-p", "no:cacheprovider", *stop)
    result.assert_outcomes(passed=1, failed=1, skipped=0 if stop else 2)
    [report] = (pytester.path / "reports" / "failing").glob("*.html")
    record = json.loads(report.with_suffix(".json").read_text())
    assert (record["outcome"], record["complete"], record["steps_run"], record["steps_defined"],
            record["steps_not_run"]) == ("failed", False, 2, 4, ["step 3 (three)", "step 4 (four)"])
    if not stop:
        assert [s["blocked_by"] for s in record["steps"] if s["outcome"] == "skipped"] == \
            ["blocked by step 2 (test_two)"] * 2
    assert record["summary"]["outcome_text"] == "failing check FAILED at step 2 (two); INCOMPLETE: 2 of 4 steps ran"
    page = report.read_text()
    header = page[page.index("<section id='ops-summary'"):]
    assert "data-outcome='failed'" in header and "INCOMPLETE: 2 of 4 steps ran" in header
    row = records.parse_record("failing/x.json", json.dumps({**record, "project": PROJECT}), None)
    assert (row.outcome, row.incomplete) == ("failed", "incomplete: 2 of 4 steps ran")


@pytest.mark.fault("a deploy-shaped check whose verification fails: its always-run record step still runs")
def test_an_always_run_step_after_a_failure_counts_as_run_and_a_blocked_one_does_not(pytester):
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.mkpydir("ops_checks")
    (pytester.path / "ops_checks" / "deployish.py").write_text(
        RECORDING.replace('print("VERIFIED")', '1 / 0'))
    pytester.runpytest_subprocess("ops_checks/deployish.py", "-p", "no:cacheprovider").assert_outcomes(
        passed=2, failed=1, skipped=1)
    [report] = (pytester.path / "reports" / "deployish").glob("*.json")
    record = json.loads(report.read_text())
    assert (record["outcome"], record["complete"], record["steps_run"], record["steps_not_run"]) == \
        ("failed", False, 3, ["step 3 (promote)"])


@pytest.mark.fault("a restore drill that failed at its first step and stopped with --maxfail")
@pytest.mark.parametrize("stop", [(), ("--maxfail=1",)], ids=["blocked", "maxfail"])
def test_a_failed_drill_that_left_steps_out_is_no_pass_to_freshness_or_the_history(checks, stop):
    """The real drill on a stack that does not run: its first step fails, the rest never run. Freshness
    names the record as incomplete and keeps the older passed drill as the newest; the history shows it
    failed and incomplete."""
    plant_passed_drill(checks, hours_ago=30)
    result, record, header = run(checks, "restore_drill", *stop)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert (record["outcome"], record["complete"], record["steps_run"], record["steps_defined"]) == \
        ("failed", False, 1, 9)
    assert "INCOMPLETE: 1 of 9 steps ran" in header and "data-outcome='failed'" in header
    drills = checks.path / "reports" / "restore_drill"
    ours = Path(record["report"]).with_suffix(".json").name
    newest = ages.last_passed_drill(drills, PROJECT, datetime.now(timezone.utc))
    assert newest.name is not None and newest.name != ours, "the older whole drill stays the newest pass"
    assert f"{ours}: incomplete: 1 of 9 steps ran, not a pass" in newest.ignored
    page = history.rewrite_index(checks.path / "reports").read_text()
    assert "failed <span class=\"steps\">(incomplete: 1 of 9 steps ran)</span>" in page
