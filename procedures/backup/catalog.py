"""The sets each remote folder held after this host's last pruning, kept in [deploy] state_dir.

A listing that hides a set only the remote holds (older than the local window) cannot be caught
by comparing it with the local folder. The catalog can: a set it remembers that the policy would
still keep today, and that the listing lacks, means the listing is partial (or the set was
deleted outside retention) and nothing is pruned. Sets another host with the same identity
deleted by the same policy are not missed: the policy deletes them here too.

A host with no record (a fresh host, a new state_dir) has nothing to compare a listing with: its
first run records what the remote holds and defers remote pruning to the next run (`first_sight`).

Beside it, each remote file's fingerprint (size and the backend's own hash, remote_hashes.py):
recorded when the copy was checked against the local file, or as first seen, and compared with
every later listing.
"""

from datetime import datetime

from .. import stack_state
from ..sets import names
from ..sets.names import Identity
from ..sets.sets import BackupSet
from . import retention
from .remote_hashes import Fingerprint

FILE = "backup-catalog.json"
HASHES = "backup-remote-hashes.json"


def _key(identity: Identity, where: str) -> str:
    return f"{identity.environment}/{identity.database} {where}"


def remembered(state_dir: str, identity: Identity, where: str) -> set[str]:
    """The sets of identity that `where` held after the last pruning here (none when never recorded)."""
    return set(stack_state.read_json(state_dir, identity.project, FILE).get(_key(identity, where), []))


def recorded(state_dir: str, identity: Identity, where: str) -> set[str] | None:
    """The sets `where` held after the last pruning here; None when this host never recorded it."""
    found = stack_state.read_json(state_dir, identity.project, FILE).get(_key(identity, where))
    return None if found is None else set(found)


def first_sight(listed: set[str], known: set[str] | None, checked: set[str]) -> str | None:
    """Why remote pruning waits for the next run: this host never recorded the remote, and it holds
    sets this run did not upload or check; None when pruning may go on."""
    unknown = sorted(listed - checked)
    if known is not None or not unknown:
        return None
    return (f"first run on this host with sets already on the remote ({len(unknown)} this host never saw, "
            f"e.g. {unknown[0]}) and no catalog of them in [deploy] state_dir: their listing cannot be "
            "compared with anything yet. Recorded now; the next run prunes when its listing again shows "
            "every set the policy keeps")


def fingerprints(state_dir: str, identity: Identity, where: str) -> dict[str, Fingerprint]:
    """Each remote file's recorded fingerprint (none while never recorded)."""
    found = stack_state.read_json(state_dir, identity.project, HASHES).get(_key(identity, where), {})
    return {name: Fingerprint.from_json(v) for name, v in found.items()}


def record_fingerprints(state_dir: str, identity: Identity, where: str, prints: dict[str, Fingerprint]) -> None:
    """Replace the recorded fingerprints of `where` with prints."""
    recorded_all = stack_state.read_json(state_dir, identity.project, HASHES)
    recorded_all[_key(identity, where)] = {n: p.to_json() for n, p in sorted(prints.items())}
    stack_state.write_json(state_dir, identity.project, HASHES, recorded_all)


def record(state_dir: str, identity: Identity, where: str, sets: set[str]) -> None:
    catalog = stack_state.read_json(state_dir, identity.project, FILE)
    catalog[_key(identity, where)] = sorted(sets)
    stack_state.write_json(state_dir, identity.project, FILE, catalog)


def missing_but_kept(listed_sets: list[BackupSet], remembered_names: set[str],
                     policy: retention.RetentionPolicy, now: datetime, min_sets: int) -> list[str]:
    """Remembered sets absent from the listing that the policy would keep today if they were there."""
    listed = {s.name for s in listed_sets}
    absent = [BackupSet(n, p.taken_at, True) for n in sorted(remembered_names - listed)
              if (p := names.parse_set_name(n)) is not None]
    if not absent:
        return []
    decision = retention.decide([*listed_sets, *absent], policy, now, min_sets)
    return sorted({v.set.name for v in decision.keep} & {s.name for s in absent})
