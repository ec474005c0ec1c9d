from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from procedures import retention
from procedures.errors import ConfigError, UnsafeOperation
from procedures.retention import BackupSet, decide, expected_listing, local_policy, remote_policy

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 24, 2, 30, tzinfo=timezone.utc)


def nightly(days: int, *, verified=True, now=NOW) -> list[BackupSet]:
    return [BackupSet(f"demo_zenops_{i:03d}", now - timedelta(days=i), verified) for i in range(days)]


def kept(decision) -> set[str]:
    return expected_listing(decision)


def test_local_default_keeps_14_days_of_nightlies():
    decision = decide(nightly(20), local_policy(), NOW)
    assert kept(decision) == {f"demo_zenops_{i:03d}" for i in range(15)}  # day 0..14 inclusive
    assert [v.set.name for v in decision.delete] == [f"demo_zenops_{i:03d}" for i in range(15, 20)]
    assert decision.delete[0].reason.startswith("older than 14 days (taken 2026-11-09T02:30:00Z)")


def test_remote_default_keeps_30_days():
    decision = decide(nightly(40), remote_policy(), NOW)
    assert len(decision.keep) == 31 and len(decision.delete) == 9


def test_boundary_exactly_keep_days_is_kept():
    edge = BackupSet("demo_zenops_edge", NOW - timedelta(days=14), True)
    older = BackupSet("demo_zenops_older", NOW - timedelta(days=14, seconds=1), True)
    decision = decide([edge, older, *nightly(1)], local_policy(), NOW)
    assert "demo_zenops_edge" in kept(decision) and "demo_zenops_older" not in kept(decision)


def test_newest_verified_is_kept_whatever_its_age():
    old = [BackupSet("demo_zenops_old", NOW - timedelta(days=90), True),
           BackupSet("demo_zenops_older", NOW - timedelta(days=120), True)]
    decision = decide(old, local_policy(), NOW)
    assert kept(decision) == {"demo_zenops_old"}
    assert decision.keep[0].reason == "newest verified backup"


def test_unverified_sets_never_count_as_the_newest_verified():
    sets = [BackupSet("demo_zenops_bad", NOW - timedelta(days=40), False),
            BackupSet("demo_zenops_good", NOW - timedelta(days=50), True)]
    decision = decide(sets, local_policy(), NOW)
    assert kept(decision) == {"demo_zenops_good"}
    assert decision.delete[0].reason.startswith("unverified and older")


def test_refuses_to_leave_no_verified_backup():
    sets = [BackupSet("demo_zenops_recent_bad", NOW - timedelta(days=1), False),
            BackupSet("demo_zenops_old_bad", NOW - timedelta(days=60), False)]
    with pytest.raises(UnsafeOperation, match="no verified backup"):
        decide(sets, local_policy(), NOW)


def test_refuses_to_delete_everything():
    sets = [BackupSet("demo_zenops_a", NOW - timedelta(days=60), False)]
    with pytest.raises(UnsafeOperation, match="refusing to do so"):
        decide(sets, local_policy(), NOW)


def test_future_sets_are_kept_as_clock_skew():
    future = BackupSet("demo_zenops_future", NOW + timedelta(hours=3), True)
    decision = decide([future, *nightly(1)], local_policy(), NOW)
    assert {v.reason for v in decision.keep} >= {"taken after now (clock skew?)"}


def test_tiers_keep_older_weekly_and_monthly_picks():
    decision = decide(nightly(120), local_policy(14, weekly=4, monthly=3), NOW)
    reasons = {v.set.name: v.reason for v in decision.keep}
    weekly = [n for n, r in reasons.items() if r.startswith("weekly tier")]
    monthly = [n for n, r in reasons.items() if r.startswith("monthly tier")]
    # Weeks 48, 47 and 46 have their newest nightly inside 14 days; week 45's (day 16) is a tier pick.
    assert weekly == ["demo_zenops_016"] and reasons["demo_zenops_016"] == "weekly tier: 2026-W45"
    # November's pick is the newest backup itself; October (day 24) and September (day 55) are tiers.
    assert sorted(monthly) == ["demo_zenops_024", "demo_zenops_055"]
    assert "monthly tier: 2026-09" in reasons.values() and "monthly tier: 2026-10" in reasons.values()


def test_daily_tier_counts_distinct_days():
    two_a_day = [BackupSet(f"demo_zenops_{d}_{h}", NOW - timedelta(days=d, hours=h), True)
                 for d in range(40) for h in (0, 12)]
    decision = decide(two_a_day, remote_policy(5, daily=10), NOW)
    assert len([v for v in decision.keep if v.reason.startswith("daily tier")]) == 4  # days 6..9


@pytest.mark.parametrize("days", [13, 31, 0])
def test_local_keep_days_outside_14_to_30_is_refused(days):
    with pytest.raises(ConfigError, match="keep 14 to 30 days"):
        local_policy(days)


def test_bad_remote_policy_is_refused():
    with pytest.raises(ConfigError, match="at least 1"):
        remote_policy(0)
    with pytest.raises(ConfigError, match="0 or more"):
        remote_policy(30, weekly=-1)


def test_policy_describes_itself():
    assert local_policy(14, weekly=4).describe() == "keep 14 days + tiers: 4 weekly"


backup_sets = st.lists(
    st.builds(lambda age, verified, i: BackupSet(f"demo_zenops_{i}", NOW - timedelta(minutes=age), verified),
              st.integers(0, 400 * 24 * 60), st.booleans(), st.integers(0, 10**9)),
    max_size=60, unique_by=lambda s: s.name,
)
policies = st.builds(retention.RetentionPolicy, st.integers(1, 60), st.integers(0, 10),
                     st.integers(0, 10), st.integers(0, 10))


@settings(max_examples=300, deadline=None)
@given(backup_sets, policies)
def test_decision_properties(sets, policy):
    try:
        decision = decide(sets, policy, NOW)
    except UnsafeOperation:
        assert not any(s.verified for s in sets), "refused although a verified backup exists"
        return
    keep = {v.set.name for v in decision.keep}
    delete = {v.set.name for v in decision.delete}
    assert keep | delete == {s.name for s in sets} and not keep & delete
    verified = sorted((s for s in sets if s.verified), key=lambda s: (s.taken_at, s.name))
    if verified:
        assert verified[-1].name in keep
    horizon = NOW - timedelta(days=policy.keep_days)
    for verdict in decision.delete:
        assert verdict.set.taken_at < horizon
    if sets:
        assert keep, "never deletes everything"
    again = decide([v.set for v in decision.keep], policy, NOW)
    assert not again.delete, "pruning twice must delete nothing more"
