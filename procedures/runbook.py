"""A runbook as data: its ordered steps, defined once and used twice.

The procedure runs every step of a mode in order (scripted use, the bench); the ops check runs
the same steps one test at a time and asserts each (the runbook plugin orders and numbers the
tests from this definition, and a test proves every step has exactly one check).
"""

from dataclasses import dataclass
from typing import Any, Callable

from .execution import Execution, step_label

TEST_MODE = "test"


def _always(run) -> str | None:
    return None


@dataclass(frozen=True)
class Step:
    name: str
    action: Callable[..., Any]
    modes: tuple[str, ...] = ()  # empty: every mode
    # Runs even after an earlier step failed (records, puts things back); its action then takes a
    # second argument, which step failed ("step N (name)") or None.
    always_run: bool = False
    skip_reason: Callable[[Any], str | None] = _always  # why the step does not apply to this run

    def applies_in(self, mode: str) -> bool:
        return not self.modes or mode in self.modes


@dataclass(frozen=True)
class Runbook:
    name: str
    steps: tuple[Step, ...]

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"runbook {self.name} has no step {name!r}; steps: {[s.name for s in self.steps]}")

    def position(self, name: str) -> int:
        return [s.name for s in self.steps].index(name) + 1

    def for_mode(self, mode: str = TEST_MODE) -> list[Step]:
        return [s for s in self.steps if s.applies_in(mode)]

    def run_all(self, run, mode: str = TEST_MODE) -> dict[str, Any]:
        """Run every step of the mode in order, skipping those that do not apply; stops at the first
        failure after running the always-run steps that follow it, then re-raises."""
        execution = Execution()
        results: dict[str, Any] = {}
        for number, step in enumerate(self.for_mode(mode), start=1):
            label = step_label(number, step.name)
            if execution.reason_not_to_run(number, label, step, run):
                continue
            with execution.captured(label):
                results[step.name] = step.action(run, execution.blocker(number)) if step.always_run else step.action(run)
        execution.raise_first_error()
        return results
