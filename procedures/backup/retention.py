"""Which backup sets to keep: a pure decision over names and times, refusing to delete everything.

Kept: every set within keep_days, any set dated after now, the newest verified set not dated
after now whatever its age, and the newest verified set of each of the latest `daily` UTC days,
`weekly` ISO weeks, `fortnightly` half-months (the 1st-14th and the 15th-end, seed 001's
FORTNIGHT_DAYS=1,15) and `monthly` months that have one. Unverified sets keep only themselves.
Then the minimum-redundancy floor: fewer than `min_sets` verified sets kept, and the newest
verified ones the rules would delete are kept too (Barman's minimum_redundancy).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from ..errors import ConfigError, UnsafeOperation
from ..sets.sets import BackupSet

LOCAL_KEEP_RANGE = (14, 30)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long to keep backups and how many daily, weekly and monthly tier picks to keep beyond that."""

    keep_days: int
    daily: int = 0
    weekly: int = 0
    fortnightly: int = 0
    monthly: int = 0

    def tiers(self) -> tuple[tuple[str, int], ...]:
        return (("daily", self.daily), ("weekly", self.weekly), ("fortnightly", self.fortnightly),
                ("monthly", self.monthly))

    def validate(self, section: str = "retention") -> "RetentionPolicy":
        """Return the policy unchanged; refuses keep_days below 1 or negative tiers with a ConfigError."""
        if self.keep_days < 1:
            raise ConfigError(f"[{section}] keep_days = {self.keep_days}: must be at least 1 (default 30)")
        for name, value in self.tiers():
            if value < 0:
                raise ConfigError(f"[{section}] {name} = {value}: tiers count periods and must be 0 or more")
        return self

    def describe(self) -> str:
        """Summarise the policy in one line for reports."""
        tiers = [f"{n} {name}" for name, n in self.tiers() if n]
        return f"keep {self.keep_days} days" + (f" + tiers: {', '.join(tiers)}" if tiers else "")


def local_policy(keep_days: int = 14, *, daily: int = 0, weekly: int = 0, fortnightly: int = 0,
                 monthly: int = 0) -> RetentionPolicy:
    """Build the local policy; refuses keep_days outside 14..30 (default 14) and negative tiers."""
    low, high = LOCAL_KEEP_RANGE
    if not low <= keep_days <= high:
        raise ConfigError(f"[backup] local_keep_days = {keep_days}: keep {low} to {high} days locally (default 14)")
    return RetentionPolicy(keep_days, daily, weekly, fortnightly, monthly).validate("backup")


def remote_policy(keep_days: int = 30, *, daily: int = 0, weekly: int = 0, fortnightly: int = 0,
                  monthly: int = 0) -> RetentionPolicy:
    """Build the offsite policy; refuses keep_days below 1 (default 30) and negative tiers."""
    return RetentionPolicy(keep_days, daily, weekly, fortnightly, monthly).validate("offsite")


@dataclass(frozen=True)
class Kept:
    """A set retention keeps, with the reason a person can read."""

    set: BackupSet
    reason: str


@dataclass(frozen=True)
class Deleted:
    """A set retention would delete, with the reason a person can read."""

    set: BackupSet
    reason: str


Verdict = Kept | Deleted


@dataclass(frozen=True)
class RetentionDecision:
    """The outcome of `decide`: kept and deleted sets, each newest first."""

    keep: tuple[Kept, ...]
    delete: tuple[Deleted, ...]


def _utc(moment: datetime) -> datetime:
    """Convert an aware time to UTC; refuses naive times, which can't be compared or bucketed safely."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} is naive: retention needs timezone-aware times")
    return moment.astimezone(timezone.utc)


def _stamp(moment: datetime) -> str:
    """Format a time as UTC ISO 8601 with a Z suffix."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(moment: datetime) -> str:
    """Name the UTC day of a time, e.g. 2026-11-24."""
    return _utc(moment).strftime("%Y-%m-%d")


def _iso_week(moment: datetime) -> str:
    """Name the ISO week of a time in UTC, e.g. 2026-W48."""
    year, week, _ = _utc(moment).isocalendar()
    return f"{year}-W{week:02d}"


def _half_month(moment: datetime) -> str:
    """Name the UTC half-month of a time: 2026-11a (1st-14th) or 2026-11b (15th-end)."""
    utc = _utc(moment)
    return utc.strftime("%Y-%m") + ("a" if utc.day < 15 else "b")


def _month(moment: datetime) -> str:
    """Name the UTC month of a time, e.g. 2026-11."""
    return _utc(moment).strftime("%Y-%m")


def _newest_first(sets: list[BackupSet]) -> list[BackupSet]:
    """Sort sets newest first, by name on equal times so the order never depends on input order."""
    return sorted(sets, key=lambda s: (_utc(s.taken_at), s.name), reverse=True)


def _newest_per_period(verified: list[BackupSet], count: int,
                       period_of: Callable[[datetime], str]) -> list[tuple[BackupSet, str]]:
    """Pick the newest set of each of the `count` most recent periods; expects verified sets newest first."""
    picks: list[tuple[BackupSet, str]] = []
    seen: set[str] = set()
    for backup in verified:
        period = period_of(backup.taken_at)
        if period in seen:
            continue
        if len(seen) == count:
            break
        seen.add(period)
        picks.append((backup, period))
    return picks


def tier_picks(sets: list[BackupSet], policy: RetentionPolicy, now: datetime) -> dict[BackupSet, str]:
    """Map each daily, weekly, fortnightly and monthly tier pick to its reason; ignores unverified and
    future-dated sets."""
    # Future-dated sets are kept anyway; letting them fill a tier would push a real period out.
    verified = [s for s in _newest_first(sets) if s.verified and _utc(s.taken_at) <= _utc(now)]
    picks: dict[BackupSet, str] = {}
    for label, count, period_of in (("daily tier", policy.daily, _day),
                                    ("weekly tier", policy.weekly, _iso_week),
                                    ("fortnightly tier", policy.fortnightly, _half_month),
                                    ("monthly tier", policy.monthly, _month)):
        for backup, period in _newest_per_period(verified, count, period_of):
            picks.setdefault(backup, f"{label}: {period}")
    return picks


def _verdict(backup: BackupSet, policy: RetentionPolicy, now: datetime, horizon: datetime,
             newest_verified: BackupSet | None, tiers: dict[BackupSet, str]) -> Verdict:
    """Judge one set by the rules in order: clock skew, newest verified, age, tiers, else delete."""
    taken = _utc(backup.taken_at)
    if taken > now:
        return Kept(backup, "taken after now (clock skew?)")
    if backup == newest_verified:
        return Kept(backup, "newest verified backup")
    if taken >= horizon:
        return Kept(backup, f"within {policy.keep_days} days")
    if backup in tiers:
        return Kept(backup, tiers[backup])
    state = "" if backup.verified else "unverified and "
    return Deleted(backup, f"{state}older than {policy.keep_days} days (taken {_stamp(taken)})")


def _floor(keep: list[Verdict], delete: list[Verdict], min_sets: int) -> tuple[list[Verdict], list[Verdict]]:
    """Move the newest verified deletions to keep until min_sets verified sets are kept."""
    short = min_sets - sum(1 for v in keep if v.set.verified)
    if short <= 0:
        return keep, delete
    rescued = [v.set for v in delete if v.set.verified][:short]
    keep = keep + [Kept(s, f"minimum-redundancy floor: min_sets = {min_sets}") for s in rescued]
    return (sorted(keep, key=lambda v: (_utc(v.set.taken_at), v.set.name), reverse=True),
            [v for v in delete if v.set not in rescued])


def decide(sets: list[BackupSet], policy: RetentionPolicy, now: datetime, min_sets: int = 0) -> RetentionDecision:
    """Split sets into keep and delete with reasons, never keeping fewer than min_sets verified sets
    while more exist; refuses to delete every set or every verified one."""
    policy.validate()
    now = _utc(now)
    ordered = _newest_first(sets)
    # Future-dated sets are kept by rule 6 anyway; a wrong clock must not cost the newest real one.
    newest_verified = next((s for s in ordered if s.verified and _utc(s.taken_at) <= now), None)
    tiers = tier_picks(ordered, policy, now)
    horizon = now - timedelta(days=policy.keep_days)
    verdicts = [_verdict(s, policy, now, horizon, newest_verified, tiers) for s in ordered]
    keep, delete = _floor([v for v in verdicts if isinstance(v, Kept)],
                          [v for v in verdicts if isinstance(v, Deleted)], min_sets)
    keep, delete = tuple(keep), tuple(delete)
    # Rule 3 should make both refusals unreachable with verified sets; they guard against a bad clock or a bug.
    if delete and not keep:
        raise UnsafeOperation(
            f"retention would delete every backup ({len(delete)} sets); refusing to do so, "
            "please check the policy and the clock"
        )
    if delete and not any(v.set.verified for v in keep):
        raise UnsafeOperation(
            f"retention would delete {len(delete)} sets and no verified backup would remain; "
            "refusing to delete anything until a backup verifies"
        )
    return RetentionDecision(keep, delete)


def expected_listing(decision: RetentionDecision) -> set[str]:
    """Return the set names that must remain after pruning."""
    return {v.set.name for v in decision.keep}


def check_cap(decision: RetentionDecision, where: str, max_deletions: int, allowed: bool) -> None:
    """Refuse a run that would delete more sets than [retention] max_deletions_per_run unless the operator
    said --allow-mass-prune: a typo in a policy must not shrink the history in one night."""
    if len(decision.delete) > max_deletions and not allowed:
        raise UnsafeOperation(
            f"not pruning {where}: retention would delete {len(decision.delete)} sets, more than [retention] "
            f"max_deletions_per_run = {max_deletions} (oldest {_stamp(decision.delete[-1].set.taken_at)}). "
            "Check the policy ([backup]/[offsite] keep_days and tiers) and the clock; if the deletions are "
            "intended, run the backup once with --allow-mass-prune (or raise max_deletions_per_run). "
            "Nothing was deleted")
