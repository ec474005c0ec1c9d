"""The JSON record beside each HTML report (steps with outcome, time and blocker, a check's own fields,
and the summary: record_version 2), the summary header put first in the report, and the copy of both
offsite for checks that ask for it (ARCHIVE_REPORTS_OFFSITE = True)."""

import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path

import pytest

from procedures.backup import evidence_copy
from procedures.errors import ConfigError
from procedures.operator import operator_name
from procedures.private_files import write_private
from procedures.redact import redact, redact_data

from . import completeness, header, history, summary
from .evidence import report_path
from .options import ops_config, ops_context
from .state import (BLOCKED, CONFIG_FREE_CHECKS, RECORD, REFUSED, STARTED, SUMMARY_FACTS, WARNINGS,
                    ops_check_names)
from .steps import step_name


def pytest_configure(config):
    config.stash[RECORD] = {"fields": {}, "steps": {}}
    config.stash[STARTED] = datetime.now(timezone.utc)
    config.stash[SUMMARY_FACTS] = summary.SummaryFacts()


@pytest.fixture(scope="session")
def runbook_record(pytestconfig) -> dict:
    """Fields a check adds to the JSON record written beside its HTML report (e.g. the drill's)."""
    return pytestconfig.stash[RECORD]["fields"]


@pytest.fixture(scope="session")
def runbook_summary(pytestconfig) -> summary.SummaryFacts:
    """Where a check registers the reader of its run (`runbook_summary.read(reader, run)`) for the summary."""
    return pytestconfig.stash[SUMMARY_FACTS]


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
    name = step_name(item)
    if BLOCKED not in item.stash:  # "blocked by step N" left a row, but the step never ran
        completeness.step_ran(item.config, item, name)
    item.config.stash[RECORD]["steps"][report.nodeid] = {
        "step": step, "name": name, "outcome": report.outcome,
        "when": report.when, "seconds": round(report.duration, 3),
        "blocked_by": blocked, "error": getattr(report, "error_summary", None)}


def _stack_config(config):
    """The target stack's config; None for a check that needs no config or a config that fails."""
    if set(ops_check_names(config)) <= CONFIG_FREE_CHECKS:
        return None
    try:
        return ops_config(config)
    except ConfigError:  # the checks report it; the record just has no stack
        return None


def _project(config) -> str | None:
    """[stack] project of the target stack; None for a check that needs no config or a config that fails."""
    stack = _stack_config(config)
    return stack.stack.project if stack else None


def build_record(session, htmlpath: Path, checks: list[str]) -> dict:
    """The run's record (record_version 2), redacted: steps, the check's fields and the summary."""
    config = session.config
    record, started = config.stash[RECORD], config.stash[STARTED]
    facts_source = config.stash[SUMMARY_FACTS]
    finished = datetime.now(timezone.utc)
    steps = list(record["steps"].values())
    whole = completeness.completeness(config)
    refused = config.stash.get(REFUSED, None)  # a wrong config or --tag: no step ran, the run failed
    document = {
        "check": ", ".join(checks), "operator": operator_name(), "host": socket.gethostname(),
        "tag": config.getoption("tag"), **whole,
        "outcome": "failed" if refused else completeness.outcome(steps, whole["complete"], session.exitstatus),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "duration_seconds": round((finished - started).total_seconds(), 3),
        "steps": steps, "issues_found": [f"{s['step']}: {s['error']}" for s in steps if s.get("error")]
                                        + ([f"refused before the first step: {refused}"] if refused else []),
        **record["fields"],
    }
    incomplete = summary.incomplete_text(document, session.exitstatus)
    if incomplete and not summary.failed_steps(document) and not refused:  # else the failure is the issue
        document["issues_found"].append(incomplete)
        print(f"\nopsuite: {incomplete}: the record says so, and no freshness rule or history counts it as a pass")
    facts = facts_source.collect()
    document["issues_found"] += facts.get("risks") or []  # a run that passed may still have failed users' requests
    document.update({
        "record_version": summary.RECORD_VERSION, "project": _project(config), "report": str(htmlpath.resolve()),
        "summary": summary.build(document, facts, exitstatus=session.exitstatus,
                                 warnings=config.stash.get(WARNINGS, []), errors=facts_source.errors,
                                 signed_off_by=config.getoption("ops_signed_off_by")),
    })
    if refused:  # no step ran because the run was refused, not because a selection left them out
        document["summary"].update({
            "outcome_text": f"{document['check']} check refused before its first step: {refused}",
            "failure": {"step": "the run", "error": refused, "advice": []},
            "actions_required": [f"Fix the failure, then run the check again: {refused}"]})
    return redact_data(document)


def _write_record(document: dict, htmlpath: Path) -> Path:
    """<report>.json beside the HTML evidence, 0600, under a partial name until whole."""
    return write_private(htmlpath.with_suffix(".json"), json.dumps(document, indent=2, sort_keys=True) + "\n")


def _add_header(document: dict, htmlpath: Path) -> None:
    """The summary header first in the report's <body>; the report rewritten 0600 through a partial name."""
    if not htmlpath.exists():
        return
    try:
        page = header.insert_first_in_body(htmlpath.read_text(encoding="utf-8"), header.render(document))
    except ValueError as e:
        print(f"\nopsuite: WARNING: {e}")
        return
    write_private(htmlpath, page)


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
    """After pytest-html wrote the evidence (0600 still, whatever it did): the summary header first in
    it, the JSON record beside it, and both offsite if asked."""
    yield
    htmlpath = session.config.getoption("htmlpath", None)
    checks = ops_check_names(session.config)
    if not htmlpath or not checks or session.config.getoption("plan"):
        return
    htmlpath = report_path(session.config)
    if htmlpath.exists():
        os.chmod(htmlpath, 0o600)
    document = build_record(session, htmlpath, checks)
    if document["outcome"] == "incomplete" and session.exitstatus == 0 and not session.config.option.collectonly:
        # A cron line or a CI job reads only the exit code: a run that left steps out is no success there
        # either (--collect-only asked for nothing to run, and its record says incomplete all the same).
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    _add_header(document, htmlpath)
    record_path = _write_record(document, htmlpath)
    if any(getattr(item.module, "ARCHIVE_REPORTS_OFFSITE", False) for item in session.items):
        _archive_offsite(session, [htmlpath, record_path], "-".join(checks))
    history.refresh_after_check(htmlpath, session.config.rootpath, _stack_config(session.config))
