from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from procedures.errors import ConfigError, UnsafeOperation
from procedures.backup.retention import (Deleted, Kept, RetentionDecision, RetentionPolicy, decide,
                                         expected_listing, local_policy, remote_policy)
from procedures.sets.sets import BackupSet

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 24, 2, 30, tzinfo=timezone.utc)  # a Tuesday, ISO week 2026-W48
UTC = timezone.utc


def nightly(days: int, *, verified: bool = True, now: datetime = NOW) -> list[BackupSet]:
    return [BackupSet(f"demo_zenops_{i:03d}", now - timedelta(days=i), verified) for i in range(days)]


def days_ago(name: str, days: float, verified: bool = True, now: datetime = NOW) -> BackupSet:
    return BackupSet(name, now - timedelta(days=days), verified)


def reasons(decision: RetentionDecision) -> dict[str, str]:
    return {v.set.name: v.reason for v in (*decision.keep, *decision.delete)}


# Rule 1: within keep_days.

def test_local_default_keeps_14_days_of_nightlies():
    decision = decide(nightly(20), local_policy(), NOW)
    assert expected_listing(decision) == {f"demo_zenops_{i:03d}" for i in range(15)}  # days 0..14 inclusive
    assert [v.set.name for v in decision.delete] == [f"demo_zenops_{i:03d}" for i in range(15, 20)]
    assert decision.delete[0].reason == "older than 14 days (taken 2026-11-09T02:30:00Z)"
    assert reasons(decision)["demo_zenops_001"] == "within 14 days"


def test_remote_default_keeps_30_days():
    decision = decide(nightly(40), remote_policy(), NOW)
    assert expected_listing(decision) == {f"demo_zenops_{i:03d}" for i in range(31)}
    assert len(decision.delete) == 9 and reasons(decision)["demo_zenops_030"] == "within 30 days"


@pytest.mark.parametrize("policy", [local_policy(), remote_policy(), local_policy(30), remote_policy(1)])
def test_boundary_exactly_keep_days_is_kept_and_a_second_more_is_not(policy):
    edge = days_ago("demo_zenops_edge", policy.keep_days)
    older = BackupSet("demo_zenops_older", edge.taken_at - timedelta(seconds=1), True)
    decision = decide([edge, older, *nightly(1)], policy, NOW)
    assert reasons(decision)["demo_zenops_edge"] == f"within {policy.keep_days} days"
    assert reasons(decision)["demo_zenops_older"].startswith(f"older than {policy.keep_days} days")


# Rule 2: tiers (seed 001's rotation: daily=2, weekly=1 locally / 4 offsite, monthly=3).

def test_seed_001_local_tiers_keep_month_ends_beyond_14_days():
    decision = decide(nightly(120), local_policy(14, daily=2, weekly=1, monthly=3), NOW)
    # November's pick is today's set; October's newest is the 31st (day 24), September's the 30th (day 55).
    assert expected_listing(decision) == {f"demo_zenops_{i:03d}" for i in (*range(15), 24, 55)}
    assert reasons(decision)["demo_zenops_024"] == "monthly tier: 2026-10"
    assert reasons(decision)["demo_zenops_055"] == "monthly tier: 2026-09"
    assert reasons(decision)["demo_zenops_085"].startswith("older than 14 days")
    assert len(decision.delete) == 120 - 17


def test_seed_001_remote_tiers():
    decision = decide(nightly(120), remote_policy(30, daily=2, weekly=4, monthly=3), NOW)
    assert expected_listing(decision) == {f"demo_zenops_{i:03d}" for i in (*range(31), 55)}
    assert reasons(decision)["demo_zenops_055"] == "monthly tier: 2026-09"


def test_weekly_tier_keeps_an_older_week():
    decision = decide(nightly(120), local_policy(14, weekly=4, monthly=3), NOW)
    weekly = {n: r for n, r in reasons(decision).items() if r.startswith("weekly tier")}
    # Weeks 48, 47 and 46 have their newest nightly inside 14 days; week 45's (Sunday 8th, day 16) is a pick.
    assert weekly == {"demo_zenops_016": "weekly tier: 2026-W45"}


def test_daily_tier_counts_distinct_utc_days_beyond_keep_days():
    sets = [days_ago("demo_zenops_d20_late", 20), days_ago("demo_zenops_d20_early", 20.0625),  # same UTC day
            days_ago("demo_zenops_d25", 25), days_ago("demo_zenops_d30", 30)]
    decision = decide(sets, local_policy(14, daily=2), NOW)
    assert reasons(decision) == {
        "demo_zenops_d20_late": "newest verified backup",
        "demo_zenops_d25": "daily tier: 2026-10-30",
        "demo_zenops_d20_early": "older than 14 days (taken 2026-11-04T01:00:00Z)",
        "demo_zenops_d30": "older than 14 days (taken 2026-10-25T02:30:00Z)",
    }


def test_daily_tier_with_two_sets_a_day():
    two_a_day = [BackupSet(f"demo_zenops_{d}_{h}", NOW - timedelta(days=d, hours=h), True)
                 for d in range(40) for h in (0, 12)]
    decision = decide(two_a_day, remote_policy(5, daily=10), NOW)
    # The h=12 sets fall at 14:30 on the previous UTC day, so each day's newest is an h=12 set; the
    # 10 latest days run 24th..15th, and those before the horizon (19th 02:30) are the 18th..15th.
    daily = {n: r for n, r in reasons(decision).items() if r.startswith("daily tier")}
    assert daily == {"demo_zenops_5_12": "daily tier: 2026-11-18", "demo_zenops_6_12": "daily tier: 2026-11-17",
                     "demo_zenops_7_12": "daily tier: 2026-11-16", "demo_zenops_8_12": "daily tier: 2026-11-15"}


def test_iso_weeks_cross_the_year_boundary():
    now = datetime(2026, 1, 20, 12, tzinfo=UTC)
    sets = [BackupSet("a", datetime(2026, 1, 19, tzinfo=UTC), True),
            BackupSet("b", datetime(2025, 12, 31, 12, tzinfo=UTC), True),  # a Wednesday in 2026-W01
            BackupSet("c", datetime(2025, 12, 28, tzinfo=UTC), True),      # a Sunday in 2025-W52
            BackupSet("d", datetime(2025, 12, 20, tzinfo=UTC), True)]
    decision = decide(sets, local_policy(14, weekly=3), now)
    assert reasons(decision)["b"] == "weekly tier: 2026-W01"
    assert reasons(decision)["c"] == "weekly tier: 2025-W52"
    assert [v.set.name for v in decision.delete] == ["d"]


def test_periods_are_utc_whatever_the_sets_timezone():
    now = datetime(2027, 1, 20, tzinfo=UTC)
    new_york = timezone(timedelta(hours=-5))
    sets = [BackupSet("jan", datetime(2027, 1, 10, tzinfo=UTC), True),
            BackupSet("nov", datetime(2026, 10, 31, 23, 30, tzinfo=new_york), True),  # 1 Nov 04:30 UTC
            BackupSet("oct", datetime(2026, 10, 20, tzinfo=UTC), True),
            BackupSet("sep", datetime(2026, 9, 1, 1, tzinfo=timezone(timedelta(hours=2))), True)]
    decision = decide(sets, local_policy(14, monthly=3), now)
    assert reasons(decision) == {
        "jan": "newest verified backup", "nov": "monthly tier: 2026-11", "oct": "monthly tier: 2026-10",
        "sep": "older than 14 days (taken 2026-08-31T23:00:00Z)",
    }


# Rule 3: the newest verified set is kept whatever its age.

def test_newest_verified_is_kept_whatever_its_age():
    old = [days_ago("demo_zenops_old", 90), days_ago("demo_zenops_older", 120)]
    decision = decide(old, local_policy(), NOW)
    assert decision.keep == (Kept(old[0], "newest verified backup"),)
    assert decision.delete == (Deleted(old[1], "older than 14 days (taken 2026-07-27T02:30:00Z)"),)


# Rule 4: unverified sets never count toward tiers nor keep anything else.

def test_unverified_sets_never_count_as_the_newest_verified():
    sets = [days_ago("demo_zenops_bad", 40, verified=False), days_ago("demo_zenops_good", 50)]
    decision = decide(sets, local_policy(), NOW)
    assert expected_listing(decision) == {"demo_zenops_good"}
    assert decision.delete[0].reason == "unverified and older than 14 days (taken 2026-10-15T02:30:00Z)"


def test_unverified_sets_are_kept_only_within_keep_days():
    sets = [days_ago("fresh_bad", 0, verified=False), days_ago("old_good", 30)]
    decision = decide(sets, local_policy(), NOW)
    assert reasons(decision) == {"fresh_bad": "within 14 days", "old_good": "newest verified backup"}


def test_a_month_with_only_unverified_sets_does_not_count_as_a_tier_period():
    sets = [days_ago("nov", 0), days_ago("oct_bad", 40, verified=False),
            days_ago("sep", 70), days_ago("aug", 100)]
    decision = decide(sets, local_policy(14, monthly=2), NOW)
    assert reasons(decision)["sep"] == "monthly tier: 2026-09"
    assert reasons(decision)["oct_bad"].startswith("unverified and older than 14 days")
    assert [v.set.name for v in decision.delete] == ["oct_bad", "aug"]


def test_a_newer_unverified_set_does_not_take_its_months_tier_pick():
    sets = [days_ago("nov", 0), days_ago("oct_bad", 24, verified=False), days_ago("oct_good", 30)]
    decision = decide(sets, local_policy(14, monthly=2), NOW)
    assert reasons(decision)["oct_good"] == "monthly tier: 2026-10"
    assert [v.set.name for v in decision.delete] == ["oct_bad"]


# Rule 5: refusals.

def test_refuses_to_delete_everything():
    sets = [days_ago("demo_zenops_a", 60, verified=False), days_ago("demo_zenops_b", 61, verified=False)]
    with pytest.raises(UnsafeOperation, match=r"retention would delete every backup \(2 sets\); refusing to do so"):
        decide(sets, local_policy(), NOW)


def test_refuses_to_leave_no_verified_backup():
    sets = [days_ago("demo_zenops_recent_bad", 1, verified=False), days_ago("demo_zenops_old_bad", 60, verified=False)]
    with pytest.raises(UnsafeOperation, match="no verified backup would remain"):
        decide(sets, local_policy(), NOW)


def test_unverified_sets_within_keep_days_are_simply_kept():
    decision = decide(nightly(3, verified=False), local_policy(), NOW)
    assert len(decision.keep) == 3 and decision.delete == ()


def test_nothing_in_nothing_out():
    assert decide([], local_policy(), NOW) == RetentionDecision((), ())


# Rule 6: clock skew.

def test_future_sets_are_kept_as_clock_skew():
    future = [days_ago("future_good", -0.1), days_ago("future_bad", -3, verified=False)]
    decision = decide([*future, *nightly(1)], local_policy(), NOW)
    assert reasons(decision)["future_good"] == reasons(decision)["future_bad"] == "taken after now (clock skew?)"


def test_a_future_set_neither_fills_a_tier_nor_displaces_the_newest_real_backup():
    sets = [days_ago("future", -0.05), days_ago("d20", 20), days_ago("d21", 21), days_ago("d22", 22)]
    decision = decide(sets, local_policy(14, daily=2), NOW)
    assert reasons(decision) == {
        "future": "taken after now (clock skew?)", "d20": "newest verified backup",
        "d21": "daily tier: 2026-11-03", "d22": "older than 14 days (taken 2026-11-02T02:30:00Z)",
    }


# Rule 7: deterministic order.

def test_keep_and_delete_are_newest_first_whatever_the_input_order():
    sets = [*nightly(20), days_ago("tie_b", 18), days_ago("tie_a", 18)]
    forward, backward = decide(sets, local_policy(), NOW), decide(sets[::-1], local_policy(), NOW)
    assert forward == backward
    for verdicts in (forward.keep, forward.delete):
        times = [v.set.taken_at for v in verdicts]
        assert times == sorted(times, reverse=True)
    assert [v.set.name for v in forward.delete][:4] == ["demo_zenops_015", "demo_zenops_016", "demo_zenops_017",
                                                        "tie_b"]


# Inputs and settings.

def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="naive"):
        decide(nightly(2), local_policy(), NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="naive"):
        decide([BackupSet("naive", datetime(2026, 11, 1), True)], local_policy(), NOW)


@pytest.mark.parametrize("days", [13, 31, 0, -14])
def test_local_keep_days_outside_14_to_30_is_refused(days):
    with pytest.raises(ConfigError, match=rf"\[backup\] local_keep_days = {days}: keep 14 to 30 days"):
        local_policy(days)


@pytest.mark.parametrize("days", [14, 30])
def test_local_keep_days_range_is_inclusive(days):
    assert local_policy(days) == RetentionPolicy(days)


def test_defaults_follow_the_brief():
    assert local_policy() == RetentionPolicy(14) and remote_policy() == RetentionPolicy(30)


@pytest.mark.parametrize("build, message", [
    (lambda: remote_policy(0), r"\[offsite\] keep_days = 0: must be at least 1"),
    (lambda: remote_policy(30, weekly=-1), r"\[offsite\] weekly = -1: .*0 or more"),
    (lambda: local_policy(14, daily=-1), r"\[backup\] daily = -1: .*0 or more"),
    (lambda: local_policy(14, monthly=-2), r"\[backup\] monthly = -2: .*0 or more"),
    (lambda: decide([], RetentionPolicy(0), NOW), "keep_days = 0"),
    (lambda: decide([], RetentionPolicy(14, weekly=-1), NOW), "weekly = -1"),
])
def test_bad_policies_are_refused(build, message):
    with pytest.raises(ConfigError, match=message):
        build()


def test_policy_describes_itself():
    assert local_policy(14, weekly=4).describe() == "keep 14 days + tiers: 4 weekly"
    assert remote_policy().describe() == "keep 30 days"


def test_policies_and_decisions_are_frozen():
    with pytest.raises(AttributeError):
        local_policy().keep_days = 1  # type: ignore[misc]
    with pytest.raises(AttributeError):
        decide(nightly(1), local_policy(), NOW).keep = ()  # type: ignore[misc]


# Properties over random sets and valid policies.

def _period_keys(moment: datetime) -> dict[str, str]:
    utc = moment.astimezone(UTC)
    iso = utc.isocalendar()
    return {"daily": utc.date().isoformat(), "weekly": f"{iso.year}-W{iso.week:02d}", "monthly": f"{utc:%Y-%m}"}


def oracle_tier_picks(sets: list[BackupSet], policy: RetentionPolicy, now: datetime) -> set[str]:
    """The tier picks computed independently: newest verified set of each of the N latest periods."""
    picks = set()
    for tier, count in (("daily", policy.daily), ("weekly", policy.weekly), ("monthly", policy.monthly)):
        newest: dict[str, BackupSet] = {}
        for s in sets:
            if s.verified and s.taken_at <= now:
                key = _period_keys(s.taken_at)[tier]
                if key not in newest or (s.taken_at, s.name) > (newest[key].taken_at, newest[key].name):
                    newest[key] = s
        latest = sorted(newest.values(), key=lambda s: (s.taken_at, s.name), reverse=True)[:count]
        picks |= {s.name for s in latest}
    return picks


tiers = st.integers(0, 12)
policies = st.one_of(
    st.builds(local_policy, st.integers(14, 30), daily=tiers, weekly=tiers, monthly=tiers),
    st.builds(remote_policy, st.integers(1, 60), daily=tiers, weekly=tiers, monthly=tiers),
)


def backup_sets(min_age: timedelta = timedelta(0)) -> st.SearchStrategy[list[BackupSet]]:
    ages = st.timedeltas(min_value=min_age, max_value=timedelta(days=400)).map(
        lambda age: age - timedelta(microseconds=age.microseconds))
    offsets = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9, minutes=30))])
    one = st.builds(lambda age, verified, i, tz: BackupSet(f"demo_zenops_{i}", (NOW - age).astimezone(tz), verified),
                    ages, st.booleans(), st.integers(0, 10**9), offsets)
    return st.lists(one, max_size=60, unique_by=lambda s: s.name)


def check_decision(sets: list[BackupSet], policy: RetentionPolicy) -> None:
    try:
        decision = decide(sets, policy, NOW)
    except UnsafeOperation:
        assert not any(s.verified for s in sets), "refused although a verified backup exists"
        return
    keep = [v.set for v in decision.keep]
    delete = [v.set for v in decision.delete]
    names = {s.name for s in keep}
    assert sorted(keep + delete, key=id) == sorted(sets, key=id) and not names & {s.name for s in delete}
    verified = [s for s in sets if s.verified and s.taken_at <= NOW]
    if verified:
        assert max(verified, key=lambda s: (s.taken_at, s.name)).name in names
    horizon = NOW - timedelta(days=policy.keep_days)
    picks = oracle_tier_picks(sets, policy, NOW)
    for s in delete:
        assert s.taken_at < horizon, "deleted a set within keep_days"
        assert s.name not in picks, "deleted a tier pick"
    for s in keep:
        if not s.verified:
            assert s.taken_at >= horizon, "kept an old unverified set"
    for verdicts in (decision.keep, decision.delete):
        times = [v.set.taken_at for v in verdicts]
        assert times == sorted(times, reverse=True)
    if sets:
        assert keep, "never deletes everything"
        assert any(s.verified for s in keep) or not delete, "deleted while no verified backup remains"
    again = decide(keep, policy, NOW)
    assert not again.delete, "pruning twice must delete nothing more"


@settings(max_examples=400, deadline=None)
@given(backup_sets(), policies)
def test_decision_properties(sets, policy):
    check_decision(sets, policy)


@settings(max_examples=200, deadline=None)
@given(backup_sets(min_age=-timedelta(days=3)), policies)
def test_decision_properties_with_clock_skew(sets, policy):
    check_decision(sets, policy)
    if any(s.verified for s in sets):
        kept = expected_listing(decide(sets, policy, NOW))
        assert {s.name for s in sets if s.taken_at > NOW} <= kept


@settings(max_examples=200, deadline=None)
@given(backup_sets(), policies)
def test_verified_input_is_never_refused(sets, policy):
    if any(s.verified for s in sets):
        decide(sets, policy, NOW)


def test_fortnightly_tier_keeps_the_newest_set_of_each_half_month():
    """Seed 001's FORTNIGHT_DAYS=1,15: the 1st-14th and the 15th-end are the periods."""
    sets = nightly(90)
    decision = decide(sets, RetentionPolicy(7, fortnightly=4), NOW)
    picked = {v.set.name: v.reason for v in decision.keep if v.reason.startswith("fortnightly")}
    # Newest of 2026-11b is inside the window already; then 2026-11a (the 14th), 2026-10b (the 31st), 2026-10a.
    assert picked == {"demo_zenops_010": "fortnightly tier: 2026-11a", "demo_zenops_024": "fortnightly tier: 2026-10b",
                      "demo_zenops_041": "fortnightly tier: 2026-10a"}


def test_shipped_defaults_keep_seed_001s_tiers_and_older_generations_offsite():
    from procedures.config import BackupConfig, OffsiteConfig
    local, offsite = BackupConfig(), OffsiteConfig()
    assert (local.daily, local.weekly, local.fortnightly, local.monthly) == (2, 1, 1, 1)
    assert (offsite.daily, offsite.weekly, offsite.fortnightly, offsite.monthly) == (2, 4, 2, 12)
    assert offsite.plaintext is False
    year = [BackupSet(f"n{i:03d}", NOW - timedelta(days=i), True) for i in range(365)]
    kept = decide(year, remote_policy(offsite.keep_days, daily=offsite.daily, weekly=offsite.weekly,
                                      fortnightly=offsite.fortnightly, monthly=offsite.monthly), NOW).keep
    oldest = max(NOW - v.set.taken_at for v in kept)
    assert oldest > timedelta(days=300), "generations far older than the 30-day window remain"
