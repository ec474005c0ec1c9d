"""Records as runbook_plugin/record.py writes them (record_version 2), for tests of the history."""

import json
from datetime import datetime
from pathlib import Path

SUMMARY = {"outcome_text": None, "tag": None, "revision": None, "backup_set": None, "backup_seconds": None,
           "drill": None, "failure": None, "actions_required": [], "signed_off_by": None, "failed_requests": None}


def record(check: str, when: datetime, outcome: str = "passed", project: str | None = "shop",
           duration: float = 60.0, step_seconds: tuple[float, ...] = (), **summary) -> dict:
    """A version 2 record of one run; summary fields as keyword arguments; step_seconds: the steps' times
    (record.py writes each step's `seconds`), none by default."""
    steps = [{"step": f"step {i}: step {i}", "name": f"step{i}", "outcome": "passed", "when": "call",
              "seconds": seconds, "blocked_by": None, "error": None} for i, seconds in enumerate(step_seconds, 1)]
    return {"record_version": 2, "check": check, "project": project, "outcome": outcome, "tag": None,
            "operator": "ops", "host": "vps", "started_at": when.isoformat(timespec="seconds"),
            "finished_at": when.isoformat(timespec="seconds"), "duration_seconds": duration,
            "steps": steps, "issues_found": [], "report": f"/srv/reports/{check}/{stamp(when)}.html",
            "steps_defined": 1, "steps_run": 1, "complete": True, "steps_not_run": [],
            "summary": {**SUMMARY, "outcome_text": f"{check} {outcome}", **summary}}


def backup_set(dump_bytes: int, offsite_bytes: int | None = None) -> dict:
    return {"name": "shop-prod-20261101", "size_bytes": dump_bytes + 100, "dump_bytes": dump_bytes,
            "sha256": "0" * 64, "offsite": offsite_bytes is not None, "encrypted": True,
            "offsite_bytes": offsite_bytes}


def stamp(when: datetime) -> str:
    return when.strftime("%Y%m%dT%H%M%SZ")


def write_run(reports: Path, document: dict | str, name: str | None = None, with_report: bool = True) -> Path:
    """reports/<check>/<stamp>.json (and a stand-in .html report unless with_report is False)."""
    if isinstance(document, dict):
        folder = reports / document["check"]
        name = name or stamp(datetime.fromisoformat(document["started_at"]))
        text = json.dumps(document)
    else:
        folder, text = reports / Path(name).parent, document
        name = Path(name).name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(text)
    if with_report:
        path.with_suffix(".html").write_text(f"<html><body>report {name}</body></html>")
    return path
