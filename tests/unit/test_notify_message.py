"""The notification's title and body, built from a check's JSON record (pure logic)."""

import pytest

from procedures.notify_message import build, failure_of, one_line
from procedures.redact import register_secret

pytestmark = pytest.mark.unit
STEPS = [{"step": "Disk space is enough", "outcome": "passed", "error": None},
         {"step": "Dump the database", "outcome": "failed", "error": "pg_dump: connection refused\nmore"},
         {"step": "Upload offsite", "outcome": "skipped", "error": None, "blocked_by": "Dump the database"}]


def test_a_record_from_before_the_summary_falls_back_to_its_first_failed_step():
    message = build("backup", 1, "zen", {"outcome": "failed", "steps": STEPS}, "/srv/reports/backup/x.html")
    assert message.failed and message.title == "opsuite zen: backup FAILED"
    assert message.body.splitlines() == [
        "Stack: zen", "Check: backup", "Outcome: failed (exit 1)", "Failed step: Dump the database",
        "Error: pg_dump: connection refused", "Report: /srv/reports/backup/x.html"]


def test_the_summary_failure_its_advice_the_project_and_report_of_a_v2_record_win():
    record = {"record_version": 2, "project": "shop", "report": "/srv/reports/deploy/y.html", "outcome": "failed",
              "steps": STEPS,
              "summary": {"outcome_text": "Deploy of 1.1.0 failed; rolled back to 1.0.0",
                          "failure": {"step": "Migrate the schema", "error": "alembic: duplicate column",
                                      "advice": ["scripts/rollback.sh --tag 1.0.0", "pytest ops_checks/restore.py"]}}}
    message = build("deploy", 1, "zen", record, "/elsewhere.html")
    assert message.title == "opsuite shop: deploy FAILED"
    assert message.body.splitlines() == [
        "Stack: shop", "Check: deploy", "Outcome: Deploy of 1.1.0 failed; rolled back to 1.0.0 (exit 1)",
        "Failed step: Migrate the schema", "Error: alembic: duplicate column",
        "Advice: scripts/rollback.sh --tag 1.0.0", "Advice: pytest ops_checks/restore.py",
        "Report: /srv/reports/deploy/y.html"]


def test_a_success_names_no_failed_step():
    message = build("backup", 0, "zen", {"outcome": "passed", "steps": STEPS[:1],
                                         "summary": {"outcome_text": "Backup zen-20261201 verified", "failure": None}})
    assert not message.failed and message.title == "opsuite zen: backup succeeded"
    assert message.body.splitlines() == ["Stack: zen", "Check: backup", "Outcome: Backup zen-20261201 verified (exit 0)",
                                         "Report: none written"]


def test_the_exit_code_decides_the_outcome_not_the_record():
    """A record says passed, but pytest exited 3 (an internal error after the steps): that is a failure."""
    message = build("backup", 3, "zen", {"outcome": "passed", "steps": STEPS[:1]})
    assert message.failed and "Failed step: none recorded (see the report)" in message.body


def test_a_check_that_could_not_start():
    message = build("restore_drill", 2, "zen", None, None, setup_error="no .venv/bin/pytest in /opt/x: set up")
    assert message.title == "opsuite zen: restore_drill could not start"
    assert message.body.splitlines() == ["Stack: zen", "Check: restore_drill",
                                         "Outcome: could not start (exit 2): no .venv/bin/pytest in /opt/x: set up",
                                         "Report: none written"]


@pytest.mark.parametrize("record", [
    {"steps": "not a list", "summary": "not a dict"},
    {"steps": [None, 3, {"outcome": "failed"}], "summary": {"failure": {"error": "no step"}}},
])
def test_odd_records_do_not_break_the_message(record):
    message = build("backup", 1, "zen", record)
    assert message.title == "opsuite zen: backup FAILED" and "Failed step: " in message.body


def test_failure_of_a_passed_record_is_none():
    assert failure_of({"steps": STEPS[:1]}) is None


def test_one_line_takes_the_first_non_blank_line_collapsed_and_cut():
    assert one_line("\n\n  Traceback:   a\tb  \nsecond") == "Traceback: a b"
    assert one_line("x" * 400) == "x" * 299 + "…"


def test_everything_in_the_message_is_redacted():
    register_secret("S3CRET-VALUE-1234")
    record = {"steps": [{"step": "Upload", "outcome": "failed",
                         "error": "rclone: 403 for https://u:S3CRET-VALUE-1234@host/x token=abcd1234"}]}
    message = build("backup", 1, "zen", record)
    assert "S3CRET" not in message.body and "abcd1234" not in message.body


def test_an_incomplete_run_is_never_told_as_a_success_whatever_the_exit_code():
    """pytest exited 0 but not every step ran (-k, --deselect, --collect-only): the record says incomplete."""
    error = "INCOMPLETE: 0 of 8 steps ran; not run: step 1 (choose)"
    message = build("restore_drill", 0, "zen", {"outcome": "incomplete", "steps": [], "summary": {
        "outcome_text": "restore_drill check INCOMPLETE: 0 of 8 steps ran: not a pass",
        "failure": {"step": "the run", "error": error, "advice": ["run every step"]}}})
    assert message.failed and message.title == "opsuite zen: restore_drill INCOMPLETE"
    assert f"Error: {error}" in message.body and "Advice: run every step" in message.body
