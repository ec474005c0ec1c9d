"""The sets each remote folder held after this host's last pruning, kept in [deploy] state_dir.

A listing that hides a set only the remote holds (older than the local window) cannot be caught
by comparing it with the local folder. The catalog can: a set it remembers that the policy would
still keep today, and that the listing lacks, means the listing is partial (or the set was
deleted outside retention) and nothing is pruned. Sets another host with the same identity
deleted by the same policy are not missed: the policy deletes them here too.
"""

from datetime import datetime

from .. import stack_state
from . import names, retention
from .names import Identity

FILE = "backup-catalog.json"


def _key(identity: Identity, where: str) -> str:
    return f"{identity.environment}/{identity.database} {where}"


def remembered(state_dir: str, identity: Identity, where: str) -> set[str]:
    """The sets of identity that `where` held after the last pruning here (none when never recorded)."""
    return set(stack_state.read_json(state_dir, identity.project, FILE).get(_key(identity, where), []))


def record(state_dir: str, identity: Identity, where: str, sets: set[str]) -> None:
    catalog = stack_state.read_json(state_dir, identity.project, FILE)
    catalog[_key(identity, where)] = sorted(sets)
    stack_state.write_json(state_dir, identity.project, FILE, catalog)


def missing_but_kept(listed_sets: list[retention.BackupSet], remembered_names: set[str],
                     policy: retention.RetentionPolicy, now: datetime, min_sets: int) -> list[str]:
    """Remembered sets absent from the listing that the policy would keep today if they were there."""
    listed = {s.name for s in listed_sets}
    absent = [retention.BackupSet(n, p.taken_at, True) for n in sorted(remembered_names - listed)
              if (p := names.parse_set_name(n)) is not None]
    if not absent:
        return []
    decision = retention.decide([*listed_sets, *absent], policy, now, min_sets)
    return sorted({v.set.name for v in decision.keep} & {s.name for s in absent})
