"""One JSON record read into a Run for the history, or refused with the reason the page shows.

The record contract is in runbook_plugin/record.py (record_version 2 and its "summary"). Records are
read defensively: the keys every run needs must be there with their types; a summary field that is
absent reads as not measured, one that is present with the wrong type makes the record damaged. A run
whose config did not load has `project: null`: it is a run (failed, listed), of no stack.
"""

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from procedures.health.completeness import incomplete_reason

RECORD_VERSION = 2
OUTCOMES = ("passed", "failed", "incomplete")


class NotARun(ValueError):
    """A record the history skips; the message says why, in words the page shows."""


@dataclass(frozen=True)
class Run:
    """What the history shows of one run: a row of the table and its points on the charts."""

    file: str  # the record, relative to reports/ (e.g. backup/20261201T020000Z.json)
    report: str | None  # the HTML report relative to reports/, None when it is not on disk
    check: str
    project: str | None  # None: the run's config did not load, so it is of no stack
    outcome: str
    started_at: datetime  # UTC
    duration_seconds: float
    tag: str | None  # "1.0.0 → 1.1.0" for a change of TAG, else the --tag given, else None
    outcome_text: str | None
    dump_bytes: int | None  # of a backup this run took (a drill's restored set is not plotted)
    backup_seconds: float | None
    offsite_bytes: int | None
    rto_seconds: float | None
    failed_requests: int | None
    incomplete: str | None = None  # why not every step ran ("incomplete: 0 of 11 steps ran"), else None
    finished_at: datetime | None = None
    steps_seconds: float | None = None  # the steps' own times added up, as the report's step table lists them
    set_name: str | None = None  # summary.backup_set: the set this run took (a backup) or restored (a drill)
    set_bytes: int | None = None
    set_offsite: bool | None = None
    set_encrypted: bool | None = None
    restored_from: str | None = None  # a drill's: "local" or "offsite"
    signed_off_by: str | None = None
    signed_off_at: str | None = None

    @property
    def failed(self) -> bool:
        return self.outcome != "passed"

    @property
    def took_backup(self) -> bool:
        """This run wrote a backup set (backup, a deploy's or adoption's backup step), not restored one."""
        return self.backup_seconds is not None and self.set_name is not None

    @property
    def seconds(self) -> float:
        """How long the run took as its report's step table adds it up (the steps' times); a run where no
        step ran (its config did not load before the first) has only its start-to-finish time."""
        return self.steps_seconds if self.steps_seconds is not None else self.duration_seconds

    @property
    def when(self) -> datetime:
        return self.finished_at or self.started_at


def load_runs(reports: Path) -> tuple[list[Run], list[tuple[str, str]]]:
    """Every record reports/*/*.json as a Run, and (file, reason) for each one skipped."""
    runs, skipped = [], []
    for path in sorted(reports.glob("*/*.json")):
        name = path.relative_to(reports).as_posix()
        html_report = path.with_suffix(".html")
        try:
            text = path.read_text(encoding="utf-8")
            runs.append(parse_record(name, text, html_report.relative_to(reports).as_posix()
                                     if html_report.is_file() else None))
        except NotARun as e:
            skipped.append((name, str(e)))
        except UnicodeDecodeError as e:
            skipped.append((name, f"damaged: not UTF-8 text ({e.reason} at byte {e.start})"))
        except OSError as e:
            skipped.append((name, f"unreadable: {e.strerror or e}"))
    return runs, skipped


def parse_record(file: str, text: str, report: str | None) -> Run:
    """The Run a record's text describes; refuses (NotARun) text that is not JSON, a record from an
    older version (no record_version, or below 2), and one with a missing key or a wrong type."""
    try:
        record = json.loads(text)
    except ValueError as e:
        raise NotARun(f"damaged: not JSON ({e})") from None
    if not isinstance(record, dict):
        raise NotARun(f"damaged: a JSON {type(record).__name__}, not an object")
    if "record_version" not in record:
        raise NotARun("from an older version: no record_version (written before the history existed)")
    version = _field(record, "record_version", int)
    if version < RECORD_VERSION:
        raise NotARun(f"from an older version: record_version {version}, the history reads {RECORD_VERSION}")
    outcome = _field(record, "outcome", str)
    if outcome not in OUTCOMES:
        raise NotARun(f"damaged: outcome is {outcome!r}, not one of {', '.join(OUTCOMES)}")
    incomplete = incomplete_reason(record)
    if incomplete and outcome == "passed":  # an older record of a run where no step ran
        outcome = "incomplete"
    summary = _field(record, "summary", dict)
    backup_seconds = _number(summary, "summary.backup_seconds", "backup_seconds")
    backup_set = _optional(summary, "summary.backup_set", "backup_set", dict)
    drill = _optional(summary, "summary.drill", "drill", dict)
    took_backup = backup_set is not None and backup_seconds is not None
    if "project" not in record:
        raise NotARun("damaged: no project")
    finished = _optional(record, "finished_at", "finished_at", str)
    return Run(
        file=file, report=report, check=_field(record, "check", str),
        project=_optional(record, "project", "project", str),
        outcome=outcome, started_at=_utc(_field(record, "started_at", str)),
        duration_seconds=_required_number(record, "duration_seconds"),
        tag=_tag(summary, _optional(record, "tag", "tag", str)),
        outcome_text=_optional(summary, "summary.outcome_text", "outcome_text", str),
        dump_bytes=_required_number(backup_set, "summary.backup_set.dump_bytes", int) if took_backup else None,
        backup_seconds=backup_seconds,
        offsite_bytes=_number(backup_set, "summary.backup_set.offsite_bytes", "offsite_bytes", int)
        if took_backup else None,
        rto_seconds=_rto(drill, outcome),
        failed_requests=_number(summary, "summary.failed_requests", "failed_requests", int),
        incomplete=incomplete,
        finished_at=_utc(finished, "finished_at") if finished else None,
        steps_seconds=_steps_seconds(record),
        set_name=_optional(backup_set, "summary.backup_set.name", "name", str) if backup_set else None,
        set_bytes=_number(backup_set, "summary.backup_set.size_bytes", "size_bytes", int) if backup_set else None,
        set_offsite=_flag(backup_set, "summary.backup_set.offsite", "offsite"),
        set_encrypted=_flag(backup_set, "summary.backup_set.encrypted", "encrypted"),
        restored_from=_restored_from(record, summary) if drill is not None or record.get("backup_source") else None,
        signed_off_by=_optional(summary, "summary.signed_off_by", "signed_off_by", str),
        signed_off_at=_optional(summary, "summary.signed_off_at", "signed_off_at", str),
    )


def _steps_seconds(record: dict) -> float | None:
    """The steps' times added up, None when no step has one (no step ran). Tolerant: a step without a
    number adds nothing, as the step table shows it without a time."""
    steps = record.get("steps")
    if not isinstance(steps, list):
        return None
    times = [s["seconds"] for s in steps if isinstance(s, dict) and isinstance(s.get("seconds"), (int, float))
             and not isinstance(s.get("seconds"), bool) and math.isfinite(s["seconds"]) and s["seconds"] >= 0]
    return round(sum(times), 3) if times else None


def _flag(mapping: dict | None, name: str, key: str) -> bool | None:
    if mapping is None or mapping.get(key) is None:
        return None
    if not isinstance(mapping[key], bool):
        raise NotARun(f"damaged: {name} is a JSON {_json_type(mapping[key])}, not a boolean")
    return mapping[key]


def _rto(drill: dict | None, outcome: str) -> float | None:
    """A passed drill measured its RTO; a failed one may have stopped before it had one, and is still a run."""
    if drill is None:
        return None
    if outcome == "passed":
        return _required_number(drill, "summary.drill.rto_seconds")
    return _number(drill, "summary.drill.rto_seconds", "rto_seconds")


def _restored_from(record: dict, summary: dict) -> str | None:
    """Where a drill's set came from: summary.restored_from when the record has it (a word, or an object
    with `where`), else the drill's own backup_source ("remote" read as "offsite")."""
    given = summary.get("restored_from")
    if isinstance(given, dict):
        given = given.get("where") or given.get("source")
    if not isinstance(given, str):
        given = record.get("backup_source")
    if not isinstance(given, str) or not given:
        return None
    return "offsite" if given in ("remote", "offsite") or given.startswith("offsite") else given


def _type_name(kind) -> str:
    return {int: "an integer", str: "a string", dict: "an object", float: "a number"}[kind]


def _check_type(name: str, value, kind):
    is_number = kind is float and isinstance(value, (int, float))
    if isinstance(value, bool) or not (is_number or isinstance(value, kind)):
        raise NotARun(f"damaged: {name} is a JSON {_json_type(value)}, not {_type_name(kind)}")
    return value


def _json_type(value) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__)


def _field(record: dict, key: str, kind):
    if key not in record:
        raise NotARun(f"damaged: no {key}")
    return _check_type(key, record[key], kind)


def _optional(mapping: dict, name: str, key: str, kind):
    """mapping[key] of that kind, or None when it is absent or null."""
    value = mapping.get(key)
    return None if value is None else _check_type(name, value, kind)


def _number(mapping: dict, name: str, key: str, kind=float):
    value = _optional(mapping, name, key, kind)
    if value is not None and (not math.isfinite(value) or value < 0):
        raise NotARun(f"damaged: {name} is {value}, not a measurement (a finite number >= 0)")
    return value


def _required_number(mapping: dict, name: str, kind=float):
    key = name.rsplit(".", 1)[-1]
    if mapping.get(key) is None:
        raise NotARun(f"damaged: no {name}")
    return _number(mapping, name, key, kind)


def _utc(text: str, name: str = "started_at") -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise NotARun(f"damaged: {name} {text[:40]!r} is not an ISO time") from None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def _tag(summary: dict, given: str | None) -> str | None:
    change = _optional(summary, "summary.tag", "tag", dict)
    if change is None:
        return given
    to = _optional(change, "summary.tag.to", "to", str)
    before = _optional(change, "summary.tag.from", "from", str)
    if to is None:
        return before or given
    return f"{before} \u2192 {to}" if before and before != to else to
