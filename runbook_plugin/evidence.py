"""The HTML evidence report: where it goes, its title, a Step column, the environment table, redaction.

Evidence is one self-contained file per run under reports/<check>/<UTC stamp>.html, whoever
named it, 0600 in a 0700 directory. Tracebacks and captured output are embedded as they are, so
secrets are masked here.
"""

import html
import os
import socket
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pytest_metadata.plugin import metadata_key

from procedures.errors import OpsError
from procedures.operator import operator_name
from procedures.private_files import open_private, private_dir
from procedures.redact import redact
from procedures.stack import tools

from .options import ops_config, ops_context
from .state import CONFIG_FREE_CHECKS, TITLE, WARNINGS, ops_check_names, reports_dir


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    checks = ops_check_names(config)
    config.stash[TITLE] = "Ops evidence"
    if not checks or config.getoption("plan"):
        return
    named = bool(config.getoption("htmlpath", None))
    if not named:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        config.option.htmlpath = str(reports_dir(config.rootpath) / "-".join(checks) / f"{stamp}.html")
    config.option.self_contained_html = True  # evidence is one file, whoever named it
    try:
        _prepare_private_report(report_path(config), ours=not named)
    except OSError as e:  # before any step runs: a check that cannot leave evidence changes nothing
        raise pytest.UsageError(
            f"the evidence report {report_path(config)} cannot be written ({e.strerror or e}): make "
            f"{report_path(config).parent} a writable directory, or give --html=PATH on a writable disk; "
            "no step was run, nothing was changed") from e
    mode = config.getoption("ops_mode")
    config.stash[TITLE] = "Ops evidence: " + ", ".join(checks) + (f" ({mode} mode)" if mode != "test" else "")


def report_path(config) -> Path:
    """The HTML report's path, resolved as pytest-html resolves it."""
    return Path.cwd() / Path(os.path.expandvars(config.option.htmlpath)).expanduser()


def _prepare_private_report(path: Path, ours: bool) -> None:
    """The report's directory 0700 (reports/ and reports/<check>/ tightened when they are ours) and
    the report itself created 0600: pytest-html (set up after this hook) writes into it and keeps its mode."""
    if ours:
        private_dir(path.parent.parent)
    private_dir(path.parent, tighten=ours)
    open_private(path, exclusive=ours).close()  # a name of ours is new: whatever is there was planted


def pytest_html_report_title(report):
    report.title = report.config.stash[TITLE]


def config_warnings(cfg) -> list[str]:
    """What an operator must see at the top of every report of this stack, whatever the check."""
    warnings = []
    if cfg.offsite.enabled and cfg.offsite.plaintext:
        warnings.append(f"Offsite copies are NOT encrypted: [offsite] plaintext = true uploads the database and "
                        f"uploads to {cfg.offsite.remote} readable by anyone with access to it. Use an rclone crypt "
                        "remote (docs/BACKUPS.md section 5) and remove plaintext.")
    return warnings


def pytest_html_results_summary(prefix, summary, postfix, session):
    for warning in session.config.stash.get(WARNINGS, []):
        prefix.append(f'<p class="ops-warning" style="color:#a00;font-weight:bold;border:2px solid #a00;'
                      f'padding:6px">WARNING: {html.escape(redact(warning))}</p>')


def pytest_html_results_table_header(cells):
    cells.insert(1, "<th>Step</th>")


def pytest_html_results_table_row(report, cells):
    cells.insert(1, f"<td>{html.escape(getattr(report, 'step_description', ''))}</td>")


def pytest_sessionstart(session):
    """Fill the report's environment table (values redacted) for ops checks."""
    if not ops_check_names(session.config):
        return
    meta = session.config.stash[metadata_key]
    meta["Host"] = socket.gethostname()
    meta["Operator"] = operator_name()
    meta["TAG"] = session.config.getoption("tag") or "(not given)"
    if set(ops_check_names(session.config)) <= CONFIG_FREE_CHECKS:
        meta.update(tools.tool_versions())
        return
    try:
        cfg = ops_config(session.config)
        meta["Target stack"] = f"{cfg.stack.project} ({cfg.stack.environment})"
        root = session.config.rootpath
        meta["Compose files"] = ", ".join(str(p.relative_to(root)) if p.is_relative_to(root) else str(p)
                                          for p in cfg.stack.compose_files)
        meta["Database volume"] = cfg.volumes.database
        session.config.stash[WARNINGS] = config_warnings(cfg)
        for warning in session.config.stash[WARNINGS]:
            print(f"\nWARNING: {redact(warning)}")
        meta["Database server"] = tools.database_version(ops_context(session.config))
    except OpsError as e:  # the checks report config errors; the table just says so
        meta["Target stack"] = f"config error: {e}"
    meta.update(tools.tool_versions())
    for key in list(meta):
        if isinstance(meta[key], str):
            meta[key] = redact(meta[key])


def _redact_report(report):
    if isinstance(report.longrepr, tuple):
        path, line, message = report.longrepr
        report.longrepr = (path, line, redact(message))
    elif report.longrepr is not None:
        report.longrepr = redact(str(report.longrepr))
    report.sections = [(title, redact(content)) for title, content in report.sections]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Tracebacks and captured output are embedded in reports as they are: mask secrets here."""
    outcome = yield
    _redact_report(outcome.get_result())
