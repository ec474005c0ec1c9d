"""One run of a runbook's steps: each step's time and outcome (passed; failed, with its error; skipped,
with its reason), and the step that blocks the ones after it ("blocked by step N (name)").

The procedure runner (`Runbook.run_all`) and the runbook plugin (runbook_plugin/steps.py) both keep
their steps here, so a step is timed, skipped and blocked the same way whichever runs it.
"""

import time
from contextlib import contextmanager
from dataclasses import dataclass

from .errors import CommandFailed, is_source_line, reason_line

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


def step_label(number: int | str, name: str) -> str:
    return f"step {number} ({name})"


def blocked_reason(blocker: str) -> str:
    return f"blocked by {blocker}"


def _command_failure(error: BaseException | None) -> CommandFailed | None:
    """The failed command behind an error (itself, or what it was raised from), if any."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, CommandFailed):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def error_summary(error: BaseException) -> str:
    """The error's type and its message in one line for a report's issues: the first line of its text,
    with the failed command's own error line (`ZeroDivisionError: division by zero`) in place of the
    start of a traceback pasted after it; never a traceback's marker (`~~~^^^`) or frame line."""
    text = str(error).strip()
    head = text.splitlines()[0].strip() if text else ""
    if is_source_line(head):
        head = reason_line(text)
    failed = _command_failure(error)
    if failed is not None and failed.reason:
        tail_first = next((line.strip() for line in failed.stderr_tail.splitlines() if line.strip()), "")
        if tail_first and tail_first != failed.reason and head.endswith(tail_first):
            head = head[: -len(tail_first)].rstrip(" :")  # the message pasted the tail's start: a frame, a marker
        if failed.reason not in head:
            head = f"{head}: {failed.reason}" if head else failed.reason
    return f"{type(error).__name__}: {head}"


@dataclass
class StepRecord:
    label: str
    outcome: str | None = None  # passed, failed or skipped; None while it runs
    seconds: float | None = None
    detail: str | None = None  # a failure's error summary, a skip's reason


class Execution:
    """The steps of one run so far; the first failure blocks every later step that does not always run,
    and so does a step this run leaves out (a step never runs on the word of one that did not)."""

    def __init__(self):
        self.steps: dict[str, StepRecord] = {}
        self.first_failure: str | None = None  # its label
        self.first_error: BaseException | None = None
        self._left_out: tuple[int, str] | None = None  # (number, label) of the first step left out

    def _record(self, label: str) -> StepRecord:
        return self.steps.setdefault(label, StepRecord(label))

    def leaves_out(self, number: int, label: str) -> None:
        """Step `number` will not run in this run: every later step is blocked by it."""
        if self._left_out is None or number < self._left_out[0]:
            self._left_out = (number, label)

    def blocker(self, number: int) -> str | None:
        """The step that blocks step `number`: the first that failed, else an earlier one left out."""
        if self.first_failure is not None:
            return self.first_failure
        if self._left_out is not None and self._left_out[0] < number:
            return self._left_out[1]
        return None

    def blocked_by(self, number: int, label: str, always_run: bool) -> str | None:
        """The blocker of a step that is not always run, recorded as its skip reason; None: it may run."""
        blocker = None if always_run else self.blocker(number)
        if blocker is not None:
            self.skipped(label, blocked_reason(blocker))
        return blocker

    def reason_not_to_run(self, number: int, label: str, step, run) -> str | None:
        """Why a runbook step (procedures/runbook.Step) does not run now: blocked by an earlier step, or
        its own skip reason for this run; recorded as skipped."""
        blocker = self.blocked_by(number, label, step.always_run)
        if blocker is not None:
            return blocked_reason(blocker)
        reason = step.skip_reason(run)
        if reason:
            self.skipped(label, reason)
        return reason

    @contextmanager
    def timed(self, label: str):
        started = time.monotonic()
        try:
            yield
        finally:
            self._record(label).seconds = round(time.monotonic() - started, 3)

    @contextmanager
    def captured(self, label: str):
        """Time the step and record it passed, or failed with its error, which is kept, not raised."""
        try:
            with self.timed(label):
                yield
        except BaseException as e:  # a step's failure, whatever it is, ends in raise_first_error
            self.failed(label, e)
        else:
            self.passed(label)

    def passed(self, label: str) -> None:
        record = self._record(label)
        if record.outcome != FAILED:
            record.outcome = PASSED

    def skipped(self, label: str, reason: str) -> None:
        record = self._record(label)
        record.outcome, record.detail = SKIPPED, reason

    def failed(self, label: str, error: BaseException | None) -> str | None:
        """Record the step failed (the first failure blocks the later steps); returns the error's summary."""
        summary = error_summary(error) if error is not None else None
        record = self._record(label)
        if record.outcome != FAILED:
            record.outcome, record.detail = FAILED, summary
        if self.first_failure is None:
            self.first_failure, self.first_error = label, error
        return summary

    def raise_first_error(self) -> None:
        if self.first_error is not None:
            raise self.first_error
