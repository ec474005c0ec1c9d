"""Can retention trust the host's clock? Compared with the newest earlier backup of this stack.

Retention measures age against "now": with the clock 45 days ahead it would delete a month of
history in one run. So "now" is checked against the time of the newest earlier set whose own run
trusted its clock (recorded in its manifest): ahead by more than [backup] max_clock_gap_hours, or
behind it at all, and pruning is refused with the reason. A set written while the clock disagreed
says so in its manifest and never becomes the reference, so a clock that stays wrong keeps being
refused. After a real pause in backups, `--accept-clock` (once) says the clock is right.

References: the local sets, the last trusted time kept in [deploy] state_dir (clock_state.py), and
the remote's own sets (a fresh host with an empty folder compares with the remote); the newest of
them counts. Earlier sets that exist while none of them is trusted is a disagreement, never "first
backup": a clock that stayed wrong for a week must not become right by outlasting its references.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from ..errors import CommandFailed
from ..sets import files, manifest
from ..sets.sets import BackupSet

AGREED, FIRST, ACCEPTED, DISAGREED = "agreed", "no earlier set", "accepted", "disagreed"
# A few minutes behind is two runs racing a minute boundary or a small NTP step, not a wrong clock.
BEHIND_MARGIN = timedelta(minutes=10)
# Manifests read looking for a trusted set: more than a month of nightly sets written on a wrong clock.
_MANIFESTS_READ = 40


@dataclass(frozen=True)
class ClockCheck:
    now: datetime
    reference_set: str | None
    reference_time: datetime | None
    verdict: str
    reason: str

    @property
    def trusted(self) -> bool:
        return self.verdict != DISAGREED


def judge(now: datetime, reference: tuple[str, datetime] | None, max_gap: timedelta, accepted: bool,
          earlier_exist: bool = False) -> ClockCheck:
    """The verdict on now against the newest trusted earlier reference (name, time); pure. earlier_exist:
    verified earlier sets were found, though none of them is trusted."""
    if reference is None and earlier_exist:
        problem = ("earlier sets of this stack exist but none was written on a clock that agreed with the "
                   "history, so the clock cannot be confirmed")
        if accepted:
            return ClockCheck(now, None, None, ACCEPTED, f"{problem}; accepted with --accept-clock")
        return ClockCheck(now, None, None, DISAGREED, (
            f"{problem}. Pruning now could delete backups that are not old. Check the clock (timedatectl; "
            "chronyc tracking); if it is right, run the backup once with --accept-clock"))
    if reference is None:
        return ClockCheck(now, None, None, FIRST, "no earlier trusted set of this stack to compare with")
    name, then = reference
    gap = now - then
    if gap < -BEHIND_MARGIN:
        problem = f"the clock is behind: now ({now:%Y-%m-%dT%H:%M}Z) is before the earlier set {name}"
    elif gap > max_gap:
        problem = (f"the clock may be ahead: now ({now:%Y-%m-%dT%H:%M}Z) is {gap.days} days "
                   f"{gap.seconds // 3600} h after the newest earlier set {name}")
    else:
        return ClockCheck(now, name, then, AGREED, f"{gap} after the newest earlier set {name}")
    if accepted:
        return ClockCheck(now, name, then, ACCEPTED, f"{problem}; accepted with --accept-clock")
    return ClockCheck(now, name, then, DISAGREED, (
        f"{problem}. Pruning now could delete backups that are not old. Check the clock (timedatectl; "
        "chronyc tracking). If it is right and backups really paused, run the backup once with --accept-clock "
        f"(or raise [backup] max_clock_gap_hours, now {max_gap.total_seconds() / 3600:.0f})"))


def newest_trusted(box, directory: str, earlier: list[BackupSet],
                   read: Callable[[str], dict] | None = None) -> tuple[str, datetime] | None:
    """The newest verified earlier set whose manifest does not say its clock disagreed (read: a set's
    manifest by set name; the local directory's by default)."""
    read = read or (lambda name: manifest.read(box, f"{directory}/{files.file_name(name, 'manifest')}"))
    verified = sorted((s for s in earlier if s.verified), key=lambda s: s.taken_at, reverse=True)
    for candidate in verified[:_MANIFESTS_READ]:
        try:
            recorded = read(candidate.name)
        except (CommandFailed, ValueError):
            continue
        if recorded.get("clock") != DISAGREED:
            return candidate.name, candidate.taken_at
    return None


def newest(*references: tuple[str, datetime] | None) -> tuple[str, datetime] | None:
    """The latest of several references (local sets, state_dir, the remote's sets); None when none."""
    found = [r for r in references if r is not None]
    return max(found, key=lambda r: r[1]) if found else None
