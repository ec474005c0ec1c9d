"""A stack's status at a glance: what serves and since when, the last deploy, the newest verified set,
the last drill, each duty's last success against its [freshness] limit, and who holds the lock.

`opsuite status` prints it (format_status, or the dict as JSON) and the history page draws the same
dict as its strip. Read-only: the records in reports/, the release ledger and the lock's holder file
are read, nothing is written, no lock taken, no container started. So the sets are known from the
records of the runs that wrote them (a passed run's set was verified before its manifest was
written); the freshness check, which lists the sets themselves, is the proof that they are still there.

Each duty's state: green within its limit; amber past AMBER_FRACTION of it (time to look before the
freshness check goes red); red past it, never done, or its last run failed; "off" when the config turns
it off (offsite) and "none" for a deploy never recorded (nothing to judge).
"""

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from procedures import ledger, lock
from procedures.health import ages
from procedures.load import load_config
from procedures.sets import names

from .charts import bytes_text
from .records import Run, load_runs

AMBER_FRACTION = 0.75  # past three quarters of its limit a duty is amber: a nightly job missed once shows
STATES = ("green", "amber", "red", "off", "none")
BACKUP_CHECK = "backup"


def stack_status(ops_config_path: Path, reports_dir: Path, *, now: datetime | None = None) -> dict:
    """The status of the stack the config names (JSON-ready); raises the config's ConfigError."""
    config = load_config(Path(ops_config_path))
    return {**status_of(config, Path(reports_dir), now=now), "config": str(ops_config_path)}


def status_of(config, reports_dir: Path, *, now: datetime | None = None, runs: list[Run] | None = None) -> dict:
    """The status of a loaded config's stack from reports_dir (or the runs already read from it)."""
    now = now or datetime.now(timezone.utc)
    project = config.stack.project
    if runs is None:
        runs = load_runs(reports_dir)[0] if reports_dir.is_dir() else []
    mine = sorted((r for r in runs if r.project == project), key=lambda r: r.when)
    notes: list[str] = []
    if reports_dir.is_dir() and not os.access(reports_dir, os.R_OK | os.X_OK):
        notes.append(f"{reports_dir} is not readable by this user: its runs are not counted (run as the user "
                     "the checks run as, e.g. sudo opsuite status)")
    releases = _releases(config, notes)
    backup, backup_duty = _backup(mine, config, now)
    offsite_duty = _offsite(mine, config, now)
    drill, drill_duty = _drill(mine, reports_dir, project, config, now)
    last_deploy, deploy_duty = _deploy(releases)
    return {
        "project": project, "environment": config.stack.environment,
        "checked_at": _iso(now), "runs": len(mine),
        "no_runs_yet": not mine and not releases,
        "serving": _serving(releases),
        "last_deploy": last_deploy,
        "backup": backup,
        "drill": drill,
        "duties": [backup_duty, offsite_duty, drill_duty, deploy_duty],
        "lock": _lock(config),
        "amber_at": AMBER_FRACTION,
        "notes": notes,
    }


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(timezone.utc).isoformat(timespec="seconds") if when else None


def _hours(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta / timedelta(hours=1), 4)


def _duty(duty: str, label: str, newest: ages.Newest, limit: timedelta, setting: str,
          failed: str | None = None) -> dict:
    """One duty judged as the freshness check judges it (ages.Newest against its limit), with amber before red."""
    if newest.at is None:
        state, why = "red", f"never: no successful {label.lower()} recorded"
    elif newest.older_than(limit):
        state, why = "red", f"{ages.hours(newest.age)} ago, over the limit of {ages.hours(limit)} ({setting})"
    elif newest.age > limit * AMBER_FRACTION:
        state, why = "amber", (f"{ages.hours(newest.age)} ago, past {AMBER_FRACTION:.0%} of the limit of "
                               f"{ages.hours(limit)} ({setting})")
    else:
        state, why = "green", f"{ages.hours(newest.age)} ago, limit {ages.hours(limit)}"
    if failed:
        state, why = "red", f"{failed}; last success {why}" if newest.at else failed
    return {"duty": duty, "label": label, "state": state, "last_success": _iso(newest.at),
            "age_hours": _hours(newest.age), "limit_hours": _hours(limit), "setting": setting, "text": why}


def _set_time(run: Run) -> datetime:
    """When the set was taken (its name's stamp, what freshness ages), else when its run finished."""
    parsed = names.parse_set_name(run.set_name or "")
    return parsed.taken_at if parsed else run.when


def _last_failed(runs: list[Run], attempts, what: str) -> str | None:
    """The newest attempt's failure in words, when the newest attempt is not a pass."""
    tried = [r for r in runs if attempts(r)]
    if tried and tried[-1].failed:
        last = tried[-1]
        return f"the last {what} ({last.when:%Y-%m-%d %H:%M} UTC, {last.file}) {last.outcome}"
    return None


def _backup_attempt(run: Run) -> bool:
    return run.check == BACKUP_CHECK or (run.took_backup and not run.failed)


def _backup(runs: list[Run], config, now: datetime) -> tuple[dict | None, dict]:
    good = [r for r in runs if r.took_backup and not r.failed and _set_time(r) <= now + ages.FUTURE_MARGIN]
    newest = max(good, key=_set_time, default=None)
    found = ages.Newest(newest.set_name if newest else None, _set_time(newest) if newest else None, now)
    duty = _duty("backup", "Local backup", found, timedelta(hours=config.freshness.backup_max_age_hours),
                 "[freshness] backup_max_age_hours", _last_failed(runs, _backup_attempt, "backup"))
    if newest is None:
        return None, duty
    return {"set": newest.set_name, "taken_at": _iso(found.at), "age_hours": _hours(found.age),
            "size_bytes": newest.set_bytes, "offsite": bool(newest.set_offsite),
            "encrypted": bool(newest.set_offsite and newest.set_encrypted), "by": newest.check,
            "report": newest.report or newest.file}, duty


def _offsite(runs: list[Run], config, now: datetime) -> dict:
    setting = "[freshness] offsite_max_age_hours"
    limit = timedelta(hours=config.freshness.offsite_max_age_hours)
    if not config.offsite.enabled:
        return {"duty": "offsite", "label": "Offsite copy", "state": "off", "last_success": None, "age_hours": None,
                "limit_hours": _hours(limit), "setting": setting,
                "text": "offsite copies are off ([offsite] enabled = false)"}
    good = [r for r in runs if r.took_backup and not r.failed and r.set_offsite
            and _set_time(r) <= now + ages.FUTURE_MARGIN]
    newest = max(good, key=_set_time, default=None)
    found = ages.Newest(newest.set_name if newest else None, _set_time(newest) if newest else None, now)
    return _duty("offsite", "Offsite copy", found, limit, setting, _last_failed(runs, _backup_attempt, "backup"))


def _drill(runs: list[Run], reports_dir: Path, project: str, config, now: datetime) -> tuple[dict | None, dict]:
    # The freshness check's own rule (ages.last_passed_drill), so the two never disagree on which drill counts.
    newest = ages.last_passed_drill(reports_dir / ages.DRILL_CHECK, project, now)
    duty = _duty("drill", "Restore drill", newest, timedelta(days=config.freshness.drill_max_age_days),
                 "[freshness] drill_max_age_days",
                 _last_failed(runs, lambda r: r.check == ages.DRILL_CHECK, "drill"))
    if newest.name is None:
        return None, duty
    run = next((r for r in runs if r.file == f"{ages.DRILL_CHECK}/{newest.name}"), None)
    return {"at": _iso(newest.at), "age_hours": _hours(newest.age),
            "rto_seconds": run.rto_seconds if run else None, "from": run.restored_from if run else None,
            "set": run.set_name if run else None, "signed_off_by": run.signed_off_by if run else None,
            "report": (run.report or run.file) if run else f"{ages.DRILL_CHECK}/{newest.name}"}, duty


def _releases(config, notes: list[str]) -> list[dict]:
    """The stack's release ledger, [] when there is none; unreadable or damaged is a note, not a crash."""
    path = Path(config.deploy.state_dir) / config.stack.project / "releases.jsonl"
    try:
        return [r for r in ledger.releases(config.deploy.state_dir, config.stack.project) if isinstance(r, dict)]
    except OSError as e:
        notes.append(f"release ledger {path} unreadable ({e.strerror or e}): run as the user the checks run as "
                     "(e.g. sudo opsuite status)")
    except ValueError as e:
        notes.append(f"release ledger {path} has a damaged line ({e}): serving TAG and last deploy unknown")
    return []


def _release_keys(entry: dict | None) -> dict | None:
    if entry is None:
        return None
    return {k: entry.get(k) for k in ("action", "tag", "previous_tag", "outcome", "recorded_at", "error", "user")}


def _serving(releases: list[dict]) -> dict | None:
    """The TAG the ledger says serves, and since when; None before the first release. A failed change
    that left the app unknown (its rollback failed, or no release to go back to) says so instead."""
    for entry in reversed(releases):
        outcome = str(entry.get("outcome") or "")
        if outcome == "deployed":
            return {"tag": entry.get("tag"), "since": entry.get("recorded_at"), "by": entry.get("action"),
                    "certain": True}
        if "ROLLBACK FAILED" in outcome or "no previous release" in outcome or entry.get("action") == "rollback":
            return {"tag": None, "since": entry.get("recorded_at"), "by": entry.get("action"), "certain": False,
                    "why": f"the {entry.get('action')} of {entry.get('tag')} {outcome}: the ledger cannot tell "
                           "what serves; run the health check (opsuite health)"}
    return None


def _deploy(releases: list[dict]) -> tuple[dict | None, dict]:
    verdict = ages.last_deploy(releases)  # the freshness check's rule for "no deploy left failed"
    base = {"duty": "deploy", "label": "Deploy", "limit_hours": None,
            "setting": "freshness: no deploy left failed", "age_hours": None}
    if verdict.last_deploy is None:
        return None, {**base, "state": "none", "last_success": None, "text": "no deploy recorded in the ledger"}
    last = verdict.last_deploy
    success = next((r for r in reversed(releases) if r.get("action") == "deploy" and r.get("outcome") == "deployed"),
                   None)
    described = {**_release_keys(last), "later_success": _release_keys(verdict.later_success)}
    if verdict.failed:
        state, text = "red", (f"the deploy of {last.get('tag')} at {_when(last.get('recorded_at'))} {last.get('outcome')}; "
                              "nothing deployed since")
    elif last.get("outcome") != "deployed":
        later = verdict.later_success
        state, text = "green", (f"the deploy of {last.get('tag')} {last.get('outcome')}; {later.get('action')} of "
                                f"{later.get('tag')} deployed since")
    else:
        state, text = "green", f"{last.get('tag')} deployed at {_when(last.get('recorded_at'))}"
    return described, {**base, "state": state, "last_success": success.get("recorded_at") if success else None,
                       "text": text}


def _lock(config) -> dict:
    """Who holds the stack's lock, read from its holder file (never taken here); stale when provably gone."""
    path = lock.lock_path(config.stack.lock_dir, config.stack.project)
    if Path(config.stack.lock_dir).is_dir() and not os.access(config.stack.lock_dir, os.R_OK | os.X_OK):
        return {"held": None, "path": str(path),
                "text": f"unknown: {config.stack.lock_dir} is not readable by this user (run as the user the checks run as)"}
    if not path.is_dir():
        return {"held": False, "path": str(path)}
    holder = lock.read_holder(path)
    if holder is None:
        return {"held": True, "path": str(path), "holder": None, "stale": None,
                "text": "held; its holder record is unreadable (half-written, or not readable by this user)"}
    return {"held": True, "path": str(path), "holder": {**vars(holder), "token": None},
            "stale": holder.gone_because(), "text": holder.describe()}


def _size(value) -> str:
    return bytes_text(value) if isinstance(value, (int, float)) else "size unknown"


def _yes(flag) -> str:
    return "yes" if flag else "no"


def format_status(status: dict) -> str:
    """The status as a few aligned lines for a terminal."""
    rows = []
    serving = status.get("serving")
    if serving and serving.get("certain"):
        rows.append(("serving", "", f"{serving['tag']} since {_when(serving['since'])} ({serving['by']})"))
    elif serving:
        rows.append(("serving", "", f"unknown: {serving['why']}"))
    else:
        rows.append(("serving", "", "no release recorded in the ledger"))
    last = status.get("last_deploy")
    rows.append(("last deploy", "", f"{last['tag']}: {last['outcome']} at {_when(last['recorded_at'])}"
                 if last else "none recorded"))
    backup = status.get("backup")
    rows.append(("newest set", "", f"{backup['set']}, {_age(backup['age_hours'])} old, {_size(backup['size_bytes'])}, "
                 f"offsite {_yes(backup['offsite'])}, encrypted {_yes(backup['encrypted'])}"
                 if backup else "none recorded"))
    drill = status.get("drill")
    rows.append(("last drill", "", (f"{_age(drill['age_hours'])} ago, RTO "
                                    f"{'%.1f s' % drill['rto_seconds'] if drill['rto_seconds'] is not None else 'unknown'}"
                                    f", from {drill['from'] or 'unknown'}") if drill else "none recorded"))
    for duty in status["duties"]:
        rows.append((duty["duty"], duty["state"].upper(), duty["text"]))
    held = status["lock"]
    lock_text = "free" if held["held"] is False else (held.get("text") or "held") + (
        f" (STALE: {held['stale']}; break it with --break-stale-lock)" if held.get("stale") else "")
    rows.append(("lock", "", lock_text))
    width = max(len(name) for name, _, _ in rows)
    state_width = max(len(state) for _, state, _ in rows)
    head = f"{status['project']} ({status['environment']}), {_when(status['checked_at'])}"
    if status.get("no_runs_yet"):
        head += ": no runs yet (no record in reports/, nothing in the release ledger)"
    lines = [head] + [f"  {name:<{width}}  " + (f"{state:<{state_width}}  {text}" if state else text)
                      for name, state, text in rows]
    lines += [f"  note: {note}" for note in status.get("notes", [])]
    return "\n".join(lines)


def _when(text: str | None) -> str:
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        return str(text)


def _age(age_hours: float | None) -> str:
    return "unknown" if age_hours is None else ages.hours(timedelta(hours=age_hours))


def to_json(status: dict) -> str:
    return json.dumps(status, indent=2, sort_keys=True)
