"""The JSON record beside each HTML report (steps with outcome, time and blocker, plus a check's own
fields), and the copy of both offsite for checks that ask for it (ARCHIVE_REPORTS_OFFSITE = True)."""

import getpass
import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path

import pytest

from procedures.backup import evidence_copy
from procedures.private_files import open_private
from procedures.redact import redact, redact_data

from . import history
from .evidence import report_path
from .options import ops_context
from .state import RECORD, STARTED, ops_check_names


def pytest_configure(config):
    config.stash[RECORD] = {"fields": {}, "steps": {}}
    config.stash[STARTED] = datetime.now(timezone.utc)


@pytest.fixture(scope="session")
def runbook_record(pytestconfig) -> dict:
    """Fields a check adds to the JSON record written beside its HTML report (e.g. the drill's)."""
    return pytestconfig.stash[RECORD]["fields"]


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Enter each step's outcome once the steps plugin has described it (this wrapper runs outermost)."""
    outcome = yield
    report = outcome.get_result()
    step = getattr(report, "step_description", None)
    if step is None or (report.when != "call" and report.passed):
        return
    blocked = (report.longrepr[2].removeprefix("Skipped: ")
               if report.skipped and isinstance(report.longrepr, tuple) else None)
    item.config.stash[RECORD]["steps"][report.nodeid] = {
        "step": step, "outcome": report.outcome, "when": report.when, "seconds": round(report.duration, 3),
        "blocked_by": blocked, "error": getattr(report, "error_summary", None)}


def _write_record(session, htmlpath: Path, checks: list[str]) -> Path:
    """<report>.json beside the HTML evidence: the run's record, redacted, 0600."""
    record, started = session.config.stash[RECORD], session.config.stash[STARTED]
    finished = datetime.now(timezone.utc)
    steps = list(record["steps"].values())
    document = {
        "check": ", ".join(checks), "operator": getpass.getuser(), "host": socket.gethostname(),
        "tag": session.config.getoption("tag"), "outcome": "passed" if session.exitstatus == 0 else "failed",
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "duration_seconds": round((finished - started).total_seconds(), 3),
        "steps": steps, "issues_found": [f"{s['step']}: {s['error']}" for s in steps if s.get("error")],
        **record["fields"],
    }
    target = htmlpath.with_suffix(".json")
    with open_private(target) as out:  # beside the report, in the directory evidence made 0700
        out.write(json.dumps(redact_data(document), indent=2, sort_keys=True) + "\n")
    return target


def _archive_offsite(session, files: list[Path], check: str) -> None:
    """Copy the evidence to <remote>/<env>/reports/<check>/; a failed copy fails the run, loudly."""
    try:
        ctx = ops_context(session.config)
        if not ctx.config.offsite.enabled:
            return
        where = evidence_copy.copy_offsite(ctx, files, check)
        print(f"\nopsuite: evidence copied offsite to {where}")
    except Exception as e:  # any failure here: the run's own result is already recorded and must stand
        print(f"\nopsuite: ERROR: evidence NOT copied offsite: {redact(str(e))}")
        if session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(hookwrapper=True)
def pytest_sessionfinish(session, exitstatus):
    """After pytest-html wrote the evidence (0600 still, whatever it did): the JSON record beside it,
    and both offsite if asked."""
    yield
    htmlpath = session.config.getoption("htmlpath", None)
    checks = ops_check_names(session.config)
    if not htmlpath or not checks or session.config.getoption("plan"):
        return
    htmlpath = report_path(session.config)
    if htmlpath.exists():
        os.chmod(htmlpath, 0o600)
    record_path = _write_record(session, htmlpath, checks)
    if any(getattr(item.module, "ARCHIVE_REPORTS_OFFSITE", False) for item in session.items):
        _archive_offsite(session, [htmlpath, record_path], "-".join(checks))
    history.refresh_after_check(htmlpath, session.config.rootpath)
