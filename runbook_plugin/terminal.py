"""The end-of-run summary on the terminal: 3 to 6 lines after an ops check, read from the record the run
just wrote (record.py builds it once; this only reads it), so the terminal never says what the evidence
does not. Fields the record lacks are left out, not guessed.
"""

import json
from pathlib import Path

import pytest

from procedures.redact import redact

from .evidence import report_path
from .state import STARTED, ops_check_names

SESSION = pytest.StashKey[pytest.Session]()
MAX_LINES = 6
# A step that failed because the suite refused something dangerous (procedures/errors.py), not because
# something broke: nothing was changed, and the message says what to do instead.
REFUSALS = ("UnsafeOperation:", "LockHeld:")


def _size(size: float) -> str:
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    power = 0
    while size >= 1024 and power < len(units) - 1:
        size, power = size / 1024, power + 1
    return f"{size:.0f} B" if power == 0 else f"{size:.1f} {units[power]}"


def _seconds(value) -> str | None:
    """A duration from a number of seconds or a dict holding one (`seconds`, `rto_seconds`...); None if neither."""
    if isinstance(value, dict):
        value = next((v for k, v in value.items() if k.endswith("seconds") and isinstance(v, (int, float))), None)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value < 120:
        return f"{value:.1f} s"
    hours, rest = divmod(round(value), 3600)
    if hours:
        return f"{hours} h" + (f" {rest // 60} min" if rest // 60 else "")
    return f"{rest // 60} min {rest % 60} s"


def outcome_line(record: dict, exitstatus: int = 0) -> str:
    """OK / FAILED / INCOMPLETE / REFUSED, and for a failure the step's number, label and message.
    exitstatus: pytest's, which an error after the record (the evidence's offsite copy) may still fail."""
    summary = record.get("summary") or {}
    failure = summary.get("failure") or {}
    outcome = str(record.get("outcome") or "").lower()
    error = str(failure.get("error") or "")
    if outcome == "passed" and exitstatus:
        return (f"FAILED after the steps: {summary.get('outcome_text') or 'the steps passed'}, but the run exits "
                f"{int(exitstatus)}: see the error above")
    if outcome == "passed":
        word = "OK"
    elif outcome == "refused" or error.startswith(REFUSALS):
        word = "REFUSED"
    elif outcome == "incomplete":
        word = "INCOMPLETE"
    else:
        word = "FAILED"
    line = f"{word}: {summary.get('outcome_text') or record.get('check', 'the check')}"
    if failure and failure.get("label"):
        line = f"{word} at {failure['label']}: {error}"
    elif word == "INCOMPLETE":
        line = f"{word}: {record.get('steps_run', '?')} of {record.get('steps_defined', '?')} steps ran: not a pass"
    elif failure:  # the run failed after its steps: the error says how
        line = f"{word}: {error}"
    duration = _seconds(record.get("duration_seconds"))
    return line + (f" ({duration})" if duration and word == "OK" else "")


def changed_line(summary: dict) -> str | None:
    parts = []
    tag, revision = summary.get("tag") or {}, summary.get("revision") or {}
    if tag.get("to"):
        was = tag.get("from")
        parts.append(f"serving {tag['to']}" + (" (first install)" if not was else " (unchanged)" if was == tag["to"]
                                               else f" (was {was})"))
    if revision.get("to") and revision.get("from") != revision.get("to"):
        parts.append(f"schema {revision.get('from') or 'new'} -> {revision['to']}")
    parts += [str(change) for change in summary.get("changed") or []]
    return "changed: " + "; ".join(parts) if parts else None


def backup_line(summary: dict) -> str | None:
    backup = summary.get("backup_set") or {}
    if not backup.get("name"):
        return None
    size = f", {_size(backup['size_bytes'])}" if isinstance(backup.get("size_bytes"), (int, float)) else ""
    offsite = backup.get("offsite")
    where = ("" if offsite is None else "; offsite: " + ("copied, " + ("encrypted" if backup.get("encrypted")
                                                                        else "NOT encrypted") if offsite else "none"))
    restored = _restored(summary.get("restored_from"))
    return f"backup set: {backup['name']}{size}{where}" + (f"; restored from {restored}" if restored else "")


def _restored(value) -> str | None:
    """Where a restore read its set: "local", or "offsite REMOTE, decrypted" (a dict of where, remote and
    decrypted_through) or the text the record holds."""
    if not isinstance(value, dict):
        return str(value) if value else None
    if not value.get("where"):
        return None
    return (str(value["where"]) + (f" {value['remote']}" if value.get("remote") else "")
            + (", decrypted" if value.get("decrypted_through") else ""))


def recovery_line(summary: dict) -> str | None:
    drill = summary.get("drill") or {}
    rto = _seconds(summary.get("rto")) or _seconds(drill.get("rto_seconds"))
    rpo = _seconds(summary.get("rpo")) or _seconds(drill.get("rpo_seconds"))
    limit = _seconds(drill.get("rpo_limit_seconds"))
    if rpo and limit:  # against the schedule's limit, when the record judges it
        rpo += f" (limit {limit})" if drill.get("rpo_within") is not False else f", OVER THE {limit} LIMIT"
    parts = [f"RTO {rto}"] if rto else []
    parts += [f"RPO {rpo}"] if rpo else []
    if drill.get("row_counts"):
        parts.append(f"row counts {drill['row_counts']}")
    return "recovery: " + ", ".join(parts) if parts else None


def attention_line(summary: dict) -> str | None:
    """What to do after a failure (the procedure's first advice), else how many warnings the report has."""
    if summary.get("failure"):
        advice = summary["failure"].get("advice") or []
        return f"what to do: {advice[0]}" if advice else None
    warnings = summary.get("warnings") or summary.get("actions_required") or []  # the latter repeats the former
    if warnings:
        return f"warning: {warnings[0]}" + (f" (and {len(warnings) - 1} more in the report)" if len(warnings) > 1 else "")
    return None


def summary_lines(record: dict, exitstatus: int = 0) -> list[str]:
    """The run in 3 to 6 lines: outcome, what changed, the set and where it is, recovery, what needs
    attention, the report; redacted (the record is, and so is every line again)."""
    summary = record.get("summary") or {}
    middle = [line for line in (changed_line(summary), backup_line(summary), recovery_line(summary),
                                attention_line(summary)) if line]
    report = f"report: {record.get('report') or '(not written)'}"
    lines = [outcome_line(record, exitstatus), *middle[:MAX_LINES - 2], report]
    if len(lines) < 3:
        lines.insert(1, "changed: nothing")
    return [redact(line) for line in lines]


def this_runs_record(config) -> dict | None:
    """The record beside the report, if this run wrote it (not a leftover of an earlier run)."""
    path = report_path(config).with_suffix(".json")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    started = config.stash.get(STARTED, None)
    if started is None or record.get("started_at") != started.isoformat(timespec="seconds"):
        return None
    return record


def pytest_sessionstart(session):
    session.config.stash[SESSION] = session


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """An ops check's steps that did not apply are in its report and its summary: pytest's short summary
    at the end lists only failures and errors (pytest.ini's -ra stays for the test suite, and a -r
    given on the command line is kept). Before the terminal reporter reads the option."""
    given = any(arg.startswith(("-r", "--report-chars")) for arg in config.invocation_params.args)
    if ops_check_names(config) and not given:
        config.option.reportchars = "fE"


@pytest.hookimpl(wrapper=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The run's summary last, under the other plugins' sections (failures, pytest-html's path), just
    above pytest's counts; the record was written before (pytest_sessionfinish, then this hook)."""
    yield
    if not ops_check_names(config) or not config.getoption("htmlpath", None) or config.getoption("plan"):
        return
    record = this_runs_record(config)
    terminalreporter.write_sep("=", "opsuite", bold=True)
    if record is None:
        terminalreporter.write_line(f"no record was written for this run (expected {Path(report_path(config)).with_suffix('.json')}): "
                                    "see the errors above", red=True)
        return
    # the session's status now, not the hook's argument: the record's own hook may have failed the run after it
    session = config.stash.get(SESSION, None)
    lines = summary_lines(record, session.exitstatus if session is not None else exitstatus)
    colour = {"OK": "green", "REF": "yellow", "INC": "yellow"}.get(lines[0][:3], "red")
    terminalreporter.write_line(lines[0], **{colour: True, "bold": True})
    for line in lines[1:]:
        terminalreporter.write_line(line)
