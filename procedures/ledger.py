"""The release ledger (one JSON line per deploy or rollback) and the audit log beside it: redacted,
0600 files in a 0700 directory."""

import json
import socket
from datetime import datetime, timezone
from pathlib import Path

from . import stack_state
from .operator import operator_name
from .private_files import open_private
from .redact import redact, redact_data


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def append_release(state_dir: str, project: str, record: dict) -> dict:
    """Append a release record (who, where, when added here) and return it as written, redacted."""
    record = redact_data({"recorded_at": now(), "user": operator_name(), "host": socket.gethostname(), **record})
    with open_private(stack_state.directory(state_dir, project) / "releases.jsonl", append=True) as ledger:
        ledger.write(json.dumps(record, sort_keys=True) + "\n")
    return record


def releases(state_dir: str, project: str) -> list[dict]:
    path = Path(state_dir) / project / "releases.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def previous_release(state_dir: str, project: str, serving_tag: str | None) -> str | None:
    """The newest successfully deployed TAG other than the one serving now (with None: what served last)."""
    for record in reversed(releases(state_dir, project)):
        if record.get("outcome") == "deployed" and record.get("tag") != serving_tag:
            return record["tag"]
    return None


def audit(state_dir: str, project: str, message: str) -> None:
    """Append one line (when, who@where, what) to the audit log, redacted."""
    line = redact(f"{now()} {operator_name()}@{socket.gethostname()} {message}".replace("\n", " "))
    with open_private(stack_state.directory(state_dir, project) / "audit.log", append=True) as log:
        log.write(line + "\n")
