"""How old the evidence of recoverability is: the newest backup set, the last passed drill and the
last deploy, judged against the [freshness] limits. Pure: listings, records and "now" come in."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..sets import names
from ..sets.sets import FUTURE_MARGIN, to_sets, trusted_sets
from .completeness import incomplete_reason
DRILL_CHECK = "restore_drill"


@dataclass(frozen=True)
class Newest:
    """The newest trusted thing found (None when there is none), and its age at `now`."""
    name: str | None
    at: datetime | None
    now: datetime
    ignored: tuple[str, ...] = ()  # what was left out, and why

    @property
    def age(self) -> timedelta | None:
        return None if self.at is None else self.now - self.at

    def older_than(self, limit: timedelta) -> bool:
        """True when there is none, or it is older than limit."""
        return self.age is None or self.age > limit

    def describe(self) -> dict:
        return {"newest": self.name, "at": self.at.isoformat(timespec="seconds") if self.at else None,
                "age_hours": round(self.age / timedelta(hours=1), 4) if self.age is not None else None,
                "left out": list(self.ignored)}


def hours(delta: timedelta) -> str:
    """An age in plain words: '27.5 h', '0.0012 h' for the tiny limits tests use, '40.2 days' past a week."""
    value = delta / timedelta(hours=1)
    if value >= 7 * 24:
        return f"{value / 24:.1f} days"
    return f"{value:.1f} h" if value >= 1 else f"{value:.4f} h"


def newest_set(filenames: list[str], identity: names.Identity, now: datetime) -> Newest:
    """identity's newest verified set (dump and manifest present) among file names, not stamped in the future."""
    sets, _ = to_sets(filenames, identity)
    trusted, future = trusted_sets(filenames, identity, now)
    ignored = [f"{s.name}: no manifest (never verified, or still being written)" for s in sets if not s.verified]
    ignored += [f"{s.name}: stamped in the future (the clock ran ahead when it was written)"
                for s in future if s.verified]
    best = trusted[0] if trusted else None
    return Newest(best.name if best else None, best.taken_at if best else None, now, tuple(sorted(ignored)))


def _parse_time(text) -> datetime | None:
    try:
        when = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def drill_project(record: dict) -> str | None:
    """Which stack a drill record is of: its `project` field, else the project its backup set's name
    carries (<project>.<env>_<db>_<stamp>); None when neither says (a record that cannot be attributed)."""
    if record.get("project"):
        return record["project"]
    parsed = names.parse_set_name(str(record.get("backup_set") or ""))
    return parsed.identity.project if parsed else None


def last_passed_drill(records_dir: Path, project: str, now: datetime) -> Newest:
    """The newest passed restore-drill record of project in records_dir (reports/restore_drill/*.json);
    damaged records, incomplete runs (not every step ran), other stacks' and records that name no stack
    are left out, saying which."""
    best: tuple[datetime, str] | None = None
    ignored = []
    for path in sorted(records_dir.glob("*.json")) if records_dir.is_dir() else []:
        try:
            record = json.loads(path.read_text())
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as e:
            ignored.append(f"{path.name}: damaged ({e})")
            continue
        incomplete = incomplete_reason(record)
        if record.get("check") != DRILL_CHECK or (record.get("outcome") != "passed" and not incomplete):
            continue
        owner = drill_project(record)
        if owner is None:
            ignored.append(f"{path.name}: names no stack (no project, no backup set of a project)")
            continue
        if owner != project:
            continue
        if incomplete:
            ignored.append(f"{path.name}: {incomplete}, not a pass")
            continue
        finished = _parse_time(record.get("finished_at") or record.get("started_at"))
        if finished is None or finished > now + FUTURE_MARGIN:
            ignored.append(f"{path.name}: no finish time, or one in the future")
            continue
        if best is None or finished > best[0]:
            best = (finished, path.name)
    return Newest(best[1] if best else None, best[0] if best else None, now, tuple(ignored))


@dataclass(frozen=True)
class DeployVerdict:
    failed: dict | None  # the last deploy's ledger record when it failed and nothing deployed after it
    last_deploy: dict | None
    later_success: dict | None


def last_deploy(releases: list[dict]) -> DeployVerdict:
    """The last deploy in the ledger (oldest line first) and, when it failed, the first later record of
    any action (deploy, rollback, install, adopt) that deployed; failed is set only when there is none."""
    deploys = [i for i, r in enumerate(releases) if r.get("action") == "deploy"]
    if not deploys:
        return DeployVerdict(None, None, None)
    last = releases[deploys[-1]]
    if last.get("outcome") == "deployed":
        return DeployVerdict(None, last, None)
    later = next((r for r in releases[deploys[-1] + 1:] if r.get("outcome") == "deployed"), None)
    return DeployVerdict(None if later else last, last, later)
