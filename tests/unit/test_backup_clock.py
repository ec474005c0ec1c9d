"""The clock check that guards retention: "now" against the newest earlier trusted backup."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from procedures.backup import clock
from procedures.backup.retention import decide, local_policy
from procedures.sets.names import Identity, set_name
from procedures.sets.sets import BackupSet

pytestmark = pytest.mark.unit
REAL_NOW = datetime(2026, 11, 27, 2, 30, tzinfo=timezone.utc)
GAP = timedelta(hours=48)
ID = Identity("zen", "prod", "zenops")


def nightly(count: int) -> list[BackupSet]:
    return [BackupSet(set_name(ID, REAL_NOW - timedelta(days=d)), REAL_NOW - timedelta(days=d), True)
            for d in range(1, count + 1)]


class ManifestShelf:
    """Stands in for the backup container's file reads: manifests by path (pure logic only)."""

    def __init__(self, verdicts: dict[str, str]):
        self.verdicts = verdicts

    def run(self, argv, **_):
        name = argv[-1].rsplit("/", 1)[-1].removesuffix(".manifest.json")
        return type("Done", (), {"stdout": json.dumps({"clock": self.verdicts.get(name, clock.AGREED)})})()


def test_a_clock_45_days_ahead_is_refused_before_retention_would_delete_the_history():
    history = nightly(30)
    ahead = REAL_NOW + timedelta(days=45)
    deleted = decide(history, local_policy(14), ahead).delete
    assert len(deleted) == 29, "what retention alone would do with the wrong clock"
    check = clock.judge(ahead, (history[0].name, history[0].taken_at), GAP, accepted=False)
    assert not check.trusted and "clock may be ahead" in check.reason and "--accept-clock" in check.reason


def test_a_normal_night_agrees():
    history = nightly(30)
    check = clock.judge(REAL_NOW, (history[0].name, history[0].taken_at), GAP, accepted=False)
    assert check.trusted and check.verdict == clock.AGREED


def test_a_clock_behind_the_last_backup_is_refused():
    history = nightly(3)
    check = clock.judge(REAL_NOW - timedelta(days=2), (history[0].name, history[0].taken_at), GAP, accepted=False)
    assert not check.trusted and "behind" in check.reason


def test_first_backup_and_an_accepted_pause_are_trusted():
    assert clock.judge(REAL_NOW, None, GAP, accepted=False).verdict == clock.FIRST
    history = nightly(3)
    later = REAL_NOW + timedelta(days=45)
    assert clock.judge(later, (history[0].name, history[0].taken_at), GAP, accepted=True).verdict == clock.ACCEPTED


def test_a_set_written_on_a_disagreeing_clock_is_never_the_reference():
    """Night two with the clock still 45 days ahead: night one's set (stamped ahead) must not make it agree."""
    history = nightly(30)
    night_one = BackupSet(set_name(ID, REAL_NOW + timedelta(days=45)), REAL_NOW + timedelta(days=45), True)
    shelf = ManifestShelf({night_one.name: clock.DISAGREED})
    reference = clock.newest_trusted(shelf, "/backups", [night_one, *history])
    assert reference == (history[0].name, history[0].taken_at)
    night_two = clock.judge(REAL_NOW + timedelta(days=46), reference, GAP, accepted=False)
    assert not night_two.trusted
