"""One JSON record read into a Run for the history, or refused with the reason the page shows.

The record contract is in runbook_plugin/record.py (record_version 2 and its "summary"). Records are
read defensively: the keys every run needs must be there with their types; a summary field that is
absent reads as not measured, one that is present with the wrong type makes the record damaged.
"""

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone

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
    project: str
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

    @property
    def failed(self) -> bool:
        return self.outcome != "passed"


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
    return Run(
        file=file, report=report, check=_field(record, "check", str), project=_field(record, "project", str),
        outcome=outcome, started_at=_utc(_field(record, "started_at", str)),
        duration_seconds=_required_number(record, "duration_seconds"),
        tag=_tag(summary, _optional(record, "tag", "tag", str)),
        outcome_text=_optional(summary, "summary.outcome_text", "outcome_text", str),
        dump_bytes=_required_number(backup_set, "summary.backup_set.dump_bytes", int) if took_backup else None,
        backup_seconds=backup_seconds,
        offsite_bytes=_number(backup_set, "summary.backup_set.offsite_bytes", "offsite_bytes", int)
        if took_backup else None,
        rto_seconds=_required_number(drill, "summary.drill.rto_seconds") if drill is not None else None,
        failed_requests=_number(summary, "summary.failed_requests", "failed_requests", int),
        incomplete=incomplete,
    )


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


def _utc(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise NotARun(f"damaged: started_at {text[:40]!r} is not an ISO time") from None
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
