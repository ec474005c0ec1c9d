"""The release ledger (one JSON line per deploy or rollback) and the audit log beside it."""

import getpass
import json
import socket
from datetime import datetime, timezone
from pathlib import Path


def _dir(state_dir: str, project: str) -> Path:
    path = Path(state_dir) / project
    path.mkdir(parents=True, exist_ok=True)
    return path


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def append_release(state_dir: str, project: str, record: dict) -> dict:
    """Append a release record (who, where, when added here) and return it."""
    record = {"recorded_at": now(), "user": getpass.getuser(), "host": socket.gethostname(), **record}
    with (_dir(state_dir, project) / "releases.jsonl").open("a") as ledger:
        ledger.write(json.dumps(record, sort_keys=True, default=str) + "\n")
    return record


def releases(state_dir: str, project: str) -> list[dict]:
    path = Path(state_dir) / project / "releases.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def previous_release(state_dir: str, project: str, serving_tag: str | None) -> str | None:
    """The newest successfully deployed TAG other than the one serving now."""
    for record in reversed(releases(state_dir, project)):
        if record.get("outcome") == "deployed" and record.get("tag") != serving_tag:
            return record["tag"]
    return None


def audit(state_dir: str, project: str, message: str) -> None:
    with (_dir(state_dir, project) / "audit.log").open("a") as log:
        log.write(f"{now()} {getpass.getuser()}@{socket.gethostname()} {message}\n")
