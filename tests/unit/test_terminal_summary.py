"""The end-of-run summary on the terminal: 3 to 6 lines read from the run's own record (what the record
says, nothing else), shown after an ops check and never after the test suite."""

import json
import re
from pathlib import Path

import pytest

from procedures.redact import register_secret
from runbook_plugin.terminal import summary_lines

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def record(outcome="passed", **summary) -> dict:
    return {"check": "deploy", "outcome": outcome, "duration_seconds": 34.21, "steps_run": 9, "steps_defined": 9,
            "report": "/srv/ops/reports/deploy/20261206T133629Z.html",
            "summary": {"outcome_text": "Deploy of 1.1.0 succeeded", "tag": None, "revision": None,
                        "backup_set": None, "drill": None, "changed": [], "failure": None,
                        "actions_required": [], **summary}}


BACKUP_SET = {"name": "zenops-example.demo_zenops_20261206T133630Z", "size_bytes": 6157 * 1024, "offsite": True,
              "encrypted": True, "offsite_bytes": 6157 * 1024, "dump_bytes": 5836, "sha256": "fb3e"}


def test_a_deploy_says_ok_what_it_serves_now_the_set_it_took_and_where_the_report_is():
    lines = summary_lines(record(tag={"from": "1.0.0", "to": "1.1.0"},
                                 revision={"from": "0001_init", "to": "0002_note_titles"}, backup_set=BACKUP_SET))
    assert lines == [
        "OK: Deploy of 1.1.0 succeeded (34.2 s)",
        "changed: serving 1.1.0 (was 1.0.0); schema 0001_init -> 0002_note_titles",
        "backup set: zenops-example.demo_zenops_20261206T133630Z, 6.0 MiB; offsite: copied, encrypted",
        "report: /srv/ops/reports/deploy/20261206T133629Z.html"]


def test_a_failure_names_the_step_by_number_and_label_its_message_and_what_to_do():
    failure = {"step": "step 9: /readyz green", "label": "step 9 (ready)", "error": "NotReady: /readyz said 503",
               "advice": ["pytest ops_checks/rollback.py --tag=1.0.0", "second advice"]}
    lines = summary_lines(record("failed", outcome_text="Deploy of 1.2.1 FAILED at step 9 (ready)", failure=failure,
                                 tag={"from": "1.0.0", "to": "1.0.0"},
                                 actions_required=["Fix the failure, then run the check again: step 9: ..."]))
    assert lines == ["FAILED at step 9 (ready): NotReady: /readyz said 503",
                     "changed: serving 1.0.0 (unchanged)",
                     "what to do: pytest ops_checks/rollback.py --tag=1.0.0",
                     "report: /srv/ops/reports/deploy/20261206T133629Z.html"]


def test_a_refusal_is_no_breakage_and_says_so():
    failure = {"step": "step 1: lock", "label": "step 1 (lock)", "error": "LockHeld: held by backup (pid 42)",
               "advice": []}
    assert summary_lines(record("failed", failure=failure))[0] == "REFUSED at step 1 (lock): LockHeld: held by backup (pid 42)"
    assert summary_lines(record("refused", failure={**failure, "error": "x"}))[0].startswith("REFUSED at step 1")


def test_a_run_that_failed_after_its_steps_says_so_whatever_the_record_says():
    after = summary_lines(record("failed", outcome_text="Backup FAILED at the run",
                                 failure={"step": "the run", "error": "pytest exited with status 1 after its steps"}))
    assert after[0] == "FAILED: pytest exited with status 1 after its steps"
    # the evidence's offsite copy fails after the record was written: the record says passed, the run exits 1
    assert summary_lines(record(), exitstatus=1)[0] == (
        "FAILED after the steps: Deploy of 1.1.0 succeeded, but the run exits 1: see the error above")


def test_an_incomplete_run_says_how_many_steps_ran():
    lines = summary_lines({**record("incomplete", failure={"step": "the run", "error": "INCOMPLETE: 2 of 9 ..."}),
                           "steps_run": 2})
    assert lines[0] == "INCOMPLETE: 2 of 9 steps ran: not a pass"
    assert len(lines) == 3 and lines[1] == "changed: nothing"


def test_a_drill_shows_recovery_times_and_fields_the_evidence_adds_are_read_when_present():
    drill = {"rto_seconds": 2.56, "rpo_seconds": 21.7, "row_counts": "match"}
    plain = summary_lines(record(outcome_text="Restore drill succeeded", backup_set=BACKUP_SET, drill=drill))
    assert "recovery: RTO 2.6 s, RPO 21.7 s, row counts match" in plain
    richer = summary_lines(record(outcome_text="Restore drill succeeded", drill=drill,
                                  backup_set={**BACKUP_SET, "offsite": False, "encrypted": False},
                                  restored_from="offsite (decrypted)", rto={"seconds": 95.0},
                                  rpo={"seconds": 26 * 3600 + 60, "schedule_hours": 24},
                                  warnings=["offsite copy older than its schedule", "second"],
                                  actions_required=["Warning: offsite copy older than its schedule", "Warning: second"]))
    assert richer[1:] == [
        "backup set: zenops-example.demo_zenops_20261206T133630Z, 6.0 MiB; offsite: none; restored from offsite (decrypted)",
        "recovery: RTO 95.0 s, RPO 26 h 1 min, row counts match",
        "warning: offsite copy older than its schedule (and 1 more in the report)",
        "report: /srv/ops/reports/deploy/20261206T133629Z.html"]
    assert len(richer) <= 6


def test_the_evidence_parts_restored_from_and_rpo_against_its_limit():
    """The shapes ops_checks/summary.py of the evidence work gives (restored_from a dict, the RPO's limit)."""
    drill = {"rto_seconds": 130.2, "rpo_seconds": 3600.0, "row_counts": "match", "rpo_limit_seconds": 26 * 3600,
             "rpo_within": True, "rto_from": "decision", "set_age_seconds": 9.6}
    offsite = {"where": "offsite", "remote": "gdrive-crypt:Z/prod", "decrypted_through": "gdrive-crypt:Z/prod"}
    lines = summary_lines(record(outcome_text="Restore drill succeeded", backup_set=BACKUP_SET, drill=drill,
                                 restored_from=offsite))
    assert lines[1].endswith("; offsite: copied, encrypted; restored from offsite gdrive-crypt:Z/prod, decrypted")
    assert lines[2] == "recovery: RTO 2 min 10 s, RPO 1 h (limit 26 h), row counts match"
    late = summary_lines(record(backup_set=BACKUP_SET, restored_from={"where": "local", "remote": None},
                                drill={**drill, "rpo_seconds": 27 * 3600, "rpo_within": False}))
    assert lines[1] != late[1] and late[1].endswith("; restored from local")
    assert late[2] == "recovery: RTO 2 min 10 s, RPO 27 h, OVER THE 26 h LIMIT, row counts match"


def test_never_more_than_six_lines_and_never_a_secret():
    register_secret("t3rminal-s3cret-99")
    lines = summary_lines(record(tag={"from": "1", "to": "2"}, backup_set=BACKUP_SET,
                                 drill={"rto_seconds": 1, "rpo_seconds": 2},
                                 changed=["database volume x -> y, switch back: pytest ... t3rminal-s3cret-99"],
                                 actions_required=["Warning: offsite copies not encrypted"]))
    assert len(lines) == 6 and not any("t3rminal-s3cret-99" in line for line in lines)
    assert "***" in lines[1]


SUMMARISED_CHECK = '''
def test_step_one(runbook_summary):
    runbook_summary.read(lambda run: {"what": "Deploy of 1.1.0", "tag": {"from": "1.0.0", "to": "1.1.0"}}, None)


def test_step_two():
    """Its dot comes before the summary."""
'''


@pytest.fixture(autouse=True)
def this_checkout(monkeypatch):
    """pytester's subprocess runs in a temporary folder: import the plugin from this checkout, not whichever
    one the virtualenv was installed from."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


def run_summarised(pytester, body: str, *args):
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    if not (pytester.path / "ops_checks").exists():
        pytester.mkpydir("ops_checks")
    (pytester.path / "ops_checks" / "summarised.py").write_text(body)
    return pytester.runpytest_subprocess("ops_checks/summarised.py", "-p", "no:cacheprovider", *args)


def test_an_ops_check_ends_with_its_summary_read_from_the_record_it_wrote(pytester):
    result = run_summarised(pytester, SUMMARISED_CHECK, "-q")
    result.assert_outcomes(passed=2)
    terminal = result.stdout.str()
    [written] = (pytester.path / "reports" / "summarised").glob("*.json")
    recorded = json.loads(written.read_text())
    _, _, ours = terminal.partition("opsuite ==")
    assert re.search(r"^OK: Deploy of 1\.1\.0 succeeded \([\d.]+ s\)$", ours, re.M), terminal
    assert re.search(r"^changed: serving 1\.1\.0 \(was 1\.0\.0\)$", ours, re.M), terminal
    assert f"report: {recorded['report']}" in ours, "the report the record names, so it was written first"


def test_a_passing_ops_check_lists_no_skipped_step_at_the_end_unless_asked(pytester):
    body = SUMMARISED_CHECK + '''

import pytest


def test_step_three():
    pytest.skip("no host paths to archive")
'''
    quiet = run_summarised(pytester, body, "-q").stdout.str()
    assert "no host paths to archive" not in quiet and "short test summary" not in quiet, quiet
    asked = run_summarised(pytester, body, "-q", "-rs").stdout.str()
    assert "SKIPPED [1] ops_checks/summarised.py" in asked, asked


def test_a_failed_ops_check_names_its_step_and_message(pytester):
    result = run_summarised(pytester, SUMMARISED_CHECK + '''

def test_step_three():
    raise ZeroDivisionError("division by zero")
''')
    result.assert_outcomes(passed=2, failed=1)
    _, _, ours = result.stdout.str().partition("opsuite ==")
    assert re.search(r"^FAILED at step 3 \(\S+\): ZeroDivisionError: division by zero$", ours, re.M), ours


def test_the_test_suite_gets_no_ops_summary(pytester):
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.makepyfile(test_plain="def test_it():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "opsuite" not in result.stdout.str()
