"""One Execution times each step, records its outcome and says which step blocks the later ones, for
the procedure runner and the runbook plugin alike."""

import time

import pytest

from procedures.execution import Execution, error_summary, step_label
from procedures.runbook import Step

pytestmark = pytest.mark.unit


def test_a_captured_step_is_timed_and_recorded_passed():
    execution = Execution()
    with execution.captured("step 1 (first)"):
        time.sleep(0.02)
    record = execution.steps["step 1 (first)"]
    assert (record.outcome, record.detail) == ("passed", None)
    assert 0.02 <= record.seconds < 5


def test_a_failed_step_keeps_its_error_and_blocks_every_later_step():
    execution = Execution()
    with execution.captured("step 2 (boom)"):
        raise RuntimeError("disk full\nand more")
    with execution.captured("step 4 (boom again)"):
        raise ValueError("later")
    assert execution.steps["step 2 (boom)"].outcome == "failed"
    assert execution.steps["step 2 (boom)"].detail == "RuntimeError: disk full"
    assert execution.steps["step 2 (boom)"].seconds is not None
    assert [execution.blocker(n) for n in (1, 3, 5)] == ["step 2 (boom)"] * 3
    with pytest.raises(RuntimeError, match="disk full"):
        execution.raise_first_error()


def test_a_blocked_step_is_skipped_with_its_blocker_unless_it_always_runs():
    execution = Execution()
    execution.failed("step 1 (first)", KeyError("x"))
    assert execution.blocked_by(2, "step 2 (second)", always_run=False) == "step 1 (first)"
    assert execution.steps["step 2 (second)"].outcome == "skipped"
    assert execution.steps["step 2 (second)"].detail == "blocked by step 1 (first)"
    assert execution.blocked_by(3, "step 3 (record)", always_run=True) is None
    assert "step 3 (record)" not in execution.steps


def test_a_step_left_out_blocks_only_the_steps_after_it():
    execution = Execution()
    execution.leaves_out(3, "step 3 (smoke), not run in this session")
    execution.leaves_out(5, "step 5 (later)")
    assert execution.blocker(2) is None and execution.blocker(3) is None
    assert execution.blocker(4) == execution.blocker(6) == "step 3 (smoke), not run in this session"
    execution.failed("step 2 (second)", None)  # a failure the report gave no error for: still blocks
    assert execution.blocker(4) == "step 2 (second)"
    execution.raise_first_error()  # nothing to raise: the failure had no error


def test_a_steps_own_skip_reason_is_recorded_and_a_failure_outranks_a_pass():
    execution = Execution()
    not_today = Step("nightly", lambda run: None, skip_reason=lambda run: f"not on {run}")
    assert execution.reason_not_to_run(1, "step 1 (nightly)", not_today, "sunday") == "not on sunday"
    assert (execution.steps["step 1 (nightly)"].outcome, execution.steps["step 1 (nightly)"].detail) == (
        "skipped", "not on sunday")
    assert execution.reason_not_to_run(2, "step 2 (other)", Step("other", lambda run: None), "sunday") is None
    execution.failed("step 2 (other)", OSError())  # e.g. its teardown failed after the call passed ...
    execution.passed("step 2 (other)")  # ... whatever the order the phases are recorded in
    assert execution.steps["step 2 (other)"].outcome == "failed"
    assert execution.steps["step 2 (other)"].detail == "OSError: "


def test_labels_and_summaries_read_as_the_evidence_shows_them():
    assert step_label(3, "backup") == "step 3 (backup)"
    assert error_summary(ValueError("  first line\nsecond  ")) == "ValueError: first line"
