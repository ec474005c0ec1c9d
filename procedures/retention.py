"""Which backup sets to keep: a pure decision over names and times, refusing to delete everything.

Kept: every set within keep_days, the newest verified set whatever its age, and the newest
verified set of each of the latest `daily` days, `weekly` ISO weeks and `monthly` months.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import ConfigError, UnsafeOperation

LOCAL_KEEP_RANGE = (14, 30)


@dataclass(frozen=True)
class RetentionPolicy:
    keep_days: int
    daily: int = 0
    weekly: int = 0
    monthly: int = 0

    def describe(self) -> str:
        tiers = [f"{n} {name}" for name, n in (("daily", self.daily), ("weekly", self.weekly),
                                                ("monthly", self.monthly)) if n]
        return f"keep {self.keep_days} days" + (f" + tiers: {', '.join(tiers)}" if tiers else "")


def _check_tiers(where: str, daily: int, weekly: int, monthly: int) -> None:
    for name, value in (("daily", daily), ("weekly", weekly), ("monthly", monthly)):
        if value < 0:
            raise ConfigError(f"[{where}] {name} = {value}: tiers count periods and must be 0 or more")


def local_policy(keep_days: int = 14, *, daily: int = 0, weekly: int = 0, monthly: int = 0) -> RetentionPolicy:
    """Local retention: 14 to 30 days (default 14), optional tiers."""
    low, high = LOCAL_KEEP_RANGE
    if not low <= keep_days <= high:
        raise ConfigError(f"[backup] local_keep_days = {keep_days}: keep {low} to {high} days locally")
    _check_tiers("backup", daily, weekly, monthly)
    return RetentionPolicy(keep_days, daily, weekly, monthly)


def remote_policy(keep_days: int = 30, *, daily: int = 0, weekly: int = 0, monthly: int = 0) -> RetentionPolicy:
    """Offsite retention: at least one day (default 30), optional tiers."""
    if keep_days < 1:
        raise ConfigError(f"[offsite] keep_days = {keep_days}: must be at least 1 (default 30)")
    _check_tiers("offsite", daily, weekly, monthly)
    return RetentionPolicy(keep_days, daily, weekly, monthly)


@dataclass(frozen=True)
class BackupSet:
    name: str
    taken_at: datetime
    verified: bool


@dataclass(frozen=True)
class Verdict:
    set: BackupSet
    reason: str


@dataclass(frozen=True)
class RetentionDecision:
    keep: tuple[Verdict, ...]
    delete: tuple[Verdict, ...]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _tier_picks(verified: list[BackupSet], policy: RetentionPolicy) -> dict[str, str]:
    """Newest verified set of each recent day/week/month -> why it is kept."""
    picks: dict[str, str] = {}
    periods = (
        ("daily tier", policy.daily, lambda t: t.strftime("%Y-%m-%d")),
        ("weekly tier", policy.weekly, lambda t: "%d-W%02d" % t.isocalendar()[:2]),
        ("monthly tier", policy.monthly, lambda t: t.strftime("%Y-%m")),
    )
    for label, count, period_of in periods:
        seen: list[str] = []
        for backup in verified:  # newest first, so the first of a period is its newest
            period = period_of(backup.taken_at)
            if period in seen:
                continue
            if len(seen) == count:
                break
            seen.append(period)
            picks.setdefault(backup.name, f"{label}: {period}")
    return picks


def decide(sets: list[BackupSet], policy: RetentionPolicy, now: datetime) -> RetentionDecision:
    """Split sets into keep and delete, each with a reason; refuses to leave no verified backup."""
    ordered = sorted(sets, key=lambda s: (s.taken_at, s.name), reverse=True)
    verified = [s for s in ordered if s.verified]
    newest_verified = verified[0].name if verified else None
    tiers = _tier_picks([s for s in verified if s.taken_at <= now], policy)
    horizon = now - timedelta(days=policy.keep_days)
    keep, delete = [], []
    for backup in ordered:
        if backup.taken_at > now:
            keep.append(Verdict(backup, "taken after now (clock skew?)"))
        elif backup.name == newest_verified:
            keep.append(Verdict(backup, "newest verified backup"))
        elif backup.taken_at >= horizon:
            keep.append(Verdict(backup, f"within {policy.keep_days} days"))
        elif backup.name in tiers:
            keep.append(Verdict(backup, tiers[backup.name]))
        else:
            state = "" if backup.verified else "unverified and "
            delete.append(Verdict(backup, f"{state}older than {policy.keep_days} days (taken {_stamp(backup.taken_at)})"))
    if delete and not keep:
        raise UnsafeOperation(
            f"retention would delete every backup ({len(delete)} sets); refusing to do so, "
            "please check the policy and the clock"
        )
    if delete and not any(v.set.verified for v in keep):
        raise UnsafeOperation(
            "retention would leave no verified backup; refusing to delete anything until a backup verifies"
        )
    return RetentionDecision(tuple(keep), tuple(delete))


def expected_listing(decision: RetentionDecision) -> set[str]:
    """The set names that must remain after pruning."""
    return {v.set.name for v in decision.keep}
