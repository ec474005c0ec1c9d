"""A failed step's own message first: the terminal and the report show "LockHeld: the stack's lock is
held by ..." above the traceback, which stays below it for whoever debugs."""

import pytest

from .state import is_runbook_step


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Registered after steps and evidence: their error summary is made and the traceback redacted."""
    outcome = yield
    report = outcome.get_result()
    summary = getattr(report, "error_summary", None)
    if report.failed and summary and is_runbook_step(item) and report.longrepr is not None:
        report.longrepr = f"{summary}\n\n{report.longrepr}"
