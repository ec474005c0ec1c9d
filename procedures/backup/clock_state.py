"""The last time a backup of each stack ran on a trusted clock, kept in [deploy] state_dir.

A reference for the clock check that no listing can hide and no pruning can delete: the backups
folder may be emptied or replaced, the remote may be unreachable, this file still says when the
clock last agreed (clock.py). One small JSON file per project, 0600 in a 0700 directory.
"""

from datetime import datetime

from .. import stack_state
from ..sets.names import Identity

FILE = "backup-clock.json"


def _key(identity: Identity) -> str:
    return f"{identity.environment}/{identity.database}"


def last_trusted(state_dir: str, identity: Identity) -> tuple[str, datetime] | None:
    """(set name, time) of the newest set written on a trusted clock, or None when none was recorded."""
    recorded = stack_state.read_json(state_dir, identity.project, FILE).get(_key(identity))
    if not recorded:
        return None
    return recorded["set"], datetime.fromisoformat(recorded["at"])


def record(state_dir: str, identity: Identity, set_name: str, taken_at: datetime) -> None:
    """Remember set_name (taken at taken_at, on a trusted clock); never moves the time backwards."""
    recorded = stack_state.read_json(state_dir, identity.project, FILE)
    earlier = recorded.get(_key(identity))
    if earlier and datetime.fromisoformat(earlier["at"]) >= taken_at:
        return
    recorded[_key(identity)] = {"set": set_name, "at": taken_at.isoformat(timespec="seconds")}
    stack_state.write_json(state_dir, identity.project, FILE, recorded)
